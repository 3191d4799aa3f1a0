/* The first hour of a new user, without the network and without models: zero-config serve (no
 * --models-config serves what ENHANCE_MODELS_DIR holds; here an empty folder, so a model request
 * says how to install and serve the model), a scale without an upscale method refused in words,
 * the asynchronous jobs (POST /v1/jobs -> 202 + Location, GET state and progress, the result with
 * its download name, DELETE cancels a running job, 404 after), the download name of
 * POST /v1/enhance (Content-Disposition), a deadline error that names POST /v1/jobs, and the
 * opt-in CORS headers (--cors-origin, preflight). Runs test_serve_jobs SERVER_CMD... */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/fsutil.h"
#include "serve_test.h"

static const char *const PNG[] = {"Content-Type: image/png", NULL};

static const char *state_of(json_t *doc) { return json_string_value(json_object_get(doc, "state")); }

/* Polls GET /v1/jobs/ID until its state is not queued/running (timeout_s); returns the last
 * document (json_decref it) or NULL. */
static json_t *wait_job(const test_server *s, const char *id, double timeout_s)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/jobs/%s", id);
    for (int i = 0; i < (int)(timeout_s * 20); i++) {
        http_resp r;
        http_do("GET", url(s, path), NULL, 0, NULL, 5, &r);
        json_t *doc = json_body(&r);
        http_resp_free(&r);
        const char *st = doc ? state_of(doc) : NULL;
        if (!st || (strcmp(st, "queued") && strcmp(st, "running")))
            return doc;
        json_decref(doc);
        sleep_ms(50);
    }
    return NULL;
}

