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
enh_status enh_stage_auto_plan(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx, enh_ops *planned,
                               enh_pipeline_report *report, enh_error *err);
/* decompress, denoise, deblur/sharpen (classical or learned at x1) */
enh_status enh_stage_restore(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                             VipsImage **out, enh_pipeline_report *report, enh_error *err);
/* The manifest entry of ops->model when it is a TF.js graph model (MAXIM), run by
 * enh_stage_model and never by the upscaler; NULL otherwise. */
struct enh_model_entry;
const struct enh_model_entry *enh_stage_model_entry(const enh_ops *ops);
/* The network that --low-light runs, and its "auto" strength. Measured on the eight photos'
 * 256x256 centre crops darkened x0.25 in linear light (bench/quality/README.md, "networks"):
 * alone, maxim-enhancement overshoots (+14.4 L*) and maxim-retouching falls short (-14.8 L*, 45%
 * of the lost 26.7 brought back), both ~16.7 dB; blended with the input at 60%, enhancement gives
 * 24.5 dB / SSIM 0.977 while retouching's best (alone) stays 16.7 dB / 0.927: a blend can temper
 * an overshoot, never a shortfall. (The classical auto_exposure scores 38.3 dB on this pure gain,
 * so auto mode keeps it; the network is for what a gain does not model.) */
#define ENH_LOW_LIGHT_MODEL "maxim-enhancement"
#define ENH_LOW_LIGHT_AUTO_STRENGTH 60
/* 1 when ops asks for any restoration network (denoise/deblur ai, low_light, a maxim-* model). */
int enh_stage_model_wanted(const enh_ops *ops);
/* the restoration networks, chained at the input's resolution (stage_model.c) */
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
