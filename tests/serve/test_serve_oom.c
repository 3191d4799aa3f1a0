/* Out of memory inside the streamed encode (test_serve_oom SERVER_CMD...; the command is
 * not run: the server runs in this process so that the allocation hook of src/core/mem.h,
 * enh_mem_set_fail_above, reaches it).
 * A synthetic x2 ncnn model (tests/nn/ncnn_synth.h) is served as a custom model. For a model
 * request the upscale stays lazy and the model first runs while the result is encoded (the
 * encoder pulls the tiles). The hook makes allocations larger than the tiler's buffers but
 * smaller than the model's activations for this request's tile fail, so the pipeline call
 * succeeds and the model run inside the encode fails with ENH_ENOMEM:
 *  1. the answer is 503 out_of_memory with the server's JSON error body and the model's
 *     message (the activations it needed), not 500 internal, naming the model by its
 *     configured name; the metrics count it under reason="out_of_memory";
 *  2. with the hook off, the same request is answered 200 with the upscaled image (the
 *     worker is free, the model usable); under ASan nothing leaks (detect_leaks at exit).
 *  3. the tiler's own buffers, which the stream takes again when the encoder first asks for
 *     pixels (outside a model run): a limit below the tiler's largest buffer, armed through
 *     the server's debug_before_encode hook (after the pipeline call, whose own tiler plan
 *     allocates the same buffers), is answered 503 out_of_memory with the tiler's message
 *     while the result was encoded, and no model tile ran (it was 500 internal before
 *     enh_pipeline_lazy_status). That the limit hits the tiler's buffers is shown first:
 *     armed for the whole request it fails the pipeline call itself (503, not while encoding).
 *     Then 200 again. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "../check.h"
#include "../nn/ncnn_synth.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/mem.h"
#include "nn/model_cache.h"
#include "serve/serve.h"
#include "serve_test.h"

#define IMG_W 64 /* one tile (the configured tile is 96): the window is the whole image */
#define IMG_H 48

static void *pattern_png(int w, int h, size_t *len)
{
    VipsImage *x = NULL, *t = NULL, *u = NULL;
    void *buf = NULL;
    *len = 0;
    vips_xyz(&x, w, h, NULL);
    vips_bandjoin_const1(x, &t, 77, NULL); /* x, y, 77 */
    vips_cast_uchar(t, &u, NULL);
    vips_pngsave_buffer(u, &buf, len, NULL);
    g_object_unref(x);
    g_object_unref(t);
    g_object_unref(u);
    return buf;
}

static void post(const test_server *s, const void *png, size_t len, http_resp *r)
{
    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(s, "/v1/enhance?upscale=photo&model=synth&format=png"), png, len, hdr, 60, r);
}

