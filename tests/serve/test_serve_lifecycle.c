/* Integration tests of the server's scheduling and lifecycle (test_serve_lifecycle
 * SERVER_CMD...): deadline expiry while queued and while the result is encoded, 429 under
 * overload, client-disconnect cancellation, SIGHUP reload and SIGTERM drain with no
 * request lost.
 * On a slow or loaded machine (tests run at nice 19 beside other work) the steps that depend
 * on the server's state wait for that state (the /metrics gauges) instead of sleeping a fixed
 * time: SIGTERM once the drained requests are admitted, the client of the cancel step goes
 * away (a raw connection closed) once its request is admitted. "Answered at once" is checked
 * by order (before the request ahead of it was answered), not against a wall-clock bound; the
 * encode deadline is raised while it passes before the encode; the timeouts that are not
 * the point (clients, drain, exit) are generous. */
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
    double t_done; /* enh_now() when the answer (or the failure) came back */
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
    q->t_done = enh_now();
    return NULL;
}

/* a gauge or counter of /metrics (the line starting with prefix), -1 when absent */
static double metric(const test_server *s, const char *prefix)
{
    double v = -1;
    return metric_value(s, prefix, &v) ? v : -1;
}

#define INFLIGHT "enhance_inflight_requests{model=\"none\"} "
#define QUEUED "enhance_queue_depth{model=\"none\"} "
#define DONE_OK "enhance_requests_total{model=\"none\",outcome=\"success\",reason=\"\"} "

/* Waits (up to timeout_s) until n requests of the resample route have been admitted since
 * the success counter read `done0` (in flight now, or answered 200 since), of which at
 * least `computing` have left the queue; 1 when reached. */
