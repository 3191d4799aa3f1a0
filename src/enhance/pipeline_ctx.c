/* pipeline_ctx.c - the plain data of a pipeline run: the context's defaults (pipeline.h) and
 * the report's explain text (stages.h). A leaf: the stages and the upscale stream use these,
 * and pipeline.c, which runs the stages, must not be one of their dependencies (no file-level
 * cycle, scripts/file_cycles.py). Thread-safety: no shared state. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enhance/pipeline.h"
#include "enhance/stages.h"

void enh_pipeline_ctx_init(enh_pipeline_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->nn = *enh_nn_options_default();
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
