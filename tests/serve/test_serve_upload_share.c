/* test_serve_upload_share.c - the per-address share of the body budgets (upload.h,
 * upload_client.h) in-process, without a server:
 * - an address's first body gets in whatever its size; a second past the share is ENH_EBUSY
 *   naming --client-body-share and the address, while another address gets in;
 * - a body growing (chunked) past the share is not refused while it is its address's only one;
 * - the multipart copy (serve_upload_spool_copy) is not refused by the share;
 * - an IPv4-mapped IPv6 peer is its IPv4 address; every charge returns on release, and the
 *   table is empty after (ASan: nothing leaked or used after free). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check.h"
#include "serve/upload.h"

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static void test_memory_share(serve_upload_budget *b)
{
    struct sockaddr_in one = v4("10.0.0.1"), two = v4("10.0.0.2");
    serve_upload a1, a2, a3, c1;
    enh_error err;
    serve_upload_init(&a1, b);
    serve_upload_set_client(&a1, (struct sockaddr *)&one);
    CHECK(serve_upload_begin(&a1, 600000, &err) == ENH_OK); /* first body: above the 256 KiB share */
    CHECK(serve_clients_count(b->clients) == 1);
    serve_upload_init(&a2, b);
    serve_upload_set_client(&a2, (struct sockaddr *)&one);
    CHECK(serve_upload_begin(&a2, 1000, &err) == ENH_EBUSY);
    CHECK_MSG(strstr(err.msg, "--client-body-share") && strstr(err.msg, "10.0.0.1") && strstr(err.msg, "in memory"),
              "%s", err.msg);
    CHECK(atomic_load(&b->refused[SERVE_REFUSED_CLIENT_MEMORY]) == 1);
    serve_upload_release(&a2);
    serve_upload_init(&c1, b);
    serve_upload_set_client(&c1, (struct sockaddr *)&two);
    CHECK(serve_upload_begin(&c1, 200000, &err) == ENH_OK); /* another address gets in */
    CHECK(atomic_load(&b->mem_used) == 800000);
    /* the server-wide budget (1 MiB) still holds: a third address cannot pass it */
    struct sockaddr_in three = v4("10.0.0.3");
    serve_upload_init(&a3, b);
    serve_upload_set_client(&a3, (struct sockaddr *)&three);
    CHECK(serve_upload_begin(&a3, 300000, &err) == ENH_EBUSY && strstr(err.msg, "--max-body-memory"));
    CHECK(atomic_load(&b->refused[SERVE_REFUSED_MEMORY]) == 1);
    serve_upload_release(&a3);
    serve_upload_release(&a1);
    serve_upload_release(&c1);
    CHECK(atomic_load(&b->mem_used) == 0 && serve_clients_count(b->clients) == 0);
}

static void test_chunked_growth(serve_upload_budget *b)
{
    /* one chunked body (no declared length) of 400 KB from one address: its only body, so the
     * share does not stop it as it grows */
    struct sockaddr_in one = v4("10.0.0.1");
    serve_upload u;
    enh_error err;
    serve_upload_init(&u, b);
    serve_upload_set_client(&u, (struct sockaddr *)&one);
    CHECK(serve_upload_begin(&u, 0, &err) == ENH_OK);
    char *piece = calloc(1, 50000);
    int ok = 1;
    for (int i = 0; i < 8 && ok; i++)
        ok = serve_upload_write(&u, piece, 50000, &err) == ENH_OK;
    CHECK_MSG(ok && u.len == 400000, "a growing body alone: %s", ok ? "" : err.msg);
    /* a second body from it now is past the share */
    serve_upload v;
    serve_upload_init(&v, b);
    serve_upload_set_client(&v, (struct sockaddr *)&one);
    CHECK(serve_upload_begin(&v, 0, &err) == ENH_OK);
    CHECK(serve_upload_write(&v, piece, 50000, &err) == ENH_EBUSY && strstr(err.msg, "--client-body-share"));
    serve_upload_release(&v);
    serve_upload_release(&u);
    free(piece);
    CHECK(atomic_load(&b->mem_used) == 0 && serve_clients_count(b->clients) == 0);
}

static void test_spool_copy_and_v4mapped(serve_upload_budget *b)
{
    /* the peer as an IPv4-mapped IPv6 address (a dual-stack listener) is 10.0.0.1 */
    struct sockaddr_in6 m;
    memset(&m, 0, sizeof m);
    m.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:10.0.0.1", &m.sin6_addr);
    struct sockaddr_in one = v4("10.0.0.1");
    serve_upload big, copy, other;
    enh_error err;
    serve_upload_init(&big, b);
    serve_upload_set_client(&big, (struct sockaddr *)&m);
    CHECK(serve_upload_begin(&big, 1500000, &err) == ENH_OK && serve_upload_spooled(&big));
    char *data = calloc(1, 1500000);
    CHECK(serve_upload_write(&big, data, 1500000, &err) == ENH_OK);
    /* the multipart image part copied out: the same request, not refused by the share */
    CHECK_MSG(serve_upload_spool_copy(&big, data, 1400000, &copy, &err) == ENH_OK, "%s", err.msg);
    CHECK(atomic_load(&b->spool_used) == 2900000);
    serve_upload_init(&other, b);
    serve_upload_set_client(&other, (struct sockaddr *)&one); /* the same address, as IPv4 */
    CHECK(serve_clients_count(b->clients) == 1);
    CHECK(serve_upload_begin(&other, 1200000, &err) == ENH_EBUSY && strstr(err.msg, "on disk") &&
          strstr(err.msg, "--client-body-share"));
    serve_upload_release(&other);
    serve_upload_release(&big);
    CHECK(serve_clients_count(b->clients) == 1); /* the copy still refers to it */
    serve_upload_release(&copy);
    free(data);
    CHECK(atomic_load(&b->spool_used) == 0 && serve_clients_count(b->clients) == 0);
}

int main(void)
{
    serve_upload_budget b;
    memset(&b, 0, sizeof b);
    b.mem_limit = 1u << 20;
    b.spool_limit = 4u << 20;
    b.spool_threshold = 1u << 20;
    b.client_share = 0.25;
    b.clients = serve_clients_create();
    char dir[] = "/tmp/enh-share-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(b.spool_dir, sizeof b.spool_dir, "%s", dir);
    CHECK(b.clients != NULL);
    test_memory_share(&b);
    test_chunked_growth(&b);
    test_spool_copy_and_v4mapped(&b);
    serve_clients_free(b.clients);
    rmdir(dir);
    CHECK_MAIN_END();
}
