/* stage_auto.c - auto mode planning. PLACEHOLDER until the assessment lands (issue 6):
 * keeps the requested operations unchanged. */
#include "enhance/stages.h"

enh_status enh_stage_auto_plan(VipsImage *in, const enh_ops *ops, enh_ops *planned,
                               enh_pipeline_report *report, enh_error *err)
{
    (void)in;
    (void)report;
    (void)err;
    *planned = *ops;
    return ENH_OK;
}
