/* pipeline.c - orders the stages and times them; the stages live in stage_*.c, the plain data
 * helpers they share (ctx defaults, the report's explain text) in pipeline_ctx.c, a leaf, so
 * that no stage depends on this file. */
#include "enhance/pipeline.h"

#include <stdio.h>
#include <string.h>

#include "core/fsutil.h"
#include "enhance/stages.h"
#include "enhance/upscale_stream.h"

#define LAZY_KEY "enh-pipeline-lazy"

static enh_status check_stop(const enh_pipeline_ctx *ctx, enh_error *err)
{
    if (ctx->cancel && atomic_load(ctx->cancel))
        return enh_fail(err, ENH_ECANCELLED, "cancelled");
    if (ctx->deadline > 0 && enh_now() > ctx->deadline)
        return enh_fail(err, ENH_ETIMEOUT, "deadline exceeded");
    return ENH_OK;
}

/* The lazy streams behind a result, kept on it (GObject data) for enh_pipeline_lazy_status:
 * a reference to each, except to the result itself (that would be a cycle). */
typedef struct {
    VipsImage *img[UPSCALE_STREAM_CAPTURE_MAX];
    int n;
    VipsImage *self; /* the result, when it is a stream itself: not referenced */
} lazy_set;

static void lazy_set_free(gpointer p)
{
    lazy_set *ls = p;
    for (int i = 0; i < ls->n; i++)
        g_object_unref(ls->img[i]);
    g_free(ls);
}

/* Hands the captured references to `out` (the pipeline's result), or drops them. */
static void keep_lazy(upscale_stream_capture *c, VipsImage *out)
{
    lazy_set *ls = out && c->n > 0 ? g_new0(lazy_set, 1) : NULL;
    for (int i = 0; i < c->n; i++) {
        if (ls && c->img[i] == out) {
            ls->self = out;
            g_object_unref(c->img[i]);
        } else if (ls) {
            ls->img[ls->n++] = c->img[i];
        } else {
            g_object_unref(c->img[i]);
        }
        c->img[i] = NULL;
    }
    c->n = 0;
    if (ls)
        g_object_set_data_full(G_OBJECT(out), LAZY_KEY, ls, lazy_set_free);
}

enh_status enh_pipeline_lazy_status(VipsImage *out, enh_error *err)
{
    lazy_set *ls = out ? g_object_get_data(G_OBJECT(out), LAZY_KEY) : NULL;
    if (!ls)
        return ENH_OK;
    if (ls->self) {
        enh_status s = upscale_stream_status(ls->self, err);
        if (s != ENH_OK)
            return s;
    }
    for (int i = 0; i < ls->n; i++) {
        enh_status s = upscale_stream_status(ls->img[i], err);
        if (s != ENH_OK)
            return s;
    }
    return ENH_OK;
}

typedef enh_status (*stage_fn)(VipsImage *, const enh_ops *, const enh_pipeline_ctx *, VipsImage **,
                               enh_pipeline_report *, enh_error *);

enh_status enh_pipeline_run(VipsImage *in, const enh_ops *ops_in, const enh_pipeline_ctx *ctx_in,
                            VipsImage **out, enh_pipeline_report *report, enh_error *err)
{
    enh_pipeline_ctx defctx;
    if (!ctx_in) {
        enh_pipeline_ctx_init(&defctx);
        ctx_in = &defctx;
    }
    enh_pipeline_report local_report;
    if (!report)
        report = &local_report;
    memset(report, 0, sizeof *report);
    report->in_width = vips_image_get_width(in);
    report->in_height = vips_image_get_height(in);
    *out = NULL;

    enh_status st = enh_ops_validate(ops_in, err);
    if (st)
        return st;
    enh_ops ops = *ops_in;
    if (ops.auto_mode) {
        st = enh_stage_auto_plan(in, ops_in, ctx_in, &ops, report, err);
        if (st)
            return st;
    }

    /* a same-size TF.js model (stage_model.c) counts as restoration: its time joins seconds_restore */
    double seconds_model = 0;
    const stage_fn stages[] = {enh_stage_restore, enh_stage_model, enh_stage_upscale, enh_stage_adjust,
                               enh_stage_resize};
    double *timers[] = {&report->seconds_restore, &seconds_model, &report->seconds_upscale, &report->seconds_adjust,
                        &report->seconds_resize};
    VipsImage *cur = in;
    g_object_ref(cur);
    upscale_stream_capture cap; /* the lazy upscale's stream, for enh_pipeline_lazy_status */
    upscale_stream_capture_begin(&cap);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        st = check_stop(ctx_in, err);
        if (st)
            break;
        double t0 = enh_now();
        VipsImage *next = NULL;
        st = stages[i](cur, &ops, ctx_in, &next, report, err);
        *timers[i] = enh_now() - t0;
        g_object_unref(cur);
        cur = next;
        if (st)
            break;
    }
    upscale_stream_capture_end(&cap);
    report->seconds_restore += seconds_model;
    /* kept only while a stream is still lazy: one the upscale stage computed has done its work */
    keep_lazy(&cap, st == ENH_OK && report->tiles_pending > 0 ? cur : NULL);
    if (st) {
        if (cur)
            g_object_unref(cur);
        return st;
    }
    report->out_width = vips_image_get_width(cur);
    report->out_height = vips_image_get_height(cur);
    *out = cur;
    return ENH_OK;
}
