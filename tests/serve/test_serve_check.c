/* test_serve_check.c - POST /v1/check and moderation=flag|block on the enhance endpoint, against
 * the real server: the answer's JSON shape, its errors (a policy the server does not take, an
 * unknown key, a wrong method, a bad image), the 422 moderation_blocked before any other work
 * with the probabilities and the rule in its details, the X-Moderation headers of a flagged
 * result (of /v1/enhance, and of an asynchronous job, whose status has the moderation), the
 * server's --moderation as a floor a request cannot lower, and the decisions' counter in
 * /metrics. The policies that decide fire on any probability (>= 0) or on none, so
 * the outcome does not depend on what the network sees in a synthetic image.
 *
 * With the nsfwjs classifier installed (`enhance models fetch nsfwjs-mobilenetv2`) every case
 * runs; without it the test checks that moderation is reported unavailable with the command
 * that installs it, and that moderation=block is refused as model_not_found. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "serve_test.h"

static const char *const JPEG[] = {"Content-Type: image/jpeg", NULL};
#define ALL_BLOCK "none,drawing=0:0,hentai=0:0,neutral=0:0,porn=0:0,sexy=0:0"

/* The response headers of a POST (libcurl), for the X-Moderation ones http_client does not keep. */
static size_t on_header(char *b, size_t size, size_t n, void *user)
{
    char *out = user;
    size_t have = strlen(out), add = size * n;
    if (have + add < 8192) {
        memcpy(out + have, b, add);
        out[have + add] = 0;
    }
    return size * n;
}
static size_t on_body(char *b, size_t size, size_t n, void *user)
{
    (void)b;
    (void)user;
    return size * n;
}
/* body NULL: a GET */
static long post_headers(const char *u, const void *body, size_t len, char *hdrs)
{
    hdrs[0] = 0;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: image/jpeg");
    curl_easy_setopt(c, CURLOPT_URL, u);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return code;
}

