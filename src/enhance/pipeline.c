/* pipeline.c - orders the stages and times them; the stages live in stage_*.c. */
#include "enhance/pipeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/fsutil.h"
#include "enhance/stages.h"

void enh_pipeline_ctx_init(enh_pipeline_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

void enh_report_explain(enh_pipeline_report *report, const char *fmt, ...)
{
    if (!report)
        return;
    size_t n = strlen(report->explain);
    if (n + 1 >= sizeof report->explain)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(report->explain + n, sizeof report->explain - n, fmt, ap);
    va_end(ap);
}

static enh_status check_stop(const enh_pipeline_ctx *ctx, enh_error *err)
{
    if (ctx->cancel && atomic_load(ctx->cancel))
        return enh_fail(err, ENH_ECANCELLED, "cancelled");
    if (ctx->deadline > 0 && enh_now() > ctx->deadline)
        return enh_fail(err, ENH_ETIMEOUT, "deadline exceeded");
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
        st = enh_stage_auto_plan(in, ops_in, &ops, report, err);
        if (st)
            return st;
    }

    const stage_fn stages[] = {enh_stage_restore, enh_stage_upscale, enh_stage_adjust, enh_stage_resize};
    double *timers[] = {&report->seconds_restore, &report->seconds_upscale, &report->seconds_adjust,
                        &report->seconds_resize};
    VipsImage *cur = in;
    g_object_ref(cur);
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
