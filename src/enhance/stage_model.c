/* stage_model.c - a TF.js graph model of the manifest (the MAXIM restorers: denoising,
 * deblurring, low-light enhancement, retouching) run at scale 1 on the whole image.
 *
 * Runs when ops->model names a manifest model of format tfjs, in the restore position: after
 * the classical restorations, before any upscaling (the upscaler never takes such a model; it
 * uses its kind's default). The image goes through the model whole when the runtime's working
 * memory for it (enh_tf_model_bytes_for: ~2.2 KB per padded pixel for MAXIM) fits
 * ctx->memory_limit, or MODEL_DEFAULT_MEMORY when that is 0; else in feathered tiles
 * (enh_tf_model_run_fit). Whole is exact: MAXIM mixes globally (grid gMLP), so tiles change the
 * result (384-px tiles overlapping by 128: 42.6 dB from whole, bench/README.md). The runtime pads
 * with zeros at the bottom/right to the manifest's pad_multiple (64) and crops back, as
 * UpscalerJS does.
 * Pixels: the input is converted as for the upscaler (upscale_io.h: sRGB or grey, uchar or
 * ushort, other colour spaces converted first), to float RGB in [0, 1] NHWC (grey replicated;
 * the result's channel mean goes back to grey). The output is clamped to [0, 1] and rounded to
 * the input depth (16-bit stays 16-bit); UpscalerJS truncates instead, which darkens by half a
 * level on average. Alpha is set aside and re-attached unchanged; EXIF/ICC/XMP are carried over
 * from the input as the upscale stage does.
 * The model comes from the process-wide TF.js cache (tf_model_cache.h: sha256 on first load).
 * Cancel and deadline are checked before and after the model run (a run is not interruptible);
 * progress is reported at 0 and 1.
 * Thread-safety: reentrant (the runtime allows concurrent runs of one model).
 * Errors: ENH_ENOTFOUND (model not installed: the message says how to fetch it), ENH_ENOMEM,
 * ENH_ECANCELLED, ENH_ETIMEOUT, the runtime's errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "enhance/stages.h"
#include "enhance/upscale_io.h"
#include "nn/manifest.h"
#include "nn/tf_model_cache.h"

/* 4 GiB: whole images up to ~1.9 MP (padded) run exactly as UpscalerJS runs them; a 12 MP photo
 * whole would need ~27 GB, so larger images go in tiles. */
#define MODEL_DEFAULT_MEMORY ((size_t)4 << 30)

const enh_model_entry *enh_stage_model_entry(const enh_ops *ops)
{
    return ops->model[0] ? enh_manifest_find_tfjs(ops->model) : NULL;
}

/* interleaved uchar/ushort (1..4 bands) -> float RGB [0,1] NHWC */
static void to_nhwc(const upscale_img *s, float *dst)
{
    const float scale = s->depth16 ? 1.f / 65535.f : 1.f / 255.f;
    const int cb = s->bands >= 3 ? 3 : 1;
    size_t n = (size_t)s->w * s->h;
    const unsigned short *p16 = (const unsigned short *)s->data;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            size_t at = i * s->bands + (cb == 3 ? k : 0);
            dst[i * 3 + k] = (s->depth16 ? p16[at] : s->data[at]) * scale;
        }
}

static unsigned quantise(float f, float maxv)
{
    f = f < 0.f ? 0.f : f > 1.f ? 1.f : f; /* also maps NaN to 0 */
    return (unsigned)(f * maxv + 0.5f);
}

/* float RGB NHWC -> d (same layout as s): colour bands from y, alpha copied from s */
static void from_nhwc(const float *y, const upscale_img *s, upscale_img *d)
{
    const float maxv = s->depth16 ? 65535.f : 255.f;
    const int cb = s->bands >= 3 ? 3 : 1, alpha = s->bands == 2 || s->bands == 4;
    size_t n = (size_t)s->w * s->h;
    unsigned short *d16 = (unsigned short *)d->data;
    const unsigned short *s16 = (const unsigned short *)s->data;
    for (size_t i = 0; i < n; i++) {
        const float *v = y + i * 3;
        size_t at = i * s->bands;
        for (int k = 0; k < cb; k++) {
            unsigned q = quantise(cb == 3 ? v[k] : (v[0] + v[1] + v[2]) / 3.f, maxv);
            if (s->depth16)
                d16[at + k] = (unsigned short)q;
            else
                d->data[at + k] = (unsigned char)q;
        }
        if (alpha) {
            if (s->depth16)
                d16[at + cb] = s16[at + cb];
            else
                d->data[at + cb] = s->data[at + cb];
        }
    }
}

