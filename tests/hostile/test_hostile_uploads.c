#define _GNU_SOURCE
/* test_hostile_uploads.c - request bodies under attack (issue 18): the server bounds the bytes
 * of bodies it holds at once and keeps large ones on disk, not in memory.
 * - a body over the spool threshold (raw, multipart, chunked) is spooled and gives the same
 *   result as the same request held in memory;
 * - bodies declared past --max-body-memory get 503 + Retry-After + the JSON error naming the
 *   option, at once when the client waits for 100-continue; a chunked body when it passes;
 * - spooled bodies past --max-upload-spool get the same 503 naming that option;
 * - nothing is left behind: no file in the upload folder at any time (anonymous files), and
 *   the server's descriptors return to their count after uploads that end in a refusal, a
 *   broken image or a client that goes away half-way;
 * - an upload folder that cannot be written stops the server at start with exit 1.
 * Runs test_hostile_uploads SERVER_CMD... */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vips/vips.h>

#include "../check.h"
#include "../serve/serve_test.h"
#include "hostile.h"

static void *g_noise; /* a 400x400 RGB PNG stored uncompressed: ~480 KB, over the 256 KB threshold */
static size_t g_noise_len;
static char g_spool[128];

static void make_noise(void)
{
    VipsImage *n = NULL, *j = NULL, *u = NULL;
    CHECK(vips_gaussnoise(&n, 400, 400, "mean", 128.0, "sigma", 40.0, NULL) == 0);
    VipsImage *three[3] = {n, n, n};
    CHECK(vips_bandjoin(three, &j, 3, NULL) == 0);
    CHECK(vips_cast(j, &u, VIPS_FORMAT_UCHAR, NULL) == 0);
    CHECK(vips_pngsave_buffer(u, &g_noise, &g_noise_len, "compression", 0, NULL) == 0);
    g_object_unref(u);
    g_object_unref(j);
    g_object_unref(n);
}

/* Headers of a raw POST to /v1/enhance?format=png (clen < 0: none). */
static size_t head(char *buf, size_t cap, const char *extra, long long clen)
{
    /* Connection: close, so reading until the server closes ends with the answer */
    size_t n = (size_t)snprintf(buf, cap,
                                "POST /v1/enhance?format=png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                "Content-Type: image/png\r\n%s",
                                extra ? extra : "");
    if (clen >= 0)
        n += (size_t)snprintf(buf + n, cap - n, "Content-Length: %lld\r\n", clen);
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    return n;
}

/* The body of a raw answer (after the blank line) and its length from Content-Length. */
static const char *raw_body(const char *a, size_t *len)
{
    const char *e = strstr(a, "\r\n\r\n"), *cl = strcasestr(a, "\r\nContent-Length:");
    *len = cl && e && cl < e ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
    return e ? e + 4 : "";
}

/* POSTs g_noise chunked (64 KB chunks) on a raw socket; the raw answer. */
static char *post_chunked(int port, const void *data, size_t len, double timeout)
{
    int fd = h_connect(port);
    char hdr[512], line[32];
    size_t n = head(hdr, sizeof hdr, "Transfer-Encoding: chunked\r\n", -1);
    h_send(fd, hdr, n);
    for (size_t off = 0; off < len; off += 65536) {
        size_t k = len - off < 65536 ? len - off : 65536;
        int m = snprintf(line, sizeof line, "%zx\r\n", k);
        if (h_send(fd, line, (size_t)m) || h_send(fd, (const char *)data + off, k) || h_send(fd, "\r\n", 2))
            break;
    }
    h_send(fd, "0\r\n\r\n", 5);
    int closed;
    char *a = h_read(fd, timeout, &closed, NULL);
    close(fd);
    return a;
}

