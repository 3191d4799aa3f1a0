/* stage_upscale.c - PLACEHOLDER until the neural runtime lands (issue 3). */
#include "enhance/stages.h"

enh_status enh_stage_upscale(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                             VipsImage **out, enh_pipeline_report *report, enh_error *err)
{
    (void)ctx;
    (void)report;
    if (ops->upscale == ENH_UPSCALE_NONE) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    return enh_fail(err, ENH_EUNSUPPORTED, "upscaling is not available yet");
}