static enh_status check_stop(const enh_pipeline_ctx *ctx, const char *when, enh_error *err)
{
    if (ctx->cancel && atomic_load(ctx->cancel))
        return enh_fail(err, ENH_ECANCELLED, "cancelled");
    if (ctx->deadline > 0 && enh_now() > ctx->deadline)
        return enh_fail(err, ENH_ETIMEOUT, "deadline exceeded %s", when);
    return ENH_OK;
}

enh_status enh_stage_model(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx, VipsImage **out,
                           enh_pipeline_report *report, enh_error *err)
{
    *out = NULL;
    const enh_model_entry *e = enh_stage_model_entry(ops);
    if (!e) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    enh_pipeline_ctx defctx;
    if (!ctx) {
        enh_pipeline_ctx_init(&defctx);
        ctx = &defctx;
    }
    enh_status st = check_stop(ctx, "before the model ran", err);
    if (st != ENH_OK)
        return st;
    double t0 = enh_now();
    enh_tf_model *m = NULL;
    if ((st = enh_tf_model_cache_get(e->name, ctx->models_dir, &m, err)) != ENH_OK)
        return st;
    const enh_tf_model_info *info = enh_tf_model_get_info(m);
    if (info->in_channels != 3 || info->out_channels != 3 || info->scale != 1) {
        enh_tf_model_cache_release(m);
        return enh_fail(err, ENH_EUNSUPPORTED, "model %s takes %d channels to %d at scale %d; this stage runs RGB to "
                        "RGB models at scale 1", e->name, info->in_channels, info->out_channels, info->scale);
    }
    double t_load = enh_now() - t0;
    upscale_img src, dst;
    memset(&dst, 0, sizeof dst);
    VipsImage *prepared = NULL;
    float *x = NULL, *y = NULL;
    if ((st = upscale_src_load(in, &src, &prepared, err)) != ENH_OK) {
        enh_tf_model_cache_release(m);
        return st;
    }
    size_t floats = (size_t)src.w * src.h * 3;
    x = malloc(floats * sizeof *x);
    y = malloc(floats * sizeof *y);
    if (!x || !y) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory for the %dx%d image as float (%.0f MiB) for model %s", src.w,
                      src.h, 2.0 * floats * sizeof *x / (1 << 20), e->name);
        goto done;
    }
    to_nhwc(&src, x);
    if (ctx->progress)
        ctx->progress(ctx->progress_user, 0.0);
    if ((st = check_stop(ctx, "while the model loaded", err)) != ENH_OK)
        goto done;
    double t1 = enh_now();
    size_t limit = ctx->memory_limit ? ctx->memory_limit : MODEL_DEFAULT_MEMORY;
    int whole = enh_tf_model_bytes_for(m, src.h, src.w, e->pad_multiple) <= limit;
    st = enh_tf_model_run_fit(m, x, src.h, src.w, e->pad_multiple, limit, y, ctx->pool, err);
    if (st != ENH_OK) {
        enh_error_prefix(err, "model %s on the %dx%d image", e->name, src.w, src.h);
        goto done;
    }
    double t_run = enh_now() - t1;
    if ((st = check_stop(ctx, "while the model ran", err)) != ENH_OK)
        goto done;
    free(x);
    x = NULL;
    if ((st = upscale_dst_alloc(&src, src.w, src.h, &dst, err)) != ENH_OK)
        goto done;
    from_nhwc(y, &src, &dst);
    st = upscale_dst_to_vips(&dst, prepared, out, err);
    if (st == ENH_OK) {
        if (ctx->progress)
            ctx->progress(ctx->progress_user, 1.0);
        if (report) {
            snprintf(report->model, sizeof report->model, "%s", e->name);
            enh_report_explain(report, "model %s: the %dx%d image %s (padded to a multiple of %d), %.1f s "
                               "(load %.1f s)\n", e->name, src.w, src.h,
                               whole ? "whole" : "in tiles (over the memory limit whole)", e->pad_multiple, t_run,
                               t_load);
        }
    }
done:
    upscale_img_free(&dst);
    free(x);
    free(y);
    upscale_img_free(&src);
    g_object_unref(prepared);
    enh_tf_model_cache_release(m);
    return st;
}
