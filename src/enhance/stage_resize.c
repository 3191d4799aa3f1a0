/* stage_resize.c - PLACEHOLDER until the foundation lands (issue 2). */
#include "enhance/stages.h"

enh_status enh_stage_resize(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                            VipsImage **out, enh_pipeline_report *report, enh_error *err)
{
    (void)ops;
    (void)ctx;
    (void)report;
    (void)err;
    g_object_ref(in);
    *out = in;
    return ENH_OK;
}
