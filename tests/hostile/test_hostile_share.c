#define _GNU_SOURCE
/* test_hostile_share.c - one client address gets only a share of the body budgets, and the
 * budgets in use show in /metrics (issue 18).
 * - 127.0.0.1 declares bodies and sends nothing (a slow uploader): its first body gets in
 *   whatever its size, the next one past its share (--client-body-share of --max-body-memory,
 *   of --max-upload-spool) is a 503 + Retry-After naming the option and the address, while
 *   127.0.0.2 still gets its bodies in and a real request from it completes;
 * - the gauges move with what is held (bodies in memory and on disk, addresses, connections
 *   on the main port) and return to 0 when the clients go; the limits are gauges too; the
 *   refusals are counted by budget; scraped on the probe port, so the scrape is not counted
 *   among the main port's connections;
 * - behind a trusted proxy (127.0.0.3) the clients it names in X-Forwarded-For have a share
 *   each, and an untrusted peer's X-Forwarded-For is ignored.
 * Runs test_hostile_share SERVER_CMD... */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "../serve/serve_test.h"
#include "hostile.h"

static test_server g_probe; /* the probe port, as a base URL for metric_value */

static double gauge(const char *line_prefix)
{
    char at_line_start[160]; /* not the name in its # HELP line */
    snprintf(at_line_start, sizeof at_line_start, "\n%s", line_prefix);
    double v = -1;
    if (!metric_value(&g_probe, at_line_start, &v))
        fprintf(stderr, "  no metric line '%s'\n", line_prefix);
    return v;
}

/* Waits up to 5 s for a gauge to read want (the server releases a body when it sees the
 * connection close). */
static double gauge_until(const char *line_prefix, double want)
{
    double v = gauge(line_prefix), until = h_now() + 5;
    while (v != want && h_now() < until) {
        sleep_ms(50);
        v = gauge(line_prefix);
    }
    return v;
}

