/* stage_model.c - the restoration networks: TF.js graph models of the manifest (the MAXIM
 * restorers) run at scale 1, one after the other, on the input's resolution.
 *
 * The chain, in order: denoise (denoise_method = ai: maxim-denoising), deblur (deblur_method =
 * ai: maxim-deblurring), low light (low_light: ENH_LOW_LIGHT_MODEL), then ops->model when it
 * names a manifest model of format tfjs. Each network's output is blended with its input by
 * the operation's strength (100 = the network alone) in float, and the next network takes the
 * float result: one conversion in and one out for the whole chain, no re-encoding between
 * networks. "auto" strengths are resolved from the assessment (noise sigma >= 2, blur severity
 * >= 0.5 -> 100; under-exposure severity >= 0.5 -> ENH_LOW_LIGHT_AUTO_STRENGTH; else the network is
 * skipped). The stage runs
 * after the classical restorations (which skip denoise/deblur when their method is ai) and
 * before any upscaling (never on the upscaled image; the upscaler never takes such a model).
 * Before each network the time it will take is estimated (enh_net_seconds_per_mp: measured on
 * this process's earlier runs, else the figure measured for the docs) and a deadline it would
 * pass is refused up front with ENH_ETIMEOUT (a model run is not interruptible).
 * The image goes through each model whole when the runtime's working
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
 * Cancel and deadline are checked before, between and after the networks (a run is not
 * interruptible); progress is reported as networks done / networks. With ctx->net_runner (the
 * server) each network runs through that runner (its batcher) instead of directly.
 * Thread-safety: reentrant (the runtime allows concurrent runs of one model).
 * Errors: ENH_ENOTFOUND (model not installed: the message says how to fetch it), ENH_ENOMEM,
 * ENH_ECANCELLED, ENH_ETIMEOUT, the runtime's errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "enhance/assess.h"
#include "enhance/net_speed.h"
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

/* One network of the chain: its manifest entry, strength (1..100) and why it runs. */
typedef struct {
    const enh_model_entry *e;
    const char *op; /* "denoise ai", ... */
    int strength;
    char why[160];
} net_step;

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

static enh_status add_step(net_step *steps, int *n, const char *model, const char *op, int strength,
                           const char *why, enh_error *err)
{
    const enh_model_entry *e = enh_manifest_find_tfjs(model);
    if (!e)
        return enh_fail(err, ENH_ENOTFOUND, "%s needs the TF.js model %s, which the manifest does not list", op, model);
    steps[*n] = (net_step){.e = e, .op = op, .strength = strength};
    snprintf(steps[*n].why, sizeof steps[*n].why, "%s", why);
    (*n)++;
    return ENH_OK;
}

/* The networks ops asks for, "auto" strengths resolved with one assessment of `in`. */
static enh_status plan_steps(VipsImage *in, const enh_ops *ops, net_step *steps, int *n, enh_error *err)
{
    *n = 0;
    int dn = ops->denoise_method == ENH_METHOD_AI ? ops->denoise : 0;
    int db = ops->deblur_method == ENH_METHOD_AI ? ops->deblur : 0;
    int ll = ops->low_light;
    const char *given = ops->auto_mode ? "chosen by auto mode or requested" : "requested";
    char why[3][160];
    for (int i = 0; i < 3; i++)
        snprintf(why[i], sizeof why[i], "%s", given);
    if (dn == ENH_AUTO || db == ENH_AUTO || ll == ENH_AUTO) {
        enh_assessment a;
        enh_status st = enh_assess_image(in, &a, err);
        if (st)
            return st;
        if (dn == ENH_AUTO) {
            dn = a.noise_sigma >= 2.0 ? 100 : 0;
            snprintf(why[0], sizeof why[0], "auto: noise sigma %.1f", a.noise_sigma);
        }
        if (db == ENH_AUTO) {
            db = a.severity[ENH_DEG_BLUR] >= 0.5 ? 100 : 0;
            snprintf(why[1], sizeof why[1], "auto: blur severity %.2f", a.severity[ENH_DEG_BLUR]);
        }
        if (ll == ENH_AUTO) {
            ll = a.severity[ENH_DEG_UNDEREXPOSED] >= 0.5 ? ENH_LOW_LIGHT_AUTO_STRENGTH : 0;
            snprintf(why[2], sizeof why[2], "auto: under-exposure severity %.2f (%+.2f EV)",
                     a.severity[ENH_DEG_UNDEREXPOSED], a.exposure_ev);
        }
    }
    enh_status st = ENH_OK;
    if (dn > 0)
        st = add_step(steps, n, "maxim-denoising", "denoise ai", dn, why[0], err);
    if (!st && db > 0)
        st = add_step(steps, n, "maxim-deblurring", "deblur ai", db, why[1], err);
    if (!st && ll > 0)
        st = add_step(steps, n, ENH_LOW_LIGHT_MODEL, "low light", ll, why[2], err);
    const enh_model_entry *m = enh_stage_model_entry(ops);
    if (!st && m) {
        steps[*n] = (net_step){.e = m, .op = "model", .strength = 100};
        snprintf(steps[*n].why, sizeof steps[*n].why, "requested (--model)");
        (*n)++;
    }
    return st;
}

