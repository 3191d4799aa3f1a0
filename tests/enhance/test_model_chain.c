/* test_model_chain.c - the restoration networks' chain (stage_model.c) in process, small enough
 * for the sanitizer tree: a 24x24 photo-like image through `denoise ai` then the x4fast upscaler
 * at x2 (one request, the network at the input's size), and through `deblur ai` + the low-light
 * network (two networks chained in float) at a blended strength. Checks sizes, that each stage
 * ran (the report), that the pixels changed within bounds, and that a run cut by the deadline
 * fails cleanly. The real MAXIM models are needed (the runtime's paths the CLI test covers only
 * in the release tree): without maxim-denoising, -deblurring, -enhancement and realesrgan-x4fast
 * in the models folder ($ENHANCE_MODELS_DIR, else ~/.cache/enhance/models) it SKIPs (77).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "../check.h"
#include "core/fsutil.h"
#include "enhance/ops.h"
#include "enhance/pipeline.h"
#include "nn/manifest.h"

#define S 24

static VipsImage *photo(void)
{
    unsigned char px[S * S * 3];
    unsigned v = 12345;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++) {
                v = v * 1103515245u + 12345u;
                int base = 40 + 6 * x + 3 * y + 20 * c + ((x / 6 + y / 6) % 2 ? 50 : 0);
                int n = (int)((v >> 16) % 25) - 12; /* +-12 levels of noise */
                int p = base + n;
                px[3 * (y * S + x) + c] = (unsigned char)(p < 0 ? 0 : p > 255 ? 255 : p);
            }
    VipsImage *m = vips_image_new_from_memory_copy(px, sizeof px, S, S, 3, VIPS_FORMAT_UCHAR), *o = NULL;
    vips_copy(m, &o, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(m);
    return o;
}

/* mean |a - b| over the first 3 bands of two images of one size */
static double mean_absdiff(VipsImage *a, VipsImage *b)
{
    VipsImage *d = NULL, *x = NULL;
    double m = -1;
    if (!vips_subtract(a, b, &d, NULL) && !vips_abs(d, &x, NULL))
        vips_avg(x, &m, NULL);
    if (d)
        g_object_unref(d);
    if (x)
        g_object_unref(x);
    return m;
}

static enh_status run(VipsImage *in, const char *json, const enh_pipeline_ctx *ctx, VipsImage **out,
                      enh_pipeline_report *rep, enh_error *err)
{
    enh_ops ops;
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    enh_status st = enh_ops_from_json(json, strlen(json), &ops, err);
    if (st)
        return st;
    VipsImage *o = NULL;
    if ((st = enh_pipeline_run(in, &ops, ctx, &o, rep, err)))
        return st;
    *out = vips_image_copy_memory(o); /* the upscale is lazy: its errors would surface here */
    g_object_unref(o);
    if (!*out)
        return enh_fail(err, ENH_EINTERNAL, "reading the result: %s", vips_error_buffer());
    return ENH_OK;
}

int main(void)
{
    if (VIPS_INIT("test_model_chain"))
        return 1;
    char dir[4096];
    enh_models_dir_rule(getenv("ENHANCE_MODELS_DIR"), getenv("XDG_CACHE_HOME"), getenv("HOME"), dir, sizeof dir);
    static const char *const need[] = {"maxim-denoising", "maxim-deblurring", "maxim-enhancement",
                                       "realesrgan-x4fast"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        const enh_model_entry *e = enh_manifest_find(need[i]);
        if (!e || !enh_model_installed(e, dir)) {
            printf("SKIP: %s is not installed in %s (enhance models fetch %s)\n", need[i], dir, need[i]);
            return 77;
        }
    }
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.models_dir = dir;
    VipsImage *in = photo(), *out = NULL;
    enh_pipeline_report rep;
    enh_error err = {0};

    /* denoise ai, then the upscaler: the network at 24x24, the output at 48x48 */
    double t0 = enh_now();
    enh_status st = run(in, "{\"restorations\": {\"denoise\": \"ai\", \"upscale\": 2}}", &ctx, &out, &rep, &err);
    CHECK_MSG(st == ENH_OK, "denoise ai + upscale 2: %s", err.msg);
    if (out) {
        CHECK_MSG(vips_image_get_width(out) == 2 * S && vips_image_get_height(out) == 2 * S, "chain output %dx%d",
                  vips_image_get_width(out), vips_image_get_height(out));
        CHECK_MSG(strstr(rep.explain, "maxim-denoising") != NULL, "explain names the network: %s", rep.explain);
        CHECK_MSG(strstr(rep.model, "x4fast") != NULL, "upscaler %s", rep.model);
        VipsImage *small = NULL;
        CHECK(vips_resize(out, &small, 0.5, "kernel", VIPS_KERNEL_LINEAR, NULL) == 0);
        double d = small ? mean_absdiff(small, in) : -1;
        /* the noise is +-12 levels: the result moves, but stays the same picture */
        CHECK_MSG(d > 0.5 && d < 25, "denoised + upscaled vs input: mean |d| %.2f", d);
        if (small)
            g_object_unref(small);
        g_object_unref(out);
    }
    printf("denoise ai + upscale 2: %.1f s\n", enh_now() - t0);

    /* two networks chained in float (deblur, then low light at 60%), same size */
    t0 = enh_now();
    st = run(in, "{\"restorations\": {\"deblur\": \"ai\", \"low_light\": 60}}", &ctx, &out, &rep, &err);
    CHECK_MSG(st == ENH_OK, "deblur ai + low light: %s", err.msg);
    if (out) {
        CHECK(vips_image_get_width(out) == S && vips_image_get_height(out) == S);
        CHECK_MSG(strstr(rep.explain, "maxim-deblurring") && strstr(rep.explain, "maxim-enhancement"),
                  "explain names both networks: %s", rep.explain);
        double d = mean_absdiff(out, in);
        CHECK_MSG(d > 0.5 && d < 120, "deblurred + lit vs input: mean |d| %.2f", d);
        g_object_unref(out);
    }
    printf("deblur ai + low light 60: %.1f s\n", enh_now() - t0);

    /* a deadline already past: refused up front, no output, no leak */
    ctx.deadline = enh_now() - 1;
    st = run(in, "{\"restorations\": {\"denoise\": \"ai\"}}", &ctx, &out, &rep, &err);
    CHECK_MSG(st == ENH_ETIMEOUT && !out, "past deadline: status %d (%s)", st, err.msg);
    if (out)
        g_object_unref(out);

    g_object_unref(in);
    vips_shutdown();
    CHECK_MAIN_END();
}