/* bytes of the model's activations for one IMG_W x IMG_H tile (what enh_model_run allocates) */
static size_t activation_bytes(const char *param)
{
    enh_model *m = NULL;
    enh_error err;
    if (enh_model_cache_get(param, NULL, NULL, &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 0;
    }
    size_t ws = enh_model_workspace_bytes(m, 1, IMG_H, IMG_W);
    enh_model_cache_release(m);
    return ws > ENH_ALIGN ? ws - ENH_ALIGN : 0; /* the workspace figure adds the alignment */
}

/* the limit debug_before_encode arms (0: none), read on the server's pipeline worker */
static atomic_size_t g_encode_limit;

static void before_encode(void *user)
{
    (void)user;
    size_t lim = atomic_load(&g_encode_limit);
    if (lim)
        enh_mem_set_fail_above(lim);
}

static double tiles_run(const test_server *s)
{
    double n = 0;
    return metric_value(s, "enhance_tiles_total{model=\"synth\"} ", &n) ? n : 0;
}

static void test_oom_while_encoding(void)
{
    char param[160], bin[160], cfg[128], text[512];
    CHECK(synth_write_files(g_tmp, param, bin, sizeof param));
    snprintf(cfg, sizeof cfg, "%s/models.json", g_tmp);
    snprintf(text, sizeof text,
             "{\"models\": [{\"name\": \"synth\", \"param\": \"%s\", \"tile_size\": 96, \"max_batch\": 1}]}", param);
    CHECK(write_text(cfg, text));

    enh_serve_options o;
    enh_serve_options_init(&o);
    o.port = 0;
    o.pipeline_threads = 1; /* the request after the failure needs the same worker */
    o.io_threads = 1;
    o.cores = 2;
    o.debug_before_encode = before_encode;
    snprintf(o.models_config, sizeof o.models_config, "%s", cfg);
    enh_server *srv = NULL;
    enh_error err;
    if (enh_serve_start(&o, &srv, &err)) {
        CHECK_MSG(0, "enh_serve_start: %s", err.msg);
        return;
    }
    test_server s = {0};
    s.port = enh_serve_port(srv);
    snprintf(s.base, sizeof s.base, "http://127.0.0.1:%d", s.port);
    double until = enh_now() + 60;
    while (!enh_serve_ready(srv) && !enh_serve_load_failed(srv) && enh_now() < until)
        sleep_ms(20);
    CHECK_MSG(enh_serve_ready(srv), "the server did not become ready");

    /* the largest buffer the tiler allocates for this image (its output tile and its strip,
     * 3 planes of floats at twice the size) must fit under the limit, the activations not */
    size_t act = activation_bytes(param), tiler_max = (size_t)3 * (2 * IMG_W) * (2 * IMG_H) * sizeof(float);
    printf("activations %zu bytes for one %dx%d tile, largest tiler buffer %zu bytes\n", act, IMG_W, IMG_H,
           tiler_max);
    CHECK_MSG(act > tiler_max + 4096, "the hook cannot separate the model run from the tiler's buffers");

    size_t plen = 0;
    void *png = pattern_png(IMG_W, IMG_H, &plen);
    http_resp r;

    /* 1. the model run inside the encode fails with ENH_ENOMEM: 503 out_of_memory */
    enh_mem_set_fail_above(act - 1);
    post(&s, png, plen, &r);
    enh_mem_set_fail_above(0);
    CHECK_ERROR(&r, 503, "out_of_memory", "activations");
    CHECK_MSG(r.body && strstr(r.body, "while the result was encoded"), "not failed while encoding: %.300s",
              r.body ? r.body : "");
    json_t *doc = json_body(&r); /* the served model by its configured name, not its .param path */
    const char *model = json_string_value(json_object_get(json_object_get(json_object_get(doc, "error"), "details"),
                                                          "model"));
    CHECK_MSG(model && !strcmp(model, "synth"), "details.model: %s", model ? model : "(none)");
    json_decref(doc);
    http_resp_free(&r);
    double n = 0;
    CHECK(metric_value(&s, "enhance_requests_total{model=\"synth\",outcome=\"failure\",reason=\"out_of_memory\"} ",
                       &n) &&
          n == 1);
    CHECK(metric_value(&s, "enhance_http_responses_total{code=\"503\"} ", &n) && n == 1);

    /* 2. the same request with memory to spare: the upscaled image */
    post(&s, png, plen, &r);
    int w = 0, h = 0;
    image_dims(&r, &w, &h);
    CHECK_MSG(r.status == 200 && w == 2 * IMG_W && h == 2 * IMG_H, "after the 503: %ld %dx%d %.200s", r.status, w, h,
              r.status != 200 && r.body ? r.body : "");
    http_resp_free(&r);

    /* 3. the tiler's buffers fail when the encode takes them again. The limit: half the
     * largest tiler buffer (its output tile and strip fail, its input window is smaller). */
    size_t tiler_limit = tiler_max / 2;
    CHECK_MSG(tiler_limit < tiler_max && tiler_limit < act, "the limit does not hit the tiler's buffers");
    /* 3a. armed for the whole request: the pipeline call's tiler plan fails (the same buffers) */
    enh_mem_set_fail_above(tiler_limit);
    post(&s, png, plen, &r);
    enh_mem_set_fail_above(0);
    CHECK_ERROR(&r, 503, "out_of_memory", "tiles");
    CHECK_MSG(r.body && !strstr(r.body, "while the result was encoded"), "3a failed while encoding: %.300s",
              r.body ? r.body : "");
    http_resp_free(&r);
    /* 3b. armed only after the pipeline call: the stream fails when the encoder asks for pixels */
    double tiles0 = tiles_run(&s);
    atomic_store(&g_encode_limit, tiler_limit);
    post(&s, png, plen, &r);
    atomic_store(&g_encode_limit, 0);
    enh_mem_set_fail_above(0);
    CHECK_ERROR(&r, 503, "out_of_memory", "tiles");
    CHECK_MSG(r.body && strstr(r.body, "while the result was encoded") && !strstr(r.body, "activations"),
              "not the tiler failing while encoding: %.300s", r.body ? r.body : "");
    http_resp_free(&r);
    CHECK_MSG(tiles_run(&s) == tiles0, "a model tile ran: %.0f -> %.0f", tiles0, tiles_run(&s));
    CHECK(metric_value(&s, "enhance_requests_total{model=\"synth\",outcome=\"failure\",reason=\"out_of_memory\"} ",
                       &n) &&
          n == 3);
    CHECK(metric_value(&s, "enhance_http_responses_total{code=\"500\"} ", &n) == 0 || n == 0);
    /* 3c. and served again */
    post(&s, png, plen, &r);
    image_dims(&r, &w, &h);
    CHECK_MSG(r.status == 200 && w == 2 * IMG_W && h == 2 * IMG_H, "after 3b: %ld %dx%d %.200s", r.status, w, h,
              r.status != 200 && r.body ? r.body : "");
    http_resp_free(&r);
    g_free(png);

    enh_serve_stop(srv);
    enh_model_cache_clear();
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    enh_log_set_level(ENH_LOG_WARN);
    test_oom_while_encoding();
    serve_test_teardown();
    CHECK_MAIN_END();
}
