/* stage_upscale.c - the upscale stage: AI super-resolution with the NN runtime, or lanczos.
 *
 * Model choice: ops->model if set (unless it is a same-size TF.js model: stage_model.c ran it),
 * else PHOTO -> realesrgan-x4fast, QUALITY -> realesrgan-x4plus, ART ->
 * realesr-animevideov3-x2/x3/x4 (the smallest native scale >= the requested one); RESAMPLE ->
 * no model, a plain resample with ops->resample_kernel (lanczos3 by default; cubic = MATLAB
 * bicubic). The model runs at its native scale through the tiler (bounded memory, seam-free),
 * then, when ops->scale (1..8; 0 = native) differs,
 * a resample (ops->resample_kernel) brings it to the requested factor (x1 = restore at the same size).
 * Pixels: uchar or ushort, grey / grey+alpha / RGB / RGBA; other colour spaces are
 * converted to sRGB first. The model sees float RGB in [0, 1] (grey replicated to RGB,
 * the result's mean goes back to grey); output is clamped to [0, 1] before quantising, at
 * the input depth (16-bit stays 16-bit). Alpha: a constant alpha is just extended; any
 * other alpha is upscaled by running the same model on it as its own grey image (sharp
 * cut-out edges, no lanczos ringing), which costs a second model pass.
 * Models come from the shared process-wide cache (model_cache.h).
 * The result is lazy (upscale_stream.h): the model runs tile row by tile row while the
 * image is consumed, e.g. streamed to disk by a JPEG/PNG/WebP saver, so memory stays
 * bounded however large the image; ctx's pointees must then outlive *out (see
 * pipeline.h), ctx->tile_runner included: the server's batcher is then called while the
 * result is encoded. The stage computes the pixels itself (in memory, as a whole) only when
 * a later stage would read them twice or out of order (auto colour/exposure, smart crop).
 * report->tiles is the tile count of one pass over the image (what ran, when computed here);
 * report->tiles_pending the part of it that runs only while *out is read (0 when computed).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fsutil.h"
#include "enhance/stages.h"
#include "enhance/upscale_io.h"
#include "enhance/upscale_stream.h"
#include "image/image_resample.h"
#include "nn/manifest.h"

static const char *pick_model(const enh_ops *ops)
{
    if (ops->model[0] && !enh_manifest_find_tfjs(ops->model))
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

/* 1 when a later stage reads the upscaled image more than once or out of order (the
 * assessment behind auto colour/exposure, smart crop): then the stage computes the pixels
 * now. A tile runner (the server's batcher) does not force it: it stays usable while the
 * result is encoded (pipeline.h), so a large result is never held whole. */
static int compute_now(const enh_ops *ops)
{
    return ops->auto_color || ops->auto_exposure || ops->gravity == ENH_GRAVITY_SMART;
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
    if (ctx->cancel && atomic_load(ctx->cancel))
        return enh_fail(err, ENH_ECANCELLED, "cancelled");
    if (ctx->deadline > 0 && enh_now() > ctx->deadline)
        return enh_fail(err, ENH_ETIMEOUT, "deadline exceeded before upscaling");
    const char *name = pick_model(ops);
    VipsImage *prepared = NULL, *lazy = NULL, *native = NULL;
    upscale_stream_info info;
    enh_status st = upscale_prepare(in, &prepared, err);
    if (st != ENH_OK)
        return st;
    st = upscale_stream_new(prepared, name, ctx, &lazy, &info, err);
    g_object_unref(prepared);
    if (st != ENH_OK)
        return st;
    int tiles = info.tiles, pending = 0, S = vips_image_get_width(lazy) / vips_image_get_width(in);
    if (compute_now(ops)) {
        st = upscale_stream_materialise(lazy, &native, err);
        tiles = upscale_stream_tiles_run(lazy);
    } else {
        native = lazy; /* computed while the result is consumed (saved), tile row by tile row */
        g_object_ref(native);
        pending = tiles;
    }
    g_object_unref(lazy);
    if (st != ENH_OK)
        return st;
    st = lanczos(native, ops->scale > 0 ? ops->scale / S : 1.0, ops->resample_kernel, out, err);
    g_object_unref(native);
    if (st == ENH_OK && report) {
        snprintf(report->model, sizeof report->model, "%s", name);
        report->tiles += tiles;
        report->tiles_pending += pending;
        report->seconds_upscale += enh_now() - t0;
    }
    return st;
}
