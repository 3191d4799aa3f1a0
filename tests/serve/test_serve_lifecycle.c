/* Integration tests of the server's scheduling and lifecycle (test_serve_lifecycle
 * SERVER_CMD...): deadline expiry while queued and while the result is encoded, 429 under
 * overload, client-disconnect cancellation, SIGHUP reload and SIGTERM drain with no
 * request lost. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "../check.h"
#include "core/fsutil.h"
#include "serve_test.h"

typedef struct req_thread {
    const test_server *s;
    const char *query;
    double timeout;
    int delay_ms;
    http_resp r;
} req_thread;

static void *req_main(void *arg)
{
    req_thread *q = arg;
    if (q->delay_ms)
        sleep_ms(q->delay_ms);
    char u[256];
    snprintf(u, sizeof u, "%s/v1/enhance%s", q->s->base, q->query ? q->query : "");
    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_do("POST", u, g_png, g_png_len, hdr, q->timeout, &q->r);
    return NULL;
}

static int models_generation(const test_server *s)
{
    http_resp r;
    http_do("GET", url(s, "/v1/models"), NULL, 0, NULL, 5, &r);
    json_t *doc = json_body(&r);
    int g = doc ? (int)json_integer_value(json_object_get(doc, "generation")) : -1;
    json_decref(doc);
    http_resp_free(&r);
    return g;
}

/* ---------------- queueing, deadlines, overload, cancel, reload, drain ---------------- */

