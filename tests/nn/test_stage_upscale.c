/* test_stage_upscale.c - the upscale stage with realesrgan-x4fast on small images: output
 * sizes for native / x2 / x1 scales, RGB == the model's own output quantised, alpha as its
 * own grey image (constant alpha kept), greyscale and 16-bit kept, lanczos resample,
 * report fields, progress, cancellation and unknown-model errors. Skips without the model. */
#include <stdatomic.h>
#include <vips/vips.h>

#include "../check.h"
#include "enhance/stages.h"
#include "nn/model_cache.h"
#include "nn_util.h"

static const char *model_ref = "realesrgan-x4fast";

static VipsImage *make_image(int w, int h, int bands, VipsBandFormat fmt, int varying_alpha)
{
    size_t n = (size_t)w * h * bands;
    int wide = fmt == VIPS_FORMAT_USHORT;
    void *buf = g_malloc(n * (wide ? 2 : 1));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int b = 0; b < bands; b++) {
                double v = 0.5 + 0.4 * sin(0.37 * x + 1.3 * b) * cos(0.23 * y - 0.5 * b);
                if ((bands == 2 || bands == 4) && b == bands - 1)
                    v = varying_alpha ? (x > w / 2 ? 1.0 : 0.1 + 0.02 * y) : 200.0 / 255;
                size_t i = ((size_t)y * w + x) * bands + b;
                if (wide)
                    ((unsigned short *)buf)[i] = (unsigned short)(v * 65535 + 0.5);
                else
                    ((unsigned char *)buf)[i] = (unsigned char)(v * 255 + 0.5);
            }
    VipsImage *im = vips_image_new_from_memory_copy(buf, n * (wide ? 2 : 1), w, h, bands, fmt);
    g_free(buf);
    VipsInterpretation it = bands >= 3 ? (wide ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB)
                                       : (wide ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W);
    VipsImage *t;
    vips_copy(im, &t, "interpretation", it, NULL);
    g_object_unref(im);
    return t;
}

static unsigned char *pixels(VipsImage *im, size_t *size)
{
    return vips_image_write_to_memory(im, size);
}

static int progress_calls;
static void on_progress(void *u, double f)
{
    (void)u;
    CHECK(f >= 0 && f <= 1.0);
    progress_calls++;
}