/* The same request spooled (server a) and in memory (server b): the same bytes back. */
static void test_spooled_equals_memory(const test_server *a, const test_server *b)
{
    const char *png[] = {"Content-Type: image/png", NULL};
    http_resp ra, rb;
    http_do("POST", url(b, "/v1/enhance?format=png"), g_noise, g_noise_len, png, 60, &rb);
    CHECK_MSG(rb.status == 200, "in memory: %ld %.200s", rb.status, rb.body ? rb.body : "");
    http_do("POST", url(a, "/v1/enhance?format=png"), g_noise, g_noise_len, png, 60, &ra);
    CHECK_MSG(ra.status == 200 && ra.len == rb.len && !memcmp(ra.body, rb.body, rb.len), "spooled raw: %ld, %zu vs %zu bytes",
              ra.status, ra.len, rb.len);
    http_resp_free(&ra);

    /* multipart: the image part is copied out of the spooled body into a file of its own */
    const char *bnd = "hostileBoundary7";
    size_t cap = g_noise_len + 1024, n = 0;
    char *mp = malloc(cap);
    n += (size_t)snprintf(mp + n, cap - n,
                          "--%s\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"output\": {\"format\": "
                          "\"png\"}}\r\n--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"n.png\"\r\n"
                          "Content-Type: image/png\r\n\r\n",
                          bnd, bnd);
    memcpy(mp + n, g_noise, g_noise_len);
    n += g_noise_len;
    n += (size_t)snprintf(mp + n, cap - n, "\r\n--%s--\r\n", bnd);
    char ct[128];
    snprintf(ct, sizeof ct, "Content-Type: multipart/form-data; boundary=%s", bnd);
    const char *mh[] = {ct, NULL};
    http_do("POST", url(a, "/v1/enhance"), mp, n, mh, 60, &ra);
    CHECK_MSG(ra.status == 200 && ra.len == rb.len && !memcmp(ra.body, rb.body, rb.len), "spooled multipart: %ld %.200s",
              ra.status, ra.status == 200 ? "" : ra.body);
    http_resp_free(&ra);
    free(mp);

    /* chunked: in memory until it passes the threshold, then moved to the spool */
    char *ans = post_chunked(a->port, g_noise, g_noise_len, 60);
    size_t bl;
    const char *body = raw_body(ans, &bl);
    CHECK_MSG(h_status(ans) == 200 && bl == rb.len && !memcmp(body, rb.body, rb.len), "spooled chunked: %.200s", ans);
    free(ans);
    http_resp_free(&rb);
}

/* Connections that declare a body and send none of it: they hold budget, not memory. */
static int hog(int port, long long clen)
{
    char hdr[512];
    int fd = h_connect(port);
    if (fd >= 0)
        h_send(fd, hdr, head(hdr, sizeof hdr, NULL, clen));
    return fd;
}

static void test_admission(const test_server *a, int base_fds)
{
    /* 1 MiB of memory: five bodies of 200,000 bytes fit, a sixth does not */
    int hogs[8], nh = 0;
    for (int i = 0; i < 5; i++)
        hogs[nh++] = hog(a->port, 200000);
    sleep_ms(300);
    char req[512];
    size_t n = head(req, sizeof req, "Expect: 100-continue\r\n", 200000);
    int closed;
    double t;
    char *o = h_exchange(a->port, req, n, 5, &closed, &t);
    CHECK_MSG(h_status(o) == 503 && strcasestr(o, "Retry-After:") && strstr(o, "\"type\":\"unavailable\"") &&
                  strstr(o, "--max-body-memory"),
              "over the memory budget (100-continue): %.400s", o);
    CHECK_MSG(t < 2, "the 503 took %.2f s (before the body: at once)", t);
    free(o);
    /* the same without 100-continue: the body is read and dropped, then the same answer */
    char *body = calloc(1, 200000);
    n = head(req, sizeof req, NULL, 200000);
    int fd = h_connect(a->port);
    h_send(fd, req, n);
    h_send(fd, body, 200000);
    o = h_read(fd, 10, &closed, NULL);
    close(fd);
    CHECK_MSG(h_status(o) == 503 && strstr(o, "--max-body-memory"), "over the memory budget: %.300s", o);
    free(o);
    /* a chunked body is charged as it arrives */
    o = post_chunked(a->port, body, 100000, 10);
    CHECK_MSG(h_status(o) == 503 && strstr(o, "--max-body-memory"), "chunked over the memory budget: %.300s", o);
    free(o);
    free(body);
    for (int i = 0; i < nh; i++)
        close(hogs[i]);
    nh = 0;
    sleep_ms(300);
    http_resp r;
    const char *png[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(a, "/v1/enhance"), g_png, g_png_len, png, 30, &r);
    CHECK_MSG(r.status == 200, "after the hogs left: %ld", r.status);
    http_resp_free(&r);

    /* 3 MiB of spool: two bodies of 1.5 MB fill it; nothing is named in the folder */
    for (int i = 0; i < 2; i++)
        hogs[nh++] = hog(a->port, 1500000);
    sleep_ms(300);
    CHECK_MSG(h_dir_entries(g_spool) == 0, "%d files in the upload folder", h_dir_entries(g_spool));
    int held = h_fds_under(a->pid, g_spool);
    CHECK_MSG(held == 2, "%d files open in the upload folder with two spooled bodies held", held);
    o = h_exchange(a->port, req, head(req, sizeof req, "Expect: 100-continue\r\n", (long long)g_noise_len), 5, &closed,
                   &t);
    CHECK_MSG(h_status(o) == 503 && strstr(o, "--max-upload-spool"), "over the spool budget: %.300s", o);
    free(o);
    for (int i = 0; i < nh; i++)
        close(hogs[i]);
    nh = 0;

    /* a client that goes away half-way through a spooled body */
    fd = h_connect(a->port);
    h_send(fd, req, head(req, sizeof req, NULL, (long long)g_noise_len));
    h_send(fd, g_noise, g_noise_len / 2);
    sleep_ms(200);
    close(fd);
    /* a spooled body that is not an image after all */
    char *junk = malloc(g_noise_len);
    memcpy(junk, g_noise, g_noise_len);
    memset(junk + 8, 0x5a, g_noise_len - 8); /* the PNG signature, then garbage */
    http_do("POST", url(a, "/v1/enhance"), junk, g_noise_len, png, 30, &r);
    CHECK_MSG(r.status == 400, "a broken spooled PNG: %ld %.200s", r.status, r.body ? r.body : "");
    http_resp_free(&r);
    free(junk);
    double until = h_now() + 5;
    int now_fds = h_fd_count(a->pid);
    while ((now_fds > base_fds || h_fds_under(a->pid, g_spool)) && h_now() < until) {
        sleep_ms(100);
        now_fds = h_fd_count(a->pid);
    }
    CHECK_MSG(now_fds <= base_fds && h_fds_under(a->pid, g_spool) == 0,
              "descriptors after refusals, a broken image and a client gone: %d (base %d), %d in the upload folder",
              now_fds, base_fds, h_fds_under(a->pid, g_spool));
    CHECK(h_dir_entries(g_spool) == 0);
}