static void test_zero_config(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/models", g_tmp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CHECK(system(cmd) == 0);
    setenv("ENHANCE_MODELS_DIR", dir, 1); /* the server (our child) inherits it */
    const char *args[] = {"--log-level", "warn", "--cors-origin", "https://example.org", "--job-ttl", "2", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return;
    CHECK(test_server_wait_ready(&s, 30) == 0);
    http_resp r;

    /* a model that is not installed: how to install it and how to serve it */
    http_do("POST", url(&s, "/v1/enhance?upscale=art&scale=2"), g_png, g_png_len, PNG, 10, &r);
    CHECK_ERROR(&r, 422, "model_not_found", "enhance models fetch realesr-animevideov3-x2");
    CHECK_ERROR(&r, 422, "model_not_found", "SIGHUP");
    http_resp_free(&r);
    /* a scale without an upscale method is refused in words, never ignored */
    http_do("POST", url(&s, "/v1/enhance?scale=2"), g_png, g_png_len, PNG, 10, &r);
    CHECK_ERROR(&r, 422, "unprocessable", "upscale=photo");
    http_resp_free(&r);

    /* POST /v1/enhance names its result; CORS header on every answer */
    http_do("POST", url(&s, "/v1/enhance?upscale=resample&scale=2&format=jpeg&filename=My%20garden.png"), g_png,
            g_png_len, PNG, 10, &r);
    CHECK_MSG(r.status == 200 && strstr(r.disposition, "filename=\"My_garden_x2_resample.jpg\""), "%ld [%s]",
              r.status, r.disposition);
    CHECK_MSG(!strcmp(r.allow_origin, "https://example.org"), "[%s]", r.allow_origin);
    http_resp_free(&r);
    http_do("OPTIONS", url(&s, "/v1/jobs"), NULL, 0, NULL, 5, &r);
    CHECK_MSG(r.status == 204 && !strcmp(r.allow_origin, "https://example.org"), "preflight %ld", r.status);
    http_resp_free(&r);

    /* the cost before anything runs; seconds from this server's measured speed (one request so far) */
    http_do("POST", url(&s, "/v1/jobs?upscale=resample&scale=3&dry_run=true"), g_png, g_png_len, PNG, 10, &r);
    json_t *est = json_body(&r);
    json_t *e = est ? json_object_get(est, "estimate") : NULL;
    CHECK_MSG(r.status == 200 && e && fabs(json_number_value(json_object_get(e, "output_megapixels")) - 0.009216) < 1e-6,
              "dry run %ld %.200s", r.status, r.body ? r.body : "");
    json_decref(est);
    http_resp_free(&r);

    /* an asynchronous job: 202 + id, state, result with its name */
    http_do("POST", url(&s, "/v1/jobs?upscale=resample&scale=3&filename=garden.png"), g_png, g_png_len, PNG, 10, &r);
    json_t *doc = json_body(&r);
    const char *id = doc ? json_string_value(json_object_get(doc, "id")) : NULL;
    CHECK_MSG(r.status == 202 && id && strstr(r.location, id), "%ld %.300s", r.status, r.body ? r.body : "");
    char jid[64] = "";
    snprintf(jid, sizeof jid, "%s", id ? id : "none");
    CHECK(doc && json_is_number(json_object_get(json_object_get(doc, "estimate"), "output_megapixels")));
    json_decref(doc);
    http_resp_free(&r);
    doc = wait_job(&s, jid, 20);
    CHECK_MSG(doc && !strcmp(state_of(doc), "done"), "job state %s", doc ? state_of(doc) : "(none)");
    json_t *out = doc ? json_object_get(doc, "output") : NULL;
    CHECK(out && json_integer_value(json_object_get(out, "width")) == 96);
    CHECK(doc && json_real_value(json_object_get(doc, "progress")) == 1.0);
    json_decref(doc);
    char path[128];
    snprintf(path, sizeof path, "/v1/jobs/%s/result", jid);
    http_do("GET", url(&s, path), NULL, 0, NULL, 10, &r);
    int w, h;
    image_dims(&r, &w, &h);
    CHECK_MSG(r.status == 200 && w == 96 && h == 96, "result %ld %dx%d", r.status, w, h);
    CHECK_MSG(strstr(r.disposition, "attachment") && strstr(r.disposition, "garden_x3_resample.png"), "[%s]",
              r.disposition);
    http_resp_free(&r);
    snprintf(path, sizeof path, "/v1/jobs/%s", jid);
    http_do("DELETE", url(&s, path), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 200);
    http_resp_free(&r);
    http_do("GET", url(&s, path), NULL, 0, NULL, 5, &r);
    CHECK_ERROR(&r, 404, "not_found", "POST /v1/jobs");
    http_resp_free(&r);
    http_do("GET", url(&s, "/v1/jobs/zz/result"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 404);
    http_resp_free(&r);

    /* a result nobody fetches is removed --job-ttl seconds after it finished */
    http_do("POST", url(&s, "/v1/jobs?upscale=resample"), g_png, g_png_len, PNG, 10, &r);
    doc = json_body(&r);
    snprintf(jid, sizeof jid, "%s", doc ? json_string_value(json_object_get(doc, "id")) : "none");
    json_decref(doc);
    http_resp_free(&r);
    doc = wait_job(&s, jid, 20);
    CHECK(doc && !strcmp(state_of(doc), "done"));
    json_decref(doc);
    sleep_ms(2300);
    snprintf(path, sizeof path, "/v1/jobs/%s", jid);
    http_do("GET", url(&s, path), NULL, 0, NULL, 5, &r);
    CHECK_MSG(r.status == 404, "result still kept after --job-ttl 2: %ld", r.status);
    http_resp_free(&r);
    CHECK(test_server_wait_exit(&s, SIGTERM, 20) == 0);
    unsetenv("ENHANCE_MODELS_DIR");
}

/* A long job (the test hook makes every request compute 3 s, cancellable): progress while it
 * runs, the result refused with 409 until done, DELETE stops it; a deadline error on the
 * synchronous endpoint says to use POST /v1/jobs. */
static void test_long_job(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/models", g_tmp);
    setenv("ENHANCE_MODELS_DIR", dir, 1);
    const char *args[] = {"--log-level", "warn", "--debug-delay-ms", "3000", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return;
    CHECK(test_server_wait_ready(&s, 30) == 0);
    http_resp r;
    http_do("POST", url(&s, "/v1/enhance?upscale=resample&deadline_ms=300"), g_png, g_png_len, PNG, 10, &r);
    CHECK_ERROR(&r, 504, "deadline_exceeded", "POST /v1/jobs");
    http_resp_free(&r);

    http_do("POST", url(&s, "/v1/jobs?upscale=resample"), g_png, g_png_len, PNG, 10, &r);
    json_t *doc = json_body(&r);
    char jid[64];
    snprintf(jid, sizeof jid, "%s", doc ? json_string_value(json_object_get(doc, "id")) : "none");
    json_decref(doc);
    http_resp_free(&r);
    sleep_ms(300);
    char path[128];
    snprintf(path, sizeof path, "/v1/jobs/%s", jid);
    http_do("GET", url(&s, path), NULL, 0, NULL, 5, &r);
    doc = json_body(&r);
    CHECK_MSG(doc && !strcmp(state_of(doc), "running"), "%.300s", r.body ? r.body : "");
    json_decref(doc);
    http_resp_free(&r);
    snprintf(path, sizeof path, "/v1/jobs/%s/result", jid);
    http_do("GET", url(&s, path), NULL, 0, NULL, 5, &r);
    CHECK_ERROR(&r, 409, "not_ready", "still running");
    http_resp_free(&r);
    snprintf(path, sizeof path, "/v1/jobs/%s", jid);
    double t0 = enh_now();
    http_do("DELETE", url(&s, path), NULL, 0, NULL, 5, &r);
    doc = json_body(&r);
    CHECK_MSG(r.status == 200 && doc && !strcmp(state_of(doc), "cancelled"), "%ld", r.status);
    json_decref(doc);
    http_resp_free(&r);
    /* the compute stops within the hook's 5 ms poll; the entry goes with it */
    int gone = 0;
    while (!gone && enh_now() - t0 < 2.0) {
        http_do("GET", url(&s, path), NULL, 0, NULL, 5, &r);
        gone = r.status == 404;
        http_resp_free(&r);
        sleep_ms(20);
    }
    CHECK_MSG(gone, "cancelled job still listed after %.1f s", enh_now() - t0);
    double inflight = -1;
    metric_value(&s, "enhance_inflight_requests{model=\"none\"} ", &inflight);
    CHECK_MSG(inflight <= 0, "in flight after cancel: %g", inflight);
    CHECK(test_server_wait_exit(&s, SIGTERM, 20) == 0);
    unsetenv("ENHANCE_MODELS_DIR");
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    test_zero_config();
    test_long_job();
    serve_test_teardown();
    CHECK_MAIN_END();
}