static VipsImage *upscale(VipsImage *in, enh_upscale_kind kind, double scale, enh_pipeline_report *rep,
                          enh_pipeline_ctx *ctx, enh_status *st_out)
{
    enh_ops ops;
    enh_ops_init(&ops);
    ops.upscale = kind;
    ops.scale = scale;
    if (kind != ENH_UPSCALE_RESAMPLE)
        snprintf(ops.model, sizeof ops.model, "%s", model_ref);
    enh_pipeline_ctx dctx;
    enh_pipeline_ctx_init(&dctx);
    enh_error err = {0};
    VipsImage *out = NULL;
    memset(rep, 0, sizeof *rep);
    enh_status st = enh_stage_upscale(in, &ops, ctx ? ctx : &dctx, &out, rep, &err);
    if (st_out)
        *st_out = st;
    else
        CHECK_MSG(st == ENH_OK, "%s", err.msg);
    return out;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 1;
    char param[4096], bin[4096];
    if (nn_find_model(model_ref, param, bin, sizeof param)) {
        printf("SKIP: realesrgan-x4fast is not installed (enhance models fetch realesrgan-x4fast)\n");
        return SKIP_CODE;
    }
    enh_pipeline_report rep;
    const int W = 29, H = 21;

    /* RGB uchar at the native scale == the model's output quantised */
    VipsImage *rgb = make_image(W, H, 3, VIPS_FORMAT_UCHAR, 0);
    VipsImage *o = upscale(rgb, ENH_UPSCALE_PHOTO, 0, &rep, NULL, NULL);
    CHECK(o && vips_image_get_width(o) == 4 * W && vips_image_get_height(o) == 4 * H && vips_image_get_bands(o) == 3);
    CHECK(vips_image_get_format(o) == VIPS_FORMAT_UCHAR);
    CHECK(!strcmp(rep.model, model_ref) && rep.tiles >= 1);
    {
        enh_model *m;
        enh_error err;
        CHECK(enh_model_cache_get(model_ref, NULL, NULL, &m, &err) == ENH_OK);
        size_t sz;
        unsigned char *ip = pixels(rgb, &sz), *op = pixels(o, &sz);
        float *fin = enh_alloc((size_t)3 * W * H * 4), *fout = enh_alloc((size_t)3 * 16 * W * H * 4);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < W * H; i++)
                fin[(size_t)k * W * H + i] = ip[(size_t)i * 3 + k] / 255.f;
        CHECK(enh_model_run(m, fin, 1, H, W, fout, NULL, &err) == ENH_OK);
        int maxd = 0;
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 16 * W * H; i++) {
                float f = fout[(size_t)k * 16 * W * H + i];
                int q = (int)((f < 0 ? 0 : f > 1 ? 1 : f) * 255 + 0.5f), d = abs(q - op[(size_t)i * 3 + k]);
                maxd = d > maxd ? d : maxd;
            }
        CHECK_MSG(maxd <= 1, "stage vs model: %d levels", maxd);
        enh_model_cache_release(m);
        g_free(ip);
        g_free(op);
        enh_free(fin);
        enh_free(fout);
    }
    g_object_unref(o);

    /* x2 (model x4 + lanczos 0.5) and x1 */
    o = upscale(rgb, ENH_UPSCALE_PHOTO, 2, &rep, NULL, NULL);
    CHECK(o && vips_image_get_width(o) == 2 * W && vips_image_get_height(o) == 2 * H);
    g_object_unref(o);
    o = upscale(rgb, ENH_UPSCALE_PHOTO, 1, &rep, NULL, NULL);
    CHECK(o && vips_image_get_width(o) == W && vips_image_get_height(o) == H);
    g_object_unref(o);

    /* lanczos only */
    o = upscale(rgb, ENH_UPSCALE_RESAMPLE, 3, &rep, NULL, NULL);
    CHECK(o && vips_image_get_width(o) == 3 * W && !strcmp(rep.model, "lanczos3") && rep.tiles == 0);
    g_object_unref(o);

    /* RGBA, varying alpha: 4 bands, alpha upscaled by the model (two passes) */
    VipsImage *rgba = make_image(W, H, 4, VIPS_FORMAT_UCHAR, 1);
    o = upscale(rgba, ENH_UPSCALE_PHOTO, 0, &rep, NULL, NULL);
    CHECK(o && vips_image_get_bands(o) == 4);
    int tiles_rgba = rep.tiles;
    if (o) {
        size_t sz;
        unsigned char *p = pixels(o, &sz);
        /* far left is alpha ~0.1.., far right 1.0 */
        CHECK(p[3] < 80 && p[(size_t)(4 * W - 1) * 4 + 3] > 240);
        g_free(p);
        g_object_unref(o);
    }
    g_object_unref(rgba);
    /* constant alpha: kept exactly, one pass */
    rgba = make_image(W, H, 4, VIPS_FORMAT_UCHAR, 0);
    o = upscale(rgba, ENH_UPSCALE_PHOTO, 0, &rep, NULL, NULL);
    CHECK(o && rep.tiles * 2 == tiles_rgba);
    if (o) {
        size_t sz;
        unsigned char *p = pixels(o, &sz);
        int ok = 1;
        for (size_t i = 3; i < sz; i += 4)
            ok &= p[i] == 200;
        CHECK(ok);
        g_free(p);
        g_object_unref(o);
    }
    g_object_unref(rgba);

    /* greyscale stays grey; 16-bit stays 16-bit */
    VipsImage *grey = make_image(W, H, 1, VIPS_FORMAT_UCHAR, 0);
    o = upscale(grey, ENH_UPSCALE_PHOTO, 0, &rep, NULL, NULL);
    CHECK(o && vips_image_get_bands(o) == 1 && vips_image_get_interpretation(o) == VIPS_INTERPRETATION_B_W);
    if (o)
        g_object_unref(o);
    g_object_unref(grey);
    VipsImage *rgb16 = make_image(W, H, 3, VIPS_FORMAT_USHORT, 0);
    o = upscale(rgb16, ENH_UPSCALE_PHOTO, 0, &rep, NULL, NULL);
    CHECK(o && vips_image_get_format(o) == VIPS_FORMAT_USHORT &&
          vips_image_get_interpretation(o) == VIPS_INTERPRETATION_RGB16 && vips_image_get_width(o) == 4 * W);
    if (o) {
        double mx;
        vips_max(o, &mx, NULL);
        CHECK(mx > 255); /* really 16-bit values */
        g_object_unref(o);
    }
    g_object_unref(rgb16);

    /* progress, cancel, unknown model */
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.progress = on_progress;
    ctx.tile_size = 12;
    o = upscale(rgb, ENH_UPSCALE_PHOTO, 0, &rep, &ctx, NULL);
    CHECK(rep.tiles >= 4);
    if (o) { /* the result is lazy: the model runs (and reports progress) as it is read */
        size_t sz;
        g_free(pixels(o, &sz));
        g_object_unref(o);
    }
    CHECK(progress_calls >= 2);
    atomic_int cancel = 1;
    ctx.cancel = &cancel;
    enh_status st;
    o = upscale(rgb, ENH_UPSCALE_PHOTO, 0, &rep, &ctx, &st);
    CHECK(st == ENH_ECANCELLED && !o);
    {
        enh_ops ops;
        enh_ops_init(&ops);
        ops.upscale = ENH_UPSCALE_PHOTO;
        snprintf(ops.model, sizeof ops.model, "no-such-model");
        enh_error err;
        CHECK(enh_stage_upscale(rgb, &ops, NULL, &o, &rep, &err) == ENH_ENOTFOUND);
        CHECK(strstr(err.msg, "realesrgan-x4fast") != NULL); /* lists the known models */
    }
    g_object_unref(rgb);
    CHECK(enh_model_cache_clear() == 0);
    vips_shutdown();
    CHECK_MAIN_END();
}
