/* Integration tests of the server's API: start the real server (test_serve_http
 * SERVER_CMD...) on a free loopback port and drive every endpoint and error code with
 * libcurl (auth, limits, formats, multipart, 400/401/404/405/413/415/422), concurrent
 * requests and the metrics they leave; the command-line options and start-up errors.
 * Queueing, deadlines and the server's lifecycle are in test_serve_lifecycle.c. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../check.h"
#include "serve_test.h"

static const char *const AUTH[] = {"Authorization: Bearer s3cret-key", "Content-Type: image/png", NULL};

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
    CHECK(write_text(cfg, "{\"models\": [{\"name\": \"nothere\"}], \"models_dir\": \"/nonexistent\"}"));
    const char *missing[] = {"--models-config", cfg, "--port", "0", NULL};
    int rc = run_cmd(missing, out, sizeof out);
    CHECK_MSG(rc == 1 && strstr(out, "nothere"), "rc %d: %s", rc, out);
    const char *toomany[] = {"--models-config", cfg, "--cores", "1", "--port", "0", NULL};
    CHECK(write_text(cfg, "{\"models\": [{\"name\": \"a\", \"instances\": 2}]}"));
    rc = run_cmd(toomany, out, sizeof out);
    CHECK_MSG(rc == 1 && strstr(out, "instances"), "rc %d: %s", rc, out);
}

/* ---------------- endpoints, auth, errors, concurrency ---------------- */

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
    CHECK(write_text(key, "s3cret-key\n"));
    CHECK(write_text(cfg, "{\"resample\": {\"max_queue\": 64}}"));
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
    CHECK(r.status == 200 && strstr(r.content_type, "text/html") && r.body && strstr(r.body, "/v1/jobs"));
    CHECK(r.body && strstr(r.body, "/v1/ops")); /* the page builds its form from the operations table */
    http_resp_free(&r);
    /* GET /v1/ops: the operations table, without an API key (the page reads it first) */
    http_do("GET", url(&s, "/v1/ops"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 200 && strstr(r.content_type, "application/json"));
    doc = json_body(&r);
    json_t *opts = json_object_get(doc, "options");
    CHECK(json_is_array(opts) && json_array_size(opts) >= 30);
    const char *first = json_string_value(json_object_get(json_array_get(opts, 0), "path"));
    CHECK(first && !strcmp(first, "restorations.upscale"));
    json_decref(doc);
    http_resp_free(&r);

    /* 404, 405, request id echo */
    const char *rid[] = {"X-Request-Id: my-req.42", NULL};
    http_do("GET", url(&s, "/nope"), NULL, 0, rid, 5, &r);
    CHECK_ERROR(&r, 404, "not_found", "/nope");
    CHECK(!strcmp(r.request_id, "my-req.42"));
    http_resp_free(&r);
    const char *bad_rid[] = {"X-Request-Id: has space", NULL};
    http_do("GET", url(&s, "/healthz"), NULL, 0, bad_rid, 5, &r);
    CHECK(strlen(r.request_id) == 32); /* not echoed: replaced */
    http_resp_free(&r);
    http_do("GET", url(&s, "/v1/enhance"), NULL, 0, AUTH, 5, &r);
    CHECK_ERROR(&r, 405, "method_not_allowed", "POST");
    http_resp_free(&r);
    http_do("POST", url(&s, "/metrics"), "x", 1, NULL, 5, &r);
    CHECK_ERROR(&r, 405, "method_not_allowed", "GET");
    http_resp_free(&r);

    /* 401 */
    const char *noauth[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, noauth, 5, &r);
    CHECK_ERROR(&r, 401, "unauthorized", "Bearer");
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
    CHECK_ERROR(&r, 400, "invalid_request", "denoyse");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance"), mp, 40, mp_hdr, 30, &r); /* truncated multipart */
    CHECK_ERROR(&r, 400, "invalid_request", "multipart");
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
    CHECK_ERROR(&r, 400, "invalid_request", "'sclae'");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?exposure=500"), g_png, g_png_len, AUTH, 5, &r);
    CHECK_ERROR(&r, 400, "invalid_request", "exposure");
    http_resp_free(&r);
    const char *prio[] = {"Authorization: Bearer s3cret-key", "Content-Type: image/png", "X-Priority: urgent", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, prio, 5, &r);
    CHECK_ERROR(&r, 400, "invalid_request", "priority");
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
    CHECK_ERROR(&r, 413, "too_large", "409600 bytes; the limit is 307200");
    http_resp_free(&r);
    const char *expect[] = {"Authorization: Bearer s3cret-key", "Content-Type: image/png", "Expect: 100-continue", NULL};
    http_do("POST", url(&s, "/v1/enhance"), junk, big, expect, 10, &r); /* answered before the upload */
    CHECK_ERROR(&r, 413, "too_large", "409600 bytes; the limit is 307200");
    http_resp_free(&r);
    free(junk);
    http_do("POST", url(&s, "/v1/enhance"), g_big_png, g_big_png_len, AUTH, 10, &r);
    CHECK_ERROR(&r, 413, "too_large", "600x600");
    CHECK(r.body && strstr(r.body, "limit of 0.2 megapixels"));
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?width=1000&height=1000&fit=fill"), g_png, g_png_len, AUTH, 10, &r);
    CHECK_ERROR(&r, 413, "too_large", "1.0 MP; the limit is 0.5 MP");
    http_resp_free(&r);

    /* 415: not an image; a content type we do not take */
    http_do("POST", url(&s, "/v1/enhance"), "hello, world, this is text", 26, AUTH, 5, &r);
    CHECK_ERROR(&r, 415, "unsupported_media_type", "supported");
    http_resp_free(&r);
    const char *txt[] = {"Authorization: Bearer s3cret-key", "Content-Type: text/plain", NULL};
    http_do("POST", url(&s, "/v1/enhance"), g_png, g_png_len, txt, 5, &r);
    CHECK_ERROR(&r, 415, "unsupported_media_type", "text/plain");
    http_resp_free(&r);
    const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>";
    http_do("POST", url(&s, "/v1/enhance"), svg, sizeof svg - 1, AUTH, 5, &r);
    CHECK_MSG(r.status == 415, "SVG got %ld", r.status);
    http_resp_free(&r);

    /* 422: impossible operations; a model this server does not serve */
    http_do("POST", url(&s, "/v1/enhance?fit=pad&width=100"), g_png, g_png_len, AUTH, 5, &r);
    CHECK_ERROR(&r, 422, "unprocessable", "pad");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?upscale=photo"), g_png, g_png_len, AUTH, 5, &r);
    CHECK_ERROR(&r, 422, "model_not_found", "realesrgan-x4fast");
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
    /* a failure is labelled with the model it asked for; Prometheus' process names */
    CHECK(r.body && strstr(r.body, "enhance_requests_total{model=\"realesrgan-x4fast\",outcome=\"failure\","
                                   "reason=\"model_not_found\"} 1"));
    CHECK(r.body && strstr(r.body, "process_start_time_seconds 1") && !strstr(r.body, "images_per_second"));
    CHECK(r.body && strstr(r.body, "enhance_http_responses_total{code=\"413\"} 4"));
    CHECK(r.body && strstr(r.body, "process_resident_memory_bytes "));
    CHECK(r.body && strstr(r.body, "enhance_ready 1"));
    http_resp_free(&r);
    CHECK(test_server_wait_exit(&s, SIGTERM, 15) == 0);
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    test_cli();
    test_server_a();
    serve_test_teardown();
    CHECK_MAIN_END();
}
