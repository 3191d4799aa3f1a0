/* stages.h - the pipeline's stage functions (internal to src/enhance).
 * Each takes a borrowed `in` and on ENH_OK stores a new reference in *out (which may be
 * `in` itself with its refcount raised when the stage has nothing to do). */
#ifndef ENH_ENHANCE_STAGES_H
#define ENH_ENHANCE_STAGES_H

#include "enhance/pipeline.h"

/* Appends printf-style text to report->explain (what auto mode and the stages measured and
 * decided); silently stops when the buffer is full. report may be NULL. */
void enh_report_explain(enh_pipeline_report *report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* auto mode: assess `in` and write the operations it needs into *planned (a copy of
 * *ops with the automatic choices filled in); appends text to report->explain. */
enh_status enh_stage_auto_plan(VipsImage *in, const enh_ops *ops, enh_ops *planned,
                               enh_pipeline_report *report, enh_error *err);
/* decompress, denoise, deblur/sharpen (classical or learned at x1) */
enh_status enh_stage_restore(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                             VipsImage **out, enh_pipeline_report *report, enh_error *err);
/* The manifest entry of ops->model when it is a TF.js graph model (MAXIM), run by
 * enh_stage_model and never by the upscaler; NULL otherwise. */
struct enh_model_entry;
const struct enh_model_entry *enh_stage_model_entry(const enh_ops *ops);
/* a same-size TF.js model (ops->model, e.g. maxim-denoising) on the whole image (stage_model.c) */
enh_status enh_stage_model(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                           VipsImage **out, enh_pipeline_report *report, enh_error *err);
/* AI or lanczos upscaling by ops->upscale / ops->scale / ops->model */
enh_status enh_stage_upscale(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                             VipsImage **out, enh_pipeline_report *report, enh_error *err);
/* colour, exposure, tone, manual adjustments */
enh_status enh_stage_adjust(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                            VipsImage **out, enh_pipeline_report *report, enh_error *err);
/* width/height/percent/scale with fit, gravity, padding; lanczos */
enh_status enh_stage_resize(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                            VipsImage **out, enh_pipeline_report *report, enh_error *err);

#endif
