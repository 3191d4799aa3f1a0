/* Integration tests: start the real server (test_serve_http SERVER_CMD...) on a free
 * loopback port and drive every endpoint and error code with libcurl; concurrency,
 * deadline expiry while queued, 429 under overload, client-disconnect cancellation,
 * SIGHUP reload and SIGTERM drain with no request lost. */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vips/vips.h>

#include "../check.h"
#include "core/fsutil.h"
#include "http_client.h"
#include "nn/manifest.h"

static const char *const *g_cmd;
static char g_tmp[64];
static void *g_png, *g_big_png, *g_jpeg;
static size_t g_png_len, g_big_png_len, g_jpeg_len;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void make_images(void)
{
    VipsImage *x, *img;
    /* a 32x32 RGB gradient */
    vips_xyz(&x, 32, 32, NULL);
    VipsImage *b[3];
    vips_extract_band(x, &b[0], 0, NULL);
    vips_extract_band(x, &b[1], 1, NULL);
    vips_add(b[0], b[1], &b[2], NULL);
    VipsImage *rgb;
    vips_bandjoin(b, &rgb, 3, NULL);
    VipsImage *s;
    vips_linear1(rgb, &s, 4, 0, NULL);
    vips_cast_uchar(s, &img, NULL);
    vips_pngsave_buffer(img, &g_png, &g_png_len, NULL);
    vips_jpegsave_buffer(img, &g_jpeg, &g_jpeg_len, "Q", 90, NULL);
    g_object_unref(x);
    for (int i = 0; i < 3; i++)
        g_object_unref(b[i]);
    g_object_unref(rgb);
    g_object_unref(s);
    g_object_unref(img);
    VipsImage *big;
    vips_black(&big, 600, 600, "bands", 3, NULL);
    vips_pngsave_buffer(big, &g_big_png, &g_big_png_len, "compression", 9, NULL);
    g_object_unref(big);
}

static char *url(const test_server *s, const char *path)
{
    static __thread char buf[512];
    snprintf(buf, sizeof buf, "%s%s", s->base, path);
    return buf;
}

static const char *const AUTH[] = {"Authorization: Bearer s3cret-key", "Content-Type: image/png", NULL};

static json_t *json_body(const http_resp *r)
{
    return r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
}

/* error JSON shape: {"error": {"code": N, "type", "message", "details": {"request_id"}}} */
static void check_error(const http_resp *r, long code, const char *type, const char *msg_part)
{
    CHECK_MSG(r->status == code, "status %ld, expected %ld: %.300s", r->status, code, r->body ? r->body : "");
    json_t *doc = json_body(r);
    CHECK_MSG(doc != NULL, "error body is not JSON: %.200s", r->body ? r->body : "");
    if (!doc)
        return;
    json_t *e = json_object_get(doc, "error");
    CHECK(json_is_object(e));
    CHECK(json_integer_value(json_object_get(e, "code")) == code);
    const char *t = json_string_value(json_object_get(e, "type"));
    const char *m = json_string_value(json_object_get(e, "message"));
    CHECK_MSG(t && !strcmp(t, type), "type %s, expected %s", t ? t : "(none)", type);
    CHECK_MSG(m && (!msg_part || strstr(m, msg_part)), "message '%s' lacks '%s'", m ? m : "", msg_part);
    json_t *d = json_object_get(e, "details");
    CHECK(json_is_object(d) && json_is_string(json_object_get(d, "request_id")));
    CHECK(r->request_id[0] != 0);
    json_decref(doc);
}

static void write_text(const char *path, const char *text)
{
    enh_error err;
    CHECK(enh_write_file_atomic(path, text, strlen(text), &err) == ENH_OK);
}

/* ---------------- server A: endpoints, auth, errors, concurrency ---------------- */

static void image_dims(const http_resp *r, int *w, int *h)
{
    *w = *h = 0;
    VipsImage *im = vips_image_new_from_buffer(r->body, r->len, "", NULL);
    if (!im) {
        vips_error_clear();
        return;
    }
    *w = vips_image_get_width(im);
    *h = vips_image_get_height(im);
    g_object_unref(im);
}

typedef struct conc {
    const test_server *s;
    int i;
    long status;
    int w;
} conc;