/* Runs one network on x (h x w x 3) into y and blends: y = s*y + (1-s)*x. */
static enh_status run_step(const net_step *s, const float *x, float *y, int w, int h, size_t limit,
                           const enh_pipeline_ctx *ctx, enh_pipeline_report *report, enh_error *err)
{
    double mp = (double)w * h / 1e6, t0 = enh_now();
    int threads = enh_pool_threads(ctx->pool ? ctx->pool : enh_pool_default());
    double est = enh_net_seconds_per_mp(s->e->name, threads) * mp;
    if (ctx->deadline > 0 && t0 + est > ctx->deadline)
        return enh_fail(err, ENH_ETIMEOUT, "%s (%s) would need about %.0f s for the %dx%d image (%.0f s per MP at %d "
                        "threads on this machine) and the deadline leaves %.0f s: raise the deadline, reduce the image, "
                        "or use the filter (method \"filter\")", s->op, s->e->name, est, w, h, est / mp, threads,
                        ctx->deadline - t0);
    enh_tf_model *m = NULL;
    enh_status st = enh_tf_model_cache_get(s->e->name, ctx->models_dir, &m, err);
    if (st)
        return st;
    const enh_tf_model_info *info = enh_tf_model_get_info(m);
    if (info->in_channels != 3 || info->out_channels != 3 || info->scale != 1) {
        enh_tf_model_cache_release(m);
        return enh_fail(err, ENH_EUNSUPPORTED, "model %s takes %d channels to %d at scale %d; this stage runs RGB to "
                        "RGB models at scale 1", s->e->name, info->in_channels, info->out_channels, info->scale);
    }
    double t_load = enh_now() - t0, t1 = enh_now();
    int whole = enh_tf_model_bytes_for(m, h, w, s->e->pad_multiple) <= limit;
    if (ctx->net_runner) /* the server's batcher for this network */
        st = ctx->net_runner(ctx->net_runner_user, s->e->name, x, h, w, y, err);
    else
        st = enh_tf_model_run_fit(m, x, h, w, s->e->pad_multiple, limit, y, ctx->pool, err);
    enh_tf_model_cache_release(m);
    if (st)
        return enh_error_prefix(err, "%s: model %s on the %dx%d image", s->op, s->e->name, w, h);
    double t_run = enh_now() - t1;
    enh_net_record(s->e->name, threads, t_run / mp);
    if (s->strength < 100) {
        const float a = s->strength / 100.f;
        for (size_t i = 0, n = (size_t)w * h * 3; i < n; i++)
            y[i] = a * y[i] + (1 - a) * x[i];
    }
    if (report) {
        snprintf(report->model, sizeof report->model, "%s", s->e->name);
        enh_report_explain(report, "%s: %s (%s), strength %d, the %dx%d image %s, %.1f s (load %.1f s) = %.0f s "
                           "per MP at %d threads\n", s->op, s->e->name, s->why, s->strength, w, h,
                           whole ? "whole" : "in tiles (over the memory limit whole)", t_run, t_load, t_run / mp,
                           threads);
    }
    return ENH_OK;
}

int enh_stage_model_wanted(const enh_ops *ops)
{
    return (ops->denoise_method == ENH_METHOD_AI && ops->denoise) ||
           (ops->deblur_method == ENH_METHOD_AI && ops->deblur) || ops->low_light || enh_stage_model_entry(ops);
}

enh_status enh_stage_model(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx, VipsImage **out,
                           enh_pipeline_report *report, enh_error *err)
{
    *out = NULL;
    net_step steps[4];
    int nsteps = 0;
    enh_status st = enh_stage_model_wanted(ops) ? plan_steps(in, ops, steps, &nsteps, err) : ENH_OK;
    if (st)
        return st;
    if (!nsteps) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    enh_pipeline_ctx defctx;
    if (!ctx) {
        enh_pipeline_ctx_init(&defctx);
        ctx = &defctx;
    }
    if ((st = check_stop(ctx, "before the networks ran", err)) != ENH_OK)
        return st;
    upscale_img src, dst;
    memset(&dst, 0, sizeof dst);
    VipsImage *prepared = NULL;
    float *x = NULL, *y = NULL;
    if ((st = upscale_src_load(in, &src, &prepared, err)) != ENH_OK)
        return st;
    size_t floats = (size_t)src.w * src.h * 3, bufs = 2 * floats * sizeof *x;
    x = malloc(floats * sizeof *x);
    y = malloc(floats * sizeof *y);
    if (!x || !y) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory for the %dx%d image as float (%.0f MiB) for the networks",
                      src.w, src.h, bufs / 1048576.0);
        goto done;
    }
    to_nhwc(&src, x);
    /* the two float images count against the limit; the networks get the rest */
    size_t limit = ctx->memory_limit ? ctx->memory_limit : MODEL_DEFAULT_MEMORY;
    limit = limit > bufs ? limit - bufs : 1;
    for (int i = 0; i < nsteps; i++) {
        if (ctx->progress)
            ctx->progress(ctx->progress_user, (double)i / nsteps);
        if ((st = check_stop(ctx, "between the networks", err)) != ENH_OK)
            goto done;
        if ((st = run_step(&steps[i], x, y, src.w, src.h, limit, ctx, report, err)) != ENH_OK)
            goto done;
        float *t = x; /* the result is the next network's input */
        x = y;
        y = t;
    }
    if ((st = check_stop(ctx, "while the networks ran", err)) != ENH_OK)
        goto done;
    free(y);
    y = NULL;
    if ((st = upscale_dst_alloc(&src, src.w, src.h, &dst, err)) != ENH_OK)
        goto done;
    from_nhwc(x, &src, &dst);
    st = upscale_dst_to_vips(&dst, prepared, out, err);
    if (st == ENH_OK && ctx->progress)
        ctx->progress(ctx->progress_user, 1.0);
done:
    upscale_img_free(&dst);
    free(x);
    free(y);
    upscale_img_free(&src);
    g_object_unref(prepared);
    return st;
}