static void test_bad_upload_dir(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s --port 0 --upload-dir /nonexistent/hostile-spool 2>&1", g_cmd[0],
             g_cmd[1] ? g_cmd[1] : "");
    FILE *p = popen(cmd, "r");
    char out[2048] = "";
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 1 && strstr(out, "--upload-dir"), "status %d: %s", st, out);
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    char models[96];
    snprintf(models, sizeof models, "%s/models", g_tmp);
    snprintf(g_spool, sizeof g_spool, "%s/spool", g_tmp);
    CHECK(mkdir(models, 0700) == 0 && mkdir(g_spool, 0700) == 0);
    setenv("ENHANCE_MODELS_DIR", models, 1); /* no model to load: ready at once */
    make_noise();
    test_server a, b;
    const char *aa[] = {"--log-level", "warn", "--max-body", "4M", "--max-body-memory", "1M", "--spool-threshold",
                        "256K", "--upload-dir", g_spool, "--max-upload-spool", "3M", "--header-timeout", "20",
                        /* every client here is 127.0.0.1: the server-wide budgets, no per-address
                         * share (that is hostile.share) */
                        "--client-body-share", "1", NULL};
    const char *ba[] = {"--log-level", "warn", "--spool-threshold", "100M", NULL};
    if (test_server_start(&a, g_cmd, aa) || test_server_wait_ready(&a, 30) || test_server_start(&b, g_cmd, ba) ||
        test_server_wait_ready(&b, 30)) {
        CHECK_MSG(0, "the servers did not start");
    } else {
        http_resp r; /* one request first: the descriptors libvips keeps open after its first load */
        const char *png[] = {"Content-Type: image/png", NULL};
        http_do("POST", url(&a, "/v1/enhance"), g_png, g_png_len, png, 30, &r);
        http_resp_free(&r);
        sleep_ms(300);
        int base = h_fd_count(a.pid);
        test_spooled_equals_memory(&a, &b);
        test_admission(&a, base);
        test_bad_upload_dir();
        CHECK(test_server_wait_exit(&a, SIGTERM, 20) == 0);
        CHECK(test_server_wait_exit(&b, SIGTERM, 20) == 0);
    }
    g_free(g_noise);
    serve_test_teardown();
    CHECK_MAIN_END();
}