static void *conc_thread(void *arg)
{
    conc *c = arg;
    char u[256];
    snprintf(u, sizeof u, "%s/v1/enhance?format=%s", c->s->base, c->i % 2 ? "jpeg" : "png");
    http_resp r;
    http_do("POST", u, g_png, g_png_len, AUTH, 30, &r);
    c->status = r.status;
    int h;
    image_dims(&r, &c->w, &h);
    http_resp_free(&r);
    return NULL;
}

static void test_server_a(void)
{
    char key[128], cfg[128];
    snprintf(key, sizeof key, "%s/key", g_tmp);
    snprintf(cfg, sizeof cfg, "%s/a.json", g_tmp);
    write_text(key, "s3cret-key\n");
    write_text(cfg, "{\"resample\": {\"max_queue\": 64}}");
    const char *args[] = {"--api-key-file", key,     "--max-body", "300K", "--max-pixels", "250000",
                          "--max-output-pixels", "500000", "--models-config", cfg, "--log-level", "warn", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return;
    CHECK(test_server_wait_ready(&s, 20) == 0);
    http_resp r;

    /* liveness / readiness / models / metrics / page */
    http_do("GET", url(&s, "/healthz"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 200 && r.body && strstr(r.body, "alive"));
    CHECK(strlen(r.request_id) == 32);
    http_resp_free(&r);
    http_do("GET", url(&s, "/readyz"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 200 && strstr(r.body, "ready"));
    http_resp_free(&r);
    http_do("GET", url(&s, "/v1/models"), NULL, 0, AUTH, 5, &r);
    CHECK(r.status == 200);
    json_t *doc = json_body(&r);
    CHECK(doc && json_is_array(json_object_get(doc, "models")) && json_is_true(json_object_get(doc, "ready")));
    json_decref(doc);
    http_resp_free(&r);
    http_do("GET", url(&s, "/"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 200 && strstr(r.content_type, "text/html") && r.body && strstr(r.body, "/v1/enhance"));
    http_resp_free(&r);

    /* 404, 405, request id echo */
    const char *rid[] = {"X-Request-Id: my-req.42", NULL};
    http_do("GET", url(&s, "/nope"), NULL, 0, rid, 5, &r);
    check_error(&r, 404, "not_found", "/nope");
    CHECK(!strcmp(r.request_id, "my-req.42"));
    http_resp_free(&r);
    const char *bad_rid[] = {"X-Request-Id: has space", NULL};
    http_do("GET", url(&s, "/healthz"), NULL, 0, bad_rid, 5, &r);
    CHECK(strlen(r.request_id) == 32); /* not echoed: replaced */
    http_resp_free(&r);
    http_do("GET", url(&s, "/v1/enhance"), NULL, 0, AUTH, 5, &r);
    check_error(&r, 405, "method_not_allowed", "POST");
    http_resp_free(&r);
    http_do("POST", url(&s, "/metrics"), "x", 1, NULL, 5, &r);
    check_error(&r, 405, "method_not_allowed", "GET");
    http_resp_free(&r);

    /* 401 */
    const char *noauth[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, noauth, 5, &r);
    check_error(&r, 401, "unauthorized", "Bearer");
    http_resp_free(&r);
    const char *wrong[] = {"Authorization: Bearer s3cret-kez", "Content-Type: image/png", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, wrong, 5, &r);
    CHECK(r.status == 401);
    http_resp_free(&r);
    http_do("GET", url(&s, "/v1/models"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 401);
    http_resp_free(&r);

    /* success: raw body, format conversion, headers */
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, AUTH, 30, &r);
    CHECK_MSG(r.status == 200, "status %ld: %.300s", r.status, r.body ? r.body : "");
    CHECK(!strcmp(r.content_type, "image/png"));
    CHECK(!strcmp(r.width, "32") && !strcmp(r.height, "32"));
    CHECK(strstr(r.server_timing, "total;dur=") && r.timing_queue[0]);
    int w, h;
    image_dims(&r, &w, &h);
    CHECK(w == 32 && h == 32);
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?format=jpeg&quality=80"), g_png, g_png_len, AUTH, 30, &r);
    CHECK(r.status == 200 && !strcmp(r.content_type, "image/jpeg") && r.len > 2 &&
          (unsigned char)r.body[0] == 0xff && (unsigned char)r.body[1] == 0xd8);
    http_resp_free(&r);
    const char *jpeg_hdr[] = {"Authorization: Bearer s3cret-key", "Content-Type: image/jpeg", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_jpeg, g_jpeg_len, jpeg_hdr, 30, &r);
    CHECK(r.status == 200 && !strcmp(r.content_type, "image/jpeg")); /* same format as the input */
    http_resp_free(&r);

    /* multipart with an operations JSON part */
    const char *mp_hdr[] = {"Authorization: Bearer s3cret-key", "Content-Type: multipart/form-data; boundary=BnD", NULL};
    const char *ops = "{\"output\": {\"format\": \"webp\", \"quality\": 70}}";
    size_t cap = g_png_len + 1024, n = 0;
    char *mp = malloc(cap);
    n += (size_t)snprintf(mp + n, cap - n,
                          "--BnD\r\nContent-Disposition: form-data; name=\"operations\"\r\n"
                          "Content-Type: application/json\r\n\r\n%s\r\n--BnD\r\n"
                          "Content-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n"
                          "Content-Type: image/png\r\n\r\n",
                          ops);
    memcpy(mp + n, g_png, g_png_len);
    n += g_png_len;
    n += (size_t)snprintf(mp + n, cap - n, "\r\n--BnD--\r\n");
    http_do("POST", url(&s, "/v1/enhance"), mp, n, mp_hdr, 30, &r);
    CHECK_MSG(r.status == 200 && !strcmp(r.content_type, "image/webp"), "status %ld %s: %.300s", r.status,
              r.content_type, r.body ? r.body : "");
    http_resp_free(&r);
    /* unknown key in the operations JSON: named in the message */
    char *mp2 = malloc(cap + 64);
    size_t n2 = (size_t)snprintf(mp2, cap + 64,
                                 "--BnD\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n"
                                 "{\"restorations\": {\"denoyse\": 5}}\r\n--BnD\r\n"
                                 "Content-Disposition: form-data; name=\"image\"\r\n\r\n");
    memcpy(mp2 + n2, g_png, g_png_len);
    n2 += g_png_len;
    n2 += (size_t)snprintf(mp2 + n2, 32, "\r\n--BnD--\r\n");
    http_do("POST", url(&s, "/v1/enhance"), mp2, n2, mp_hdr, 30, &r);
    check_error(&r, 400, "invalid_request", "denoyse");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance"), mp, 40, mp_hdr, 30, &r); /* truncated multipart */
    check_error(&r, 400, "invalid_request", "multipart");
    http_resp_free(&r);
    free(mp);
    free(mp2);

    /* lanczos upscaling and resizing run without a model */
    http_do("POST", url(&s, "/v1/enhance?upscale=resample&scale=2"), g_png, g_png_len, AUTH, 30, &r);
    CHECK_MSG(r.status == 200 && !strcmp(r.width, "64") && !strcmp(r.height, "64"), "resample x2: %ld %sx%s",
              r.status, r.width, r.height);
    image_dims(&r, &w, &h);
    CHECK(w == 64 && h == 64);
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?width=16&format=webp"), g_png, g_png_len, AUTH, 30, &r);
    CHECK_MSG(r.status == 200 && !strcmp(r.width, "16") && !strcmp(r.content_type, "image/webp"), "resize: %ld %s",
              r.status, r.width);
    http_resp_free(&r);

    /* 400: unknown query key, bad value, bad priority header */
    http_do("POST", url(&s, "/v1/enhance?upscale=photo&sclae=2"), g_png, g_png_len, AUTH, 5, &r);
    check_error(&r, 400, "invalid_request", "'sclae'");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?exposure=500"), g_png, g_png_len, AUTH, 5, &r);
    check_error(&r, 400, "invalid_request", "exposure");
    http_resp_free(&r);
    const char *prio[] = {"Authorization: Bearer s3cret-key", "Content-Type: image/png", "X-Priority: urgent", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, prio, 5, &r);
    check_error(&r, 400, "invalid_request", "priority");
    http_resp_free(&r);
    /* corrupt image of a known format: 400 */
    char *trunc = malloc(g_png_len);
    memcpy(trunc, g_png, g_png_len);
    http_do("POST", url(&s, "/v1/enhance"), trunc, 60, AUTH, 5, &r);
    CHECK_MSG(r.status == 400 || r.status == 415, "truncated PNG: %ld", r.status);
    http_resp_free(&r);
    free(trunc);

    /* 413: body cap (limit and actual in the message), pixel cap, output pixel cap */
    size_t big = 400 * 1024;
    char *junk = calloc(1, big);
    http_do("POST", url(&s, "/v1/enhance"), junk, big, AUTH, 10, &r);
    check_error(&r, 413, "too_large", "409600 bytes; the limit is 307200");
    http_resp_free(&r);
    const char *expect[] = {"Authorization: Bearer s3cret-key", "Content-Type: image/png", "Expect: 100-continue", NULL};
    http_do("POST", url(&s, "/v1/enhance"), junk, big, expect, 10, &r); /* answered before the upload */
    check_error(&r, 413, "too_large", "409600 bytes; the limit is 307200");
    http_resp_free(&r);
    free(junk);
    http_do("POST", url(&s, "/v1/enhance"), g_big_png, g_big_png_len, AUTH, 10, &r);
    check_error(&r, 413, "too_large", "600x600");
    CHECK(r.body && strstr(r.body, "limit of 0.2 megapixels"));
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?width=1000&height=1000&fit=fill"), g_png, g_png_len, AUTH, 10, &r);
    check_error(&r, 413, "too_large", "1.0 MP; the limit is 0.5 MP");
    http_resp_free(&r);

    /* 415: not an image; a content type we do not take */
    http_do("POST", url(&s, "/v1/enhance"), "hello, world, this is text", 26, AUTH, 5, &r);
    check_error(&r, 415, "unsupported_media_type", "supported");
    http_resp_free(&r);
    const char *txt[] = {"Authorization: Bearer s3cret-key", "Content-Type: text/plain", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, txt, 5, &r);
    check_error(&r, 415, "unsupported_media_type", "text/plain");
    http_resp_free(&r);
    const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>";
    http_do("POST", url(&s, "/v1/enhance"), svg, sizeof svg - 1, AUTH, 5, &r);
    CHECK_MSG(r.status == 415, "SVG got %ld", r.status);
    http_resp_free(&r);

    /* 422: impossible operations; a model this server does not serve */
    http_do("POST", url(&s, "/v1/enhance?fit=pad&width=100"), g_png, g_png_len, AUTH, 5, &r);
    check_error(&r, 422, "unprocessable", "pad");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?upscale=photo"), g_png, g_png_len, AUTH, 5, &r);
    check_error(&r, 422, "model_not_found", "realesrgan-x4fast");
    http_resp_free(&r);

    /* concurrent requests */
    enum { NC = 12 };
    conc cs[NC];
    pthread_t t[NC];
    for (int i = 0; i < NC; i++) {
        cs[i] = (conc){.s = &s, .i = i};
        pthread_create(&t[i], NULL, conc_thread, &cs[i]);
    }
    for (int i = 0; i < NC; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < NC; i++)
        CHECK_MSG(cs[i].status == 200 && cs[i].w == 32, "concurrent request %d: %ld", i, cs[i].status);

    /* metrics reflect what happened */
    http_do("GET", url(&s, "/metrics"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 200 && strstr(r.content_type, "text/plain"));
    CHECK(r.body && strstr(r.body, "enhance_requests_total{model=\"none\",outcome=\"success\",reason=\"\"} 18"));
    CHECK(r.body && strstr(r.body, "reason=\"too_large\"} 4"));
    CHECK(r.body && strstr(r.body, "reason=\"unsupported_media_type\"}"));
    CHECK(r.body && strstr(r.body, "enhance_queue_depth{model=\"none\"} 0"));
    CHECK(r.body && strstr(r.body, "enhance_inflight_requests{model=\"none\"} 0"));
    CHECK(r.body && strstr(r.body, "enhance_http_responses_total{code=\"413\"} 4"));
    CHECK(r.body && strstr(r.body, "process_resident_memory_bytes "));
    CHECK(r.body && strstr(r.body, "enhance_ready 1"));
    http_resp_free(&r);
    CHECK(test_server_wait_exit(&s, SIGTERM, 15) == 0);
}

/* ---------------- server B: queueing, deadlines, overload, cancel, reload, drain ---------------- */

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

static int metric_value(const test_server *s, const char *line_prefix, double *v)
{
    http_resp r;
    http_do("GET", url(s, "/metrics"), NULL, 0, NULL, 5, &r);
    int ok = 0;
    if (r.body) {
        const char *p = strstr(r.body, line_prefix);
        if (p) {
            *v = atof(p + strlen(line_prefix));
            ok = 1;
        }
    }
    http_resp_free(&r);
    return ok;
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

static void test_server_b(void)
{
    char cfg[128];
    snprintf(cfg, sizeof cfg, "%s/b.json", g_tmp);
    write_text(cfg, "{\"resample\": {\"max_queue\": 2, \"default_deadline_ms\": 20000}}");
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
    check_error(&late.r, 504, "deadline_exceeded", "queued");
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
            check_error(&o[i].r, 429, "queue_full", "limit 2");
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
    write_text(cfg, "{\"resample\": {\"max_queue\": 2}, \"bogus\": 1}");
    kill(s.pid, SIGHUP);
    sleep_ms(400);
    CHECK(models_generation(&s) == 1);
    write_text(cfg, "{\"resample\": {\"max_queue\": 3, \"default_deadline_ms\": 20000}}");
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
    check_error(&r, 503, "unavailable", "draining");
    CHECK(r.retry_after[0]);
    http_resp_free(&r);
    for (int i = 0; i < ND; i++) {
        pthread_join(tdr[i], NULL);
        CHECK_MSG(d[i].r.status == 200, "in-flight request %d lost during drain: %ld", i, d[i].r.status);
        http_resp_free(&d[i].r);
    }
    CHECK(test_server_wait_exit(&s, 0, 10) == 0);
}

/* ---------------- options and start-up errors ---------------- */

static int run_cmd(const char *const *extra, char *out, size_t out_size)
{
    char cmd[2048];
    size_t n = 0;
    for (const char *const *p = g_cmd; *p; p++)
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, "'%s' ", *p);
    for (const char *const *p = extra; *p; p++)
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, "'%s' ", *p);
    snprintf(cmd + n, sizeof cmd - n, "2>&1");
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t got = fread(out, 1, out_size - 1, f);
    out[got] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void)
{
    static char out[16384];
    const char *help[] = {"--help", NULL};
    CHECK(run_cmd(help, out, sizeof out) == 0);
    CHECK(strstr(out, "--models-config") && strstr(out, "/v1/enhance") && strstr(out, "SIGTERM"));
    const char *bad[] = {"--frobnicate", NULL};
    CHECK(run_cmd(bad, out, sizeof out) == 1 && strstr(out, "--frobnicate"));
    const char *badport[] = {"--port", "70000", NULL};
    CHECK(run_cmd(badport, out, sizeof out) == 1 && strstr(out, "--port"));
    char cfg[128];
    snprintf(cfg, sizeof cfg, "%s/missing.json", g_tmp);
    write_text(cfg, "{\"models\": [{\"name\": \"nothere\"}], \"models_dir\": \"/nonexistent\"}");
    const char *missing[] = {"--models-config", cfg, "--port", "0", NULL};
    int rc = run_cmd(missing, out, sizeof out);
    CHECK_MSG(rc == 1 && strstr(out, "nothere"), "rc %d: %s", rc, out);
    const char *toomany[] = {"--models-config", cfg, "--cores", "1", "--port", "0", NULL};
    write_text(cfg, "{\"models\": [{\"name\": \"a\", \"instances\": 2}]}");
    rc = run_cmd(toomany, out, sizeof out);
    CHECK_MSG(rc == 1 && strstr(out, "instances"), "rc %d: %s", rc, out);
}

/* ---------------- with the real x4fast model (skipped when it is not installed) ---------------- */

typedef struct up_thread {
    const test_server *s;
    http_resp r;
} up_thread;

static void *up_main(void *arg)
{
    up_thread *u = arg;
    char q[256];
    snprintf(q, sizeof q, "%s/v1/enhance?upscale=photo&format=png", u->s->base);
    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_do("POST", q, g_png, g_png_len, hdr, 120, &u->r);
    return NULL;
}

static int test_model(void)
{
    const char *dir = enh_models_default_dir();
    char dirbuf[1024];
    snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    const enh_model_entry *e = enh_manifest_find("realesrgan-x4fast");
    if (!e || !enh_model_installed(e, dirbuf)) {
        printf("SKIP: realesrgan-x4fast is not installed in %s (enhance models fetch realesrgan-x4fast)\n", dirbuf);
        return 77;
    }
    char cfg[128], text[2048];
    snprintf(cfg, sizeof cfg, "%s/model.json", g_tmp);
    snprintf(text, sizeof text,
             "{\"models_dir\": \"%s\", \"models\": [{\"name\": \"realesrgan-x4fast\", \"max_batch\": 4,"
             " \"max_queue_delay_ms\": 150}]}",
             dirbuf);
    write_text(cfg, text);
    const char *args[] = {"--models-config", cfg, "--log-level", "warn", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return 1;
    CHECK(test_server_wait_ready(&s, 60) == 0);
    http_resp r;
    http_do("GET", url(&s, "/v1/models"), NULL, 0, NULL, 5, &r);
    json_t *doc = json_body(&r);
    json_t *m0 = doc ? json_array_get(json_object_get(doc, "models"), 0) : NULL;
    CHECK(m0 && json_is_true(json_object_get(m0, "ready")) && json_integer_value(json_object_get(m0, "scale")) == 4);
    json_decref(doc);
    http_resp_free(&r);

    /* concurrent requests: their tiles are batched together */
    enum { NU = 4 };
    up_thread u[NU];
    pthread_t t[NU];
    for (int i = 0; i < NU; i++) {
        u[i] = (up_thread){.s = &s};
        pthread_create(&t[i], NULL, up_main, &u[i]);
    }
    for (int i = 0; i < NU; i++) {
        pthread_join(t[i], NULL);
        CHECK_MSG(u[i].r.status == 200 && !strcmp(u[i].r.model, "realesrgan-x4fast") && !strcmp(u[i].r.width, "128"),
                  "x4fast request %d: %ld %s %s %.200s", i, u[i].r.status, u[i].r.model, u[i].r.width,
                  u[i].r.body && u[i].r.status != 200 ? u[i].r.body : "");
        int w, h;
        image_dims(&u[i].r, &w, &h);
        CHECK(w == 128 && h == 128);
        http_resp_free(&u[i].r);
    }
    double sum = 0, count = 0, tiles = 0;
    metric_value(&s, "enhance_batch_size_sum{model=\"realesrgan-x4fast\"} ", &sum);
    metric_value(&s, "enhance_batch_size_count{model=\"realesrgan-x4fast\"} ", &count);
    metric_value(&s, "enhance_tiles_total{model=\"realesrgan-x4fast\"} ", &tiles);
    CHECK_MSG(tiles == NU && sum == NU + 1, "tiles %g, batched tiles %g (warm-up included)", tiles, sum);
    CHECK_MSG(count < sum - 1, "no cross-request batching: %g runs for %g tiles", count, sum);

    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(&s, "/v1/enhance?upscale=photo&scale=2"), g_png, g_png_len, hdr, 60, &r);
    CHECK_MSG(r.status == 200 && !strcmp(r.width, "64"), "x2: %ld %s", r.status, r.width);
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?upscale=art"), g_png, g_png_len, hdr, 60, &r);
    check_error(&r, 422, "model_not_found", "realesr-animevideov3");
    http_resp_free(&r);
    CHECK(test_server_wait_exit(&s, SIGTERM, 20) == 0);
    return 0;
}

int main(int argc, char **argv)
{
    int with_model = argc > 1 && !strcmp(argv[1], "--with-model");
    if (with_model) {
        argv++;
        argc--;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: test_serve_http SERVER_COMMAND [ARGS...]\n");
        return 2;
    }
    g_cmd = (const char *const *)argv + 1;
    if (VIPS_INIT(argv[0]))
        return 2;
    http_client_init();
    signal(SIGPIPE, SIG_IGN);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/enh-serve-test-XXXXXX");
    if (!mkdtemp(g_tmp))
        return 2;
    make_images();
    int rc = 0;
    if (with_model) {
        rc = test_model();
    } else {
        test_cli();
        test_server_a();
        test_server_b();
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
    g_free(g_png);
    g_free(g_big_png);
    g_free(g_jpeg);
    if (rc == 77)
        return 77;
    CHECK_MAIN_END();
}