static int start(test_server *s, const char *const *extra)
{
    /* no upscaler (only the checks and the filters), the models folder the CLI uses (where the
     * classifier is installed; a config file's own folder otherwise) */
    char cfg[128], dir[900], text[1100];
    const char *env = getenv("ENHANCE_MODELS_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/enhance/models", xdg);
    else
        snprintf(dir, sizeof dir, "%s/.cache/enhance/models", home ? home : "/nonexistent");
    snprintf(cfg, sizeof cfg, "%s/none.json", g_tmp);
    snprintf(text, sizeof text, "{\"models_dir\": \"%s\", \"models\": []}", dir);
    if (!write_text(cfg, text))
        return -1;
    const char *args[24] = {"--log-level", "warn", "--models-config", cfg};
    int n = 4;
    for (int i = 0; extra && extra[i] && n < 22; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    if (test_server_start(s, g_cmd, args) || !s->port)
        return -1;
    return test_server_wait_ready(s, 60);
}

static int g_have_classifier;

/* 1 when /metrics has a line starting with prefix. */
static int metrics_has(const test_server *s, const char *prefix)
{
    http_resp r;
    http_do("GET", url(s, "/metrics"), NULL, 0, NULL, 5, &r);
    int ok = r.body && strstr(r.body, prefix);
    http_resp_free(&r);
    return ok;
}

static void test_check_endpoint(void)
{
    test_server s;
    CHECK(start(&s, NULL) == 0);
    if (!s.port)
        return;
    http_resp r;
    http_do("POST", url(&s, "/v1/check"), g_jpeg, g_jpeg_len, JPEG, 60, &r);
    CHECK_MSG(r.status == 200, "%ld %.300s", r.status, r.body ? r.body : "");
    CHECK(strstr(r.content_type, "application/json") != NULL);
    json_t *doc = json_body(&r);
    CHECK(doc != NULL);
    json_t *mod = json_object_get(doc, "moderation");
    g_have_classifier = json_is_true(json_object_get(mod, "available"));
    CHECK(json_integer_value(json_object_get(doc, "width")) == 32);
    CHECK(json_is_object(json_object_get(json_object_get(doc, "quality"), "assessment")));
    CHECK(json_is_object(json_object_get(json_object_get(doc, "quality"), "brisque")));
    const char *dec = json_string_value(json_object_get(doc, "decision"));
    if (g_have_classifier) {
        CHECK(dec && (!strcmp(dec, "allow") || !strcmp(dec, "review") || !strcmp(dec, "block")));
        CHECK(json_object_size(json_object_get(mod, "probabilities")) == 5);
        /* the server's default policy, shown */
        json_t *pol = json_object_get(mod, "policy");
        CHECK_NEAR(json_real_value(json_object_get(json_object_get(pol, "porn"), "block")), 0.9, 1e-9);
    } else {
        printf("note: the nsfwjs classifier is not installed: the decisions are not exercised\n");
        CHECK(dec && !strcmp(dec, "unchecked"));
        const char *inst = json_string_value(json_object_get(mod, "install"));
        CHECK(inst && strstr(inst, "enhance models fetch nsfwjs-mobilenetv2"));
    }
    json_decref(doc);
    http_resp_free(&r);

    /* skip: only the assessment */
    http_do("POST", url(&s, "/v1/check?skip=moderation,brisque"), g_jpeg, g_jpeg_len, JPEG, 60, &r);
    CHECK(r.status == 200 && r.body && strstr(r.body, "\"skipped\":true"));
    http_resp_free(&r);
    /* errors */
    http_do("POST", url(&s, "/v1/check?policy=none"), g_jpeg, g_jpeg_len, JPEG, 30, &r);
    CHECK_ERROR(&r, 400, "invalid_request", "--allow-policy-override");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/check?upscale=2"), g_jpeg, g_jpeg_len, JPEG, 30, &r);
    CHECK_ERROR(&r, 400, "invalid_request", "unknown query key 'upscale'");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/check?skip=everything"), g_jpeg, g_jpeg_len, JPEG, 30, &r);
    CHECK_ERROR(&r, 400, "invalid_request", "unknown part");
    http_resp_free(&r);
    http_do("GET", url(&s, "/v1/check"), NULL, 0, NULL, 30, &r);
    CHECK_ERROR(&r, 405, "method_not_allowed", "POST /v1/check");
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/check"), "not an image", 12, JPEG, 30, &r);
    CHECK(r.status == 400 || r.status == 415);
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?moderation=maybe"), g_jpeg, g_jpeg_len, JPEG, 30, &r);
    CHECK_ERROR(&r, 400, "invalid_request", "moderation");
    http_resp_free(&r);
    if (!g_have_classifier) {
        http_do("POST", url(&s, "/v1/check?require=moderation"), g_jpeg, g_jpeg_len, JPEG, 30, &r);
        CHECK_ERROR(&r, 422, "model_not_found", NULL);
        http_resp_free(&r);
        http_do("POST", url(&s, "/v1/enhance?moderation=block"), g_jpeg, g_jpeg_len, JPEG, 30, &r);
        CHECK_ERROR(&r, 422, "model_not_found", "enhance models fetch nsfwjs-mobilenetv2");
        http_resp_free(&r);
    } else {
        CHECK(metrics_has(&s, "enhance_moderation_decisions_total{endpoint=\"check\""));
    }
    CHECK(test_server_wait_exit(&s, 15, 20) == 0);
}

/* A server whose policy blocks everything, per-request policies allowed. */
static void test_block_and_flag(void)
{
    if (!g_have_classifier)
        return;
    const char *extra[] = {"--moderation-policy", ALL_BLOCK, "--allow-policy-override", NULL};
    test_server s;
    CHECK(start(&s, extra) == 0);
    if (!s.port)
        return;
    http_resp r;
    http_do("POST", url(&s, "/v1/check"), g_jpeg, g_jpeg_len, JPEG, 60, &r);
    CHECK(r.status == 200 && r.body && strstr(r.body, "\"decision\":\"block\""));
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/check?policy=none"), g_jpeg, g_jpeg_len, JPEG, 60, &r);
    CHECK(r.status == 200 && r.body && strstr(r.body, "\"decision\":\"allow\""));
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/check?policy=porn=2:"), g_jpeg, g_jpeg_len, JPEG, 60, &r);
    CHECK_ERROR(&r, 400, "invalid_request", "not a probability");
    http_resp_free(&r);

    /* block: 422 before the pipeline, with the probabilities and the rule */
    http_do("POST", url(&s, "/v1/enhance?moderation=block&resize=2"), g_jpeg, g_jpeg_len, JPEG, 60, &r);
    CHECK_ERROR(&r, 422, "moderation_blocked", "block threshold");
    json_t *doc = json_body(&r);
    json_t *m = json_object_get(json_object_get(json_object_get(doc, "error"), "details"), "moderation");
    CHECK(json_object_size(json_object_get(m, "probabilities")) == 5);
    json_t *r0 = json_array_get(json_object_get(m, "reasons"), 0);
    CHECK(r0 && !strcmp(json_string_value(json_object_get(r0, "level")), "block"));
    json_decref(doc);
    http_resp_free(&r);
    /* flag: the image, and the probabilities in headers */
    char hdrs[8192];
    long code = post_headers(url(&s, "/v1/enhance?moderation=flag&resize=2"), g_jpeg, g_jpeg_len, hdrs);
    CHECK_MSG(code == 200, "%ld", code);
    CHECK_MSG(strstr(hdrs, "X-Moderation: drawing=") != NULL, "%s", hdrs);
    CHECK(strstr(hdrs, "X-Moderation-Decision: block") != NULL);
    CHECK(strstr(hdrs, "X-Moderation-Reasons: block ") != NULL);
    /* an asynchronous job with moderation=flag: its status has the moderation once done, its
     * result the same X-Moderation headers as /v1/enhance */
    http_do("POST", url(&s, "/v1/jobs?moderation=flag&resize=2"), g_jpeg, g_jpeg_len, JPEG, 30, &r);
    CHECK_MSG(r.status == 202, "job: %ld %.200s", r.status, r.body ? r.body : "");
    doc = json_body(&r);
    char path[160];
    snprintf(path, sizeof path, "/v1/jobs/%s", doc ? json_string_value(json_object_get(doc, "id")) : "none");
    json_decref(doc);
    http_resp_free(&r);
    const char *state = "";
    doc = NULL;
    for (int i = 0; i < 600 && (!strcmp(state, "") || !strcmp(state, "queued") || !strcmp(state, "running")); i++) {
        json_decref(doc);
        http_do("GET", url(&s, path), NULL, 0, NULL, 5, &r);
        doc = json_body(&r);
        http_resp_free(&r);
        const char *st = doc ? json_string_value(json_object_get(doc, "state")) : NULL;
        state = st ? st : "?";
        if (!strcmp(state, "queued") || !strcmp(state, "running"))
            sleep_ms(100);
    }
    json_t *jm = json_object_get(doc, "moderation");
    const char *decision = json_string_value(json_object_get(jm, "decision"));
    CHECK_MSG(!strcmp(state, "done") && json_object_size(json_object_get(jm, "probabilities")) == 5 && decision &&
                  !strcmp(decision, "block"),
              "the job's moderation (state %s, decision %s)", state, decision ? decision : "none");
    json_decref(doc);
    strncat(path, "/result", sizeof path - strlen(path) - 1);
    code = post_headers(url(&s, path), NULL, 0, hdrs);
    CHECK_MSG(code == 200 && strstr(hdrs, "X-Moderation: drawing=") && strstr(hdrs, "X-Moderation-Decision: block"),
              "the job's result: %ld %s", code, hdrs);
    /* off: no headers */
    code = post_headers(url(&s, "/v1/enhance?resize=2"), g_jpeg, g_jpeg_len, hdrs);
    CHECK(code == 200 && !strstr(hdrs, "X-Moderation"));
    CHECK(metrics_has(&s, "enhance_moderation_decisions_total{endpoint=\"enhance\",decision=\"block\",class=\""));
    CHECK(test_server_wait_exit(&s, 15, 20) == 0);

    /* the server's --moderation block is a floor: moderation=off does not lower it */
    const char *floor_args[] = {"--moderation", "block", "--moderation-policy", ALL_BLOCK, NULL};
    CHECK(start(&s, floor_args) == 0);
    if (!s.port)
        return;
    http_do("POST", url(&s, "/v1/enhance?moderation=off&resize=2"), g_jpeg, g_jpeg_len, JPEG, 60, &r);
    CHECK_ERROR(&r, 422, "moderation_blocked", NULL);
    http_resp_free(&r);
    CHECK(test_server_wait_exit(&s, 15, 20) == 0);
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    test_check_endpoint();
    test_block_and_flag();
    serve_test_teardown();
    CHECK_MAIN_END();
}