static void test_server_b(void)
{
    char cfg[128];
    snprintf(cfg, sizeof cfg, "%s/b.json", g_tmp);
    CHECK(write_text(cfg, "{\"resample\": {\"max_queue\": 2, \"default_deadline_ms\": 20000}}"));
    const char *args[] = {"--debug-delay-ms", "300",  "--pipeline-threads", "1", "--io-threads", "1",
                          "--models-config",  cfg,    "--drain-timeout",    "20", "--log-level", "warn", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return;
    CHECK(test_server_wait_ready(&s, 20) == 0);

    /* deadline expiry while queued: the only pipeline worker is busy for ~300 ms */
    req_thread busy = {.s = &s, .timeout = 20};
    pthread_t tb;
    pthread_create(&tb, NULL, req_main, &busy);
    sleep_ms(60);
    req_thread late = {.s = &s, .query = "?deadline_ms=100", .timeout = 20};
    req_main(&late);
    CHECK_ERROR(&late.r, 504, "deadline_exceeded", "queued");
    CHECK_MSG(late.r.seconds < 0.26, "504 came after %.3f s: the deadline was not checked while queued",
              late.r.seconds);
    http_resp_free(&late.r);
    pthread_join(tb, NULL);
    CHECK(busy.r.status == 200);
    http_resp_free(&busy.r);

    /* 429 under overload: 1 computing + max_queue 2 waiting; the rest are refused */
    enum { NO = 7 };
    req_thread o[NO];
    pthread_t to[NO];
    for (int i = 0; i < NO; i++) {
        o[i] = (req_thread){.s = &s, .timeout = 20, .delay_ms = i * 5};
        pthread_create(&to[i], NULL, req_main, &o[i]);
    }
    int n200 = 0, n429 = 0, ra_ok = 1;
    for (int i = 0; i < NO; i++) {
        pthread_join(to[i], NULL);
        if (o[i].r.status == 200)
            n200++;
        if (o[i].r.status == 429) {
            n429++;
            CHECK_ERROR(&o[i].r, 429, "queue_full", "limit 2");
            ra_ok &= atoi(o[i].r.retry_after) >= 1;
        }
        http_resp_free(&o[i].r);
    }
    CHECK_MSG(n200 >= 3 && n429 >= 1 && n200 + n429 == NO, "200: %d, 429: %d", n200, n429);
    CHECK(ra_ok);

    /* client disconnect cancels the work */
    double before = 0, after = 0;
    metric_value(&s, "enhance_requests_total{model=\"none\",outcome=\"failure\",reason=\"cancelled\"} ", &before);
    req_thread gone = {.s = &s, .timeout = 0.1};
    req_main(&gone);
    CHECK(gone.r.status == 0); /* the client gave up */
    http_resp_free(&gone.r);
    double until = enh_now() + 3;
    while (enh_now() < until) {
        if (metric_value(&s, "enhance_requests_total{model=\"none\",outcome=\"failure\",reason=\"cancelled\"} ",
                         &after) &&
            after > before)
            break;
        sleep_ms(20);
    }
    CHECK_MSG(after == before + 1, "cancellations %g -> %g", before, after);

    /* SIGHUP: a broken config is refused (old one keeps serving), a good one is taken */
    CHECK(models_generation(&s) == 1);
    CHECK(write_text(cfg, "{\"resample\": {\"max_queue\": 2}, \"bogus\": 1}"));
    kill(s.pid, SIGHUP);
    sleep_ms(400);
    CHECK(models_generation(&s) == 1);
    CHECK(write_text(cfg, "{\"resample\": {\"max_queue\": 3, \"default_deadline_ms\": 20000}}"));
    req_thread during = {.s = &s, .timeout = 20};
    pthread_t td;
    pthread_create(&td, NULL, req_main, &during);
    sleep_ms(50);
    kill(s.pid, SIGHUP);
    until = enh_now() + 3;
    while (models_generation(&s) != 2 && enh_now() < until)
        sleep_ms(20);
    CHECK(models_generation(&s) == 2);
    pthread_join(td, NULL);
    CHECK(during.r.status == 200); /* not dropped by the reload */
    http_resp_free(&during.r);

    /* SIGTERM drain: requests in flight and queued all finish; new ones get 503; exit 0 */
    enum { ND = 3 };
    req_thread d[ND];
    pthread_t tdr[ND];
    for (int i = 0; i < ND; i++) {
        d[i] = (req_thread){.s = &s, .timeout = 20, .delay_ms = i * 10};
        pthread_create(&tdr[i], NULL, req_main, &d[i]);
    }
    sleep_ms(120);
    kill(s.pid, SIGTERM);
    sleep_ms(80);
    http_resp r;
    http_do("GET", url(&s, "/readyz"), NULL, 0, NULL, 5, &r);
    CHECK_MSG(r.status == 503 && r.body && strstr(r.body, "draining"), "readyz during drain: %ld", r.status);
    http_resp_free(&r);
    http_do("GET", url(&s, "/healthz"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 200); /* still alive while draining */
    http_resp_free(&r);
    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, hdr, 5, &r);
    CHECK_ERROR(&r, 503, "unavailable", "draining");
    CHECK(r.retry_after[0]);
    http_resp_free(&r);
    for (int i = 0; i < ND; i++) {
        pthread_join(tdr[i], NULL);
        CHECK_MSG(d[i].r.status == 200, "in-flight request %d lost during drain: %ld", i, d[i].r.status);
        http_resp_free(&d[i].r);
    }
    CHECK(test_server_wait_exit(&s, 0, 10) == 0);
}

/* ---------------- deadline while the result is encoded ---------------- */

/* A request without a model computes nothing in the pipeline stage: the resample is lazy,
 * so all its work happens while the encoder pulls the pixels (here 800x800 noise x8 to a
 * 41 MP PNG, seconds of work). Its deadline must stop that encode and answer 504, not let
 * it finish late with 200 (or, where a lazy stage fails the save at the deadline, 500). */
static void test_encode_deadline(void)
{
    const char *args[] = {"--io-threads", "1", "--log-level", "warn", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return;
    CHECK(test_server_wait_ready(&s, 20) == 0);
    VipsImage *band[3], *rgb = NULL, *u8 = NULL;
    for (int i = 0; i < 3; i++)
        CHECK(vips_gaussnoise(&band[i], 800, 800, "sigma", 60.0, NULL) == 0);
    CHECK(vips_bandjoin(band, &rgb, 3, NULL) == 0);
    CHECK(vips_cast_uchar(rgb, &u8, NULL) == 0);
    void *png = NULL;
    size_t png_len = 0;
    CHECK(vips_pngsave_buffer(u8, &png, &png_len, "compression", 1, NULL) == 0);
    for (int i = 0; i < 3; i++)
        g_object_unref(band[i]);
    g_object_unref(rgb);
    g_object_unref(u8);

    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_resp r;
    http_do("POST", url(&s, "/v1/enhance?upscale=resample&scale=8&format=png&deadline_ms=600"), png, png_len, hdr,
            60, &r);
    CHECK_ERROR(&r, 504, "deadline_exceeded", "deadline of 600 ms");
    http_resp_free(&r);
    double n = 0;
    CHECK(metric_value(&s, "enhance_requests_total{model=\"none\",outcome=\"failure\",reason=\"deadline_exceeded\"} ",
                       &n) &&
          n == 1);
    /* the stopped encode left the only io worker free for the next request */
    http_do("POST", url(&s, "/v1/enhance?format=jpeg"), g_png, g_png_len, hdr, 60, &r);
    CHECK_MSG(r.status == 200, "after the 504: %ld %.200s", r.status, r.body ? r.body : "");
    http_resp_free(&r);
    g_free(png);
    CHECK(test_server_wait_exit(&s, SIGTERM, 15) == 0);
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    test_server_b();
    test_encode_deadline();
    serve_test_teardown();
    CHECK_MAIN_END();
}