/* Headers of a raw POST declaring clen bytes from src; extra: more header lines. */
static int post_head(const test_server *s, const char *src, long long clen, const char *extra)
{
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr,
                     "POST /v1/enhance?format=png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Type: image/png\r\n%sContent-Length: %lld\r\n\r\n",
                     extra ? extra : "", clen);
    int fd = h_connect_from(src, s->port);
    if (fd >= 0 && h_send(fd, hdr, (size_t)n)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A body declared and waited for with 100-continue: the raw answer (a 503 comes at once).
 * xff: an X-Forwarded-For value, or NULL. */
static char *ask_via(const test_server *s, const char *src, long long clen, const char *xff)
{
    char extra[200];
    snprintf(extra, sizeof extra, "Expect: 100-continue\r\n%s%s%s", xff ? "X-Forwarded-For: " : "", xff ? xff : "",
             xff ? "\r\n" : "");
    int fd = post_head(s, src, clen, extra);
    int closed;
    char *o = h_read(fd, 3, &closed, NULL);
    close(fd);
    return o;
}

static char *ask(const test_server *s, const char *src, long long clen) { return ask_via(s, src, clen, NULL); }

static void test_share(const test_server *s)
{
    CHECK_MSG(gauge("enhance_body_memory_limit_bytes ") == 1048576, "memory limit gauge");
    CHECK_MSG(gauge("enhance_upload_spool_limit_bytes ") == 4194304, "spool limit gauge");
    CHECK_MSG(gauge("enhance_body_client_limit_bytes{budget=\"memory\"} ") == 262144, "memory share gauge");
    CHECK_MSG(gauge("enhance_body_client_limit_bytes{budget=\"spool\"} ") == 1048576, "spool share gauge");
    CHECK_MSG(gauge("enhance_connections_limit{listener=\"main\"} ") > 0 &&
                  gauge("enhance_connections_limit{listener=\"probe\"} ") == 16,
              "connection limit gauges");
    CHECK_MSG(gauge_until("enhance_connections{listener=\"main\"} ", 0) == 0, "main connections at rest");
    CHECK(gauge("enhance_body_memory_bytes ") == 0 && gauge("enhance_upload_spool_bytes ") == 0);

    /* memory (1 MiB, a quarter per address): 127.0.0.1's first body is in, its second is not */
    int hog1 = post_head(s, "127.0.0.1", 200000, NULL);
    CHECK(hog1 >= 0);
    CHECK_MSG(gauge_until("enhance_body_memory_bytes ", 200000) == 200000, "memory gauge with one body held");
    CHECK(gauge("enhance_body_clients ") == 1);
    CHECK_MSG(gauge("enhance_connections{listener=\"main\"} ") >= 1, "main connections with a body held");
    char *o = ask(s, "127.0.0.1", 200000);
    CHECK_MSG(h_status(o) == 503 && strcasestr(o, "Retry-After:") && strstr(o, "--client-body-share") &&
                  strstr(o, "127.0.0.1") && strstr(o, "in memory") && strstr(o, "client_body_memory_limit_bytes"),
              "a second body from the same address: %.500s", o);
    free(o);
    /* 127.0.0.2 still gets in: a body held, and a real request completes */
    int hog2 = post_head(s, "127.0.0.2", 200000, NULL);
    CHECK_MSG(gauge_until("enhance_body_memory_bytes ", 400000) == 400000, "memory gauge with two bodies held");
    CHECK(gauge("enhance_body_clients ") == 2);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "POST /v1/enhance?format=png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Type: image/png\r\nContent-Length: %zu\r\n\r\n",
                     g_png_len);
    int fd = h_connect_from("127.0.0.2", s->port);
    h_send(fd, req, (size_t)n);
    h_send(fd, g_png, g_png_len);
    int closed;
    o = h_read(fd, 30, &closed, NULL);
    close(fd);
    CHECK_MSG(h_status(o) == 200, "a request from the other address: %.300s", o);
    free(o);

    /* behind a trusted proxy (--trusted-proxies 127.0.0.3) each client it names has its own
     * share; a peer that is not trusted cannot name another address to escape its own */
    o = ask_via(s, "127.0.0.1", 200000, "10.1.1.9");
    CHECK_MSG(h_status(o) == 503 && strstr(o, "your address 127.0.0.1 "), "X-Forwarded-For from an untrusted peer: %.400s",
              o);
    free(o);
    int px1 = post_head(s, "127.0.0.3", 200000, "X-Forwarded-For: 10.1.1.1\r\n");
    CHECK_MSG(gauge_until("enhance_body_memory_bytes ", 600000) == 600000, "a body through the proxy");
    CHECK(gauge("enhance_body_clients ") == 3);
    o = ask_via(s, "127.0.0.3", 200000, "203.0.113.5, 10.1.1.1");
    CHECK_MSG(h_status(o) == 503 && strstr(o, "your address 10.1.1.1 "), "a second body of the proxy's client: %.400s", o);
    free(o);
    int px2 = post_head(s, "127.0.0.3", 200000, "X-Forwarded-For: 10.1.1.2\r\n");
    CHECK_MSG(gauge_until("enhance_body_memory_bytes ", 800000) == 800000, "another client through the proxy");
    CHECK(gauge("enhance_body_clients ") == 4);

    /* spool (4 MiB, 1 MiB per address): a first spooled body above the share gets in, the
     * next one from that address does not, the other address's does */
    int hog3 = post_head(s, "127.0.0.1", 1500000, NULL);
    CHECK_MSG(gauge_until("enhance_upload_spool_bytes ", 1500000) == 1500000, "spool gauge with one body");
    o = ask(s, "127.0.0.1", 300000);
    CHECK_MSG(h_status(o) == 503 && strstr(o, "--client-body-share") && strstr(o, "on disk"),
              "a second spooled body from the same address: %.500s", o);
    free(o);
    int hog4 = post_head(s, "127.0.0.2", 300000, NULL);
    CHECK_MSG(gauge_until("enhance_upload_spool_bytes ", 1800000) == 1800000, "spool gauge with two bodies");
    CHECK_MSG(gauge("enhance_body_refusals_total{budget=\"client_memory\"} ") == 3 &&
                  gauge("enhance_body_refusals_total{budget=\"client_spool\"} ") == 1 &&
                  gauge("enhance_body_refusals_total{budget=\"memory\"} ") == 0,
              "refusals by budget");
    CHECK_MSG(gauge("enhance_connections{listener=\"main\"} ") >= 4, "main connections with four bodies held");

    /* everything returns when the clients go */
    close(hog1);
    close(hog2);
    close(hog3);
    close(hog4);
    close(px1);
    close(px2);
    CHECK_MSG(gauge_until("enhance_body_memory_bytes ", 0) == 0, "memory gauge after the clients left");
    CHECK_MSG(gauge_until("enhance_upload_spool_bytes ", 0) == 0, "spool gauge after the clients left");
    CHECK_MSG(gauge_until("enhance_body_clients ", 0) == 0, "addresses after the clients left");
    CHECK_MSG(gauge_until("enhance_connections{listener=\"main\"} ", 0) == 0, "main connections after");
    CHECK(gauge("enhance_decodes_running ") == 0);
    /* and the address that was refused gets in again */
    http_resp r;
    const char *png[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(s, "/v1/enhance"), g_png, g_png_len, png, 30, &r);
    CHECK_MSG(r.status == 200, "127.0.0.1 after its bodies ended: %ld", r.status);
    http_resp_free(&r);
    CHECK_MSG(gauge_until("enhance_body_memory_bytes ", 0) == 0, "memory gauge after a request");
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    char models[96], spool[96], probe[16];
    snprintf(models, sizeof models, "%s/models", g_tmp);
    snprintf(spool, sizeof spool, "%s/spool", g_tmp);
    CHECK(mkdir(models, 0700) == 0 && mkdir(spool, 0700) == 0);
    setenv("ENHANCE_MODELS_DIR", models, 1); /* no model to load: ready at once */
    int pp = h_free_port();
    snprintf(probe, sizeof probe, "%d", pp);
    memset(&g_probe, 0, sizeof g_probe);
    snprintf(g_probe.base, sizeof g_probe.base, "http://127.0.0.1:%d", pp);
    test_server a;
    const char *aa[] = {"--log-level", "warn", "--max-body", "4M", "--max-body-memory", "1M", "--spool-threshold",
                        "256K", "--upload-dir", spool, "--max-upload-spool", "4M", "--client-body-share", "0.25",
                        "--header-timeout", "20", "--probe-port", probe, "--trusted-proxies", "127.0.0.3", NULL};
    if (test_server_start(&a, g_cmd, aa) || test_server_wait_ready(&a, 30)) {
        CHECK_MSG(0, "the server did not start");
    } else {
        test_share(&a);
        CHECK(test_server_wait_exit(&a, SIGTERM, 20) == 0);
    }
    serve_test_teardown();
    CHECK_MAIN_END();
}
