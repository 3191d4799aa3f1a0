/* stage_upscale.c - the upscale stage: AI super-resolution with the NN runtime, or lanczos.
 *
 * Model choice: ops->model if set, else PHOTO -> realesrgan-x4fast, QUALITY ->
 * realesrgan-x4plus, ART -> realesr-animevideov3-x2/x3/x4 (the smallest native scale >=
 * the requested one); RESAMPLE -> no model, a plain resample with ops->resample_kernel
 * (lanczos3 by default; cubic = MATLAB bicubic). The model runs at its native scale through
 * the tiler (bounded memory, seam-free), then, when ops->scale (1..8; 0 = native) differs,
 * a resample (ops->resample_kernel) brings it to the requested factor (x1 = restore at the same size).
 * Pixels: uchar or ushort, grey / grey+alpha / RGB / RGBA; other colour spaces are
 * converted to sRGB first. The model sees float RGB in [0, 1] (grey replicated to RGB,
 * the result's mean goes back to grey); output is clamped to [0, 1] before quantising, at
 * the input depth (16-bit stays 16-bit). Alpha: a constant alpha is just extended; any
 * other alpha is upscaled by running the same model on it as its own grey image (sharp
 * cut-out edges, no lanczos ringing), which costs a second model pass.
 * Models come from the shared process-wide cache (model_cache.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fsutil.h"
#include "enhance/stages.h"
#include "enhance/upscale_io.h"
#include "image/image_resample.h"
#include "nn/model_cache.h"
#include "nn/tiler.h"

static const char *pick_model(const enh_ops *ops)
{
    if (ops->model[0])
        return ops->model;
    switch (ops->upscale) {
    case ENH_UPSCALE_QUALITY: return "realesrgan-x4plus";
    case ENH_UPSCALE_ART:
        if (ops->scale > 0 && ops->scale <= 2)
            return "realesr-animevideov3-x2";
        if (ops->scale > 0 && ops->scale <= 3)
            return "realesr-animevideov3-x3";
        return "realesr-animevideov3-x4";
    default: return "realesrgan-x4fast";
    }
}

/* Plain resample by factor with ops->resample_kernel (image_resample.h: our own separable
 * passes, so enlargement is the kernel asked for, not libvips' bicubic). */
static enh_status lanczos(VipsImage *in, double factor, enh_kernel kernel, VipsImage **out, enh_error *err)
{
    if (fabs(factor - 1.0) < 1e-9) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    return enh_image_resize_by_kernel(in, factor, kernel, out, err);
}

typedef struct {
    const enh_pipeline_ctx *ctx;
    double base, span;
} progress_map;

static void on_progress(void *user, double f)
{
    const progress_map *p = user;
    if (p->ctx->progress)
        p->ctx->progress(p->ctx->progress_user, p->base + p->span * f);
}

typedef struct {
    upscale_img *src, *dst;
} io_pair;

static enh_status pair_fetch(void *user, int x, int y, int w, int h, int c, float *dst, enh_error *err)
{
    return upscale_fetch(((io_pair *)user)->src, x, y, w, h, c, dst, err);
}

static enh_status pair_emit(void *user, int y, int rows, int ow, int c, const float *data, size_t stride,
                            enh_error *err)
{
    return upscale_emit(((io_pair *)user)->dst, y, rows, ow, c, data, stride, err);
}

enh_status enh_stage_upscale(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx, VipsImage **out,
                             enh_pipeline_report *report, enh_error *err)
{
    *out = NULL;
    if (ops->upscale == ENH_UPSCALE_NONE) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    double t0 = enh_now();
    if (ops->scale < 0 || ops->scale > 8)
        return enh_fail(err, ENH_EINVAL, "upscale factor %g is out of range (1..8, or 0 for the model's own)", ops->scale);
    if (ops->upscale == ENH_UPSCALE_RESAMPLE) {
        enh_status st = lanczos(in, ops->scale > 0 ? ops->scale : 2.0, ops->resample_kernel, out, err);
        if (st == ENH_OK && report) {
            snprintf(report->model, sizeof report->model, "%s", enh_kernel_name(ops->resample_kernel));
            report->seconds_upscale += enh_now() - t0;
        }
        return st;
    }
    enh_pipeline_ctx defctx;
    if (!ctx) {
        enh_pipeline_ctx_init(&defctx);
        ctx = &defctx;
    }
    const char *name = pick_model(ops);
    enh_model *m;
    enh_status st = enh_model_cache_get(name, ctx->models_dir, &m, err);
    if (st != ENH_OK)
        return st;
    const enh_model_info *info = enh_model_get_info(m);
    upscale_img src, dst;
    VipsImage *prepared = NULL, *native = NULL;
    memset(&dst, 0, sizeof dst);
    if ((st = upscale_src_load(in, &src, &prepared, err)) != ENH_OK) {
        enh_model_cache_release(m);
        return st;
    }
    int S = info->scale, tiles = 0;
    if (S <= 0 || info->in_channels != 3 || info->out_channels != 3) {
        st = enh_fail(err, ENH_EUNSUPPORTED, "model %s is not an RGB super-resolution model", name);
        goto done;
    }
    if ((st = upscale_dst_alloc(&src, src.w * S, src.h * S, &dst, err)) != ENH_OK)
        goto done;
    unsigned alpha_value = 0;
    int alpha = src.bands == 2 || src.bands == 4;
    int alpha_const = alpha && upscale_alpha_constant(&src, &alpha_value);
    int passes = alpha && !alpha_const ? 2 : 1;
    for (int pass = 0; pass < passes && st == ENH_OK; pass++) {
        progress_map pm = {ctx, (double)pass / passes, 1.0 / passes};
        src.alpha_pass = dst.alpha_pass = pass == 1;
        enh_tiler_opts o;
        enh_tiler_opts_init(&o);
        o.tile = ctx->tile_size;
        o.memory_limit = ctx->memory_limit;
        o.pool = ctx->pool;
        o.cancel = ctx->cancel;
        o.deadline = ctx->deadline;
        o.progress = on_progress;
        o.progress_user = &pm;
        o.runner = ctx->tile_runner;
        o.runner_user = ctx->tile_runner_user;
        io_pair io = {&src, &dst};
        enh_tiler_stats stats;
        st = enh_tiler_run(m, src.w, src.h, pair_fetch, pair_emit, &io, &o, &stats, err);
        tiles += stats.tiles;
    }
    if (st != ENH_OK)
        goto done;
    if (alpha_const)
        upscale_fill_alpha(&dst, alpha_value);
    if ((st = upscale_dst_to_vips(&dst, prepared, &native, err)) != ENH_OK)
        goto done;
    st = lanczos(native, ops->scale > 0 ? ops->scale / S : 1.0, ops->resample_kernel, out, err);
    if (st == ENH_OK && report) {
        snprintf(report->model, sizeof report->model, "%s", name);
        report->tiles += tiles;
        report->seconds_upscale += enh_now() - t0;
    }
done:
    if (native)
        g_object_unref(native);
    if (prepared)
        g_object_unref(prepared);
    upscale_img_free(&src);
    upscale_img_free(&dst);
    enh_model_cache_release(m);
    return st;
}