static int wait_admitted(const test_server *s, int n, int computing, double done0, double timeout_s)
{
    double until = enh_now() + timeout_s, in = 0, q = 0, done = 0;
    do {
        in = metric(s, INFLIGHT);
        q = metric(s, QUEUED);
        done = metric(s, DONE_OK);
        done = done < 0 ? 0 : done;
        if (in + done - done0 >= n && (in - q) + done - done0 >= computing)
            return 1;
        sleep_ms(5);
    } while (enh_now() < until);
    fprintf(stderr, "waited %.0f s for %d admitted requests: %g in flight (%g queued), %g answered\n", timeout_s, n,
            in, q, done - done0);
    return 0;
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
                          "--models-config",  cfg,    "--drain-timeout",    "60", "--log-level", "warn", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return;
    CHECK(test_server_wait_ready(&s, 20) == 0);

    /* deadline expiry while queued: the only pipeline worker is busy (~300 ms a request) with
     * one request and another waits; the late one queues behind both. Checked only when it
     * was dequeued, its 504 would come after the second one's answer, at least 300 ms after
     * its deadline; checked while queued, it comes first (monitor: every 20 ms). */
    req_thread busy[2] = {{.s = &s, .timeout = 60}, {.s = &s, .timeout = 60}};
    pthread_t tb[2];
    double done0 = metric(&s, DONE_OK);
    done0 = done0 < 0 ? 0 : done0;
    pthread_create(&tb[0], NULL, req_main, &busy[0]);
    CHECK(wait_admitted(&s, 1, 1, done0, 30)); /* the first computing */
    pthread_create(&tb[1], NULL, req_main, &busy[1]);
    CHECK(wait_admitted(&s, 2, 1, done0, 30));
    req_thread late = {.s = &s, .query = "?deadline_ms=100", .timeout = 60};
    req_main(&late);
    CHECK_ERROR(&late.r, 504, "deadline_exceeded", "queued");
    for (int i = 0; i < 2; i++)
        pthread_join(tb[i], NULL);
    printf("queued deadline: 504 after %.3f s, %.3f s before the request ahead of it was answered\n",
           late.r.seconds, busy[1].t_done - late.t_done);
    CHECK_MSG(late.t_done < busy[1].t_done,
              "the 504 (after %.3f s) came %.3f s after the answer to the request ahead of it: the deadline was "
              "not checked while queued",
              late.r.seconds, late.t_done - busy[1].t_done);
    http_resp_free(&late.r);
    for (int i = 0; i < 2; i++) {
        CHECK(busy[i].r.status == 200);
        http_resp_free(&busy[i].r);
    }

    /* 429 under overload: 1 computing + max_queue 2 waiting; the rest are refused. The first
     * is computing before the others are sent (admitted requests count against max_queue
     * until they compute, so on a slow machine all could otherwise arrive before it did) */
    enum { NO = 7 };
    req_thread o[NO];
    pthread_t to[NO];
    done0 = metric(&s, DONE_OK);
    done0 = done0 < 0 ? 0 : done0;
    for (int i = 0; i < NO; i++) {
        o[i] = (req_thread){.s = &s, .timeout = 60};
        pthread_create(&to[i], NULL, req_main, &o[i]);
        if (i == 0)
            CHECK(wait_admitted(&s, 1, 1, done0, 30));
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

    /* client disconnect cancels the work: the client goes away once its request is admitted
     * (seen in the metrics) and before any answer came (~300 ms of compute). Should the
     * answer have come first (a very slow machine), the step is tried again (3 times). */
    const char *cancelled = "enhance_requests_total{model=\"none\",outcome=\"failure\",reason=\"cancelled\"} ";
    double before = metric(&s, cancelled), after = 0, until = 0;
    before = before < 0 ? 0 : before;
    for (int tries = 0; tries < 3; tries++) {
        double ok0 = metric(&s, DONE_OK);
        ok0 = ok0 < 0 ? 0 : ok0;
        int fd = raw_post(&s, "/v1/enhance", g_png, g_png_len);
        CHECK(fd >= 0);
        if (fd < 0)
            break;
        CHECK(wait_admitted(&s, 1, 0, ok0, 30));
        int early = has_answer(fd);
        close(fd); /* the client goes away */
        until = enh_now() + 30;
        while ((after = metric(&s, cancelled)) <= before && metric(&s, INFLIGHT) > 0 && enh_now() < until)
            sleep_ms(20);
        after = metric(&s, cancelled);
        early |= metric(&s, DONE_OK) > ok0; /* answered before the client went away */
        if (after > before || !early)
            break;
        printf("the answer came before the client went away (try %d); again\n", tries + 1);
    }
    CHECK_MSG(after == before + 1, "cancellations %g -> %g", before, after);

    /* SIGHUP: a broken config is refused (old one keeps serving), a good one is taken */
    CHECK(models_generation(&s) == 1);
    CHECK(write_text(cfg, "{\"resample\": {\"max_queue\": 2}, \"bogus\": 1}"));
    kill(s.pid, SIGHUP);
    sleep_ms(400);
    CHECK(models_generation(&s) == 1);
    CHECK(write_text(cfg, "{\"resample\": {\"max_queue\": 3, \"default_deadline_ms\": 20000}}"));
    req_thread during = {.s = &s, .timeout = 60};
    pthread_t td;
    pthread_create(&td, NULL, req_main, &during);
    sleep_ms(50);
    kill(s.pid, SIGHUP);
    until = enh_now() + 20;
    while (models_generation(&s) != 2 && enh_now() < until)
        sleep_ms(20);
    CHECK(models_generation(&s) == 2);
    pthread_join(td, NULL);
    CHECK(during.r.status == 200); /* not dropped by the reload */
    http_resp_free(&during.r);

    /* SIGTERM drain: requests in flight and queued all finish; new ones get 503; exit 0.
     * SIGTERM goes once all three are admitted (one computing, the others queued or done): a
     * request that had not reached the server yet would rightly be refused, and prove nothing. */
    enum { ND = 3 };
    req_thread d[ND];
    pthread_t tdr[ND];
    double done1 = metric(&s, DONE_OK);
    for (int i = 0; i < ND; i++) {
        d[i] = (req_thread){.s = &s, .timeout = 60, .delay_ms = i * 10};
        pthread_create(&tdr[i], NULL, req_main, &d[i]);
    }
    CHECK(wait_admitted(&s, ND, 1, done1 < 0 ? 0 : done1, 30));
    kill(s.pid, SIGTERM);
    http_resp r;
    until = enh_now() + 20; /* the signal is handled on the server's own time */
    for (;;) {
        http_do("GET", url(&s, "/readyz"), NULL, 0, NULL, 5, &r);
        if (r.status != 200 || enh_now() > until)
            break;
        http_resp_free(&r);
        sleep_ms(10);
    }
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
    CHECK(test_server_wait_exit(&s, 0, 30) == 0);
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
    /* the deadline must pass after the pipeline call: raised while the 504 says it passed
     * before the encode, as on a loaded machine (the encode takes seconds, longer on a slower
     * machine) */
    int deadline_ms = 600;
    int tries = post_until_encode_deadline(&s, "/v1/enhance?upscale=resample&scale=8&format=png&", png, png_len, 120,
                                           &deadline_ms, &r);
    char want[64];
    snprintf(want, sizeof want, "deadline of %d ms", deadline_ms);
    CHECK_ERROR(&r, 504, "deadline_exceeded", want);
    CHECK_MSG(r.body && strstr(r.body, "while the result was encoded"), "not stopped while encoding: %.300s",
              r.body ? r.body : "");
    http_resp_free(&r);
    double n = 0;
    CHECK(metric_value(&s, "enhance_requests_total{model=\"none\",outcome=\"failure\",reason=\"deadline_exceeded\"} ",
                       &n) &&
          n == tries);
    /* the stopped encode left the only io worker free for the next request */
    http_do("POST", url(&s, "/v1/enhance?format=jpeg"), g_png, g_png_len, hdr, 60, &r);
    CHECK_MSG(r.status == 200, "after the 504: %ld %.200s", r.status, r.body ? r.body : "");
    http_resp_free(&r);
    g_free(png);
    CHECK(test_server_wait_exit(&s, SIGTERM, 30) == 0);
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
