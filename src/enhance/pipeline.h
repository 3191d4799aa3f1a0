/* pipeline.h - runs an enh_ops description on a decoded image.
 *
 * Stages, in order: auto-plan (if ops->auto_mode) -> restore (decompress/denoise/deblur)
 * -> same-size TF.js model (ops->model = maxim-*, stage_model.c) -> upscale (NN or lanczos)
 * -> adjust (colour, exposure, tone) -> resize/fit -> output depth. Each stage takes a
 * VipsImage and returns a new reference; libvips images are lazy and reference counted, so
 * stages pass pixels without copies until something
 * must be materialised (the NN stage does, into its tiles).
 * The AI upscale is lazy too (upscale_stream.h): the model runs tile row by tile row while
 * *out is consumed (e.g. streamed to disk by the saver), so peak memory stays bounded as
 * the image grows. Consequences for callers: the upscale's compute time, progress calls
 * and errors (cancel, deadline) happen while *out is read, not in enh_pipeline_run; the
 * ctx struct is copied, but what its pointers reach (pool, cancel, progress_user,
 * tile_runner_user, models_dir is copied) must stay valid until *out is unreferenced: a
 * tile_runner (the server's batcher) is called from libvips' threads while *out is read.
 * When a later stage reads the upscaled image twice (auto colour/exposure, smart crop),
 * the upscale stage computes the pixels inside enh_pipeline_run; report->tiles_pending
 * tells which case it was.
 *
 * Ownership: `in` is borrowed; on ENH_OK *out is a new reference the caller unrefs.
 * Thread-safety: enh_pipeline_run may run concurrently on different images.
 */
#ifndef ENH_ENHANCE_PIPELINE_H
#define ENH_ENHANCE_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <vips/vips.h>

#include "core/error.h"
#include "core/pool.h"
#include "enhance/ops.h"
#include "nn/nn_options.h"

/* Runs one model on a batch of equal-size tiles: in/out are NCHW float32.
 * The server installs one to batch tiles of concurrent requests; NULL = run directly. */
struct enh_model;
typedef enh_status (*enh_tile_runner_fn)(void *user, struct enh_model *model, const float *in,
                                         int n, int c, int h, int w, float *out, enh_error *err);

typedef void (*enh_progress_fn)(void *user, double fraction_done);

/* Runs one restoration network (stage_model.c: manifest name of a TF.js model) on a whole
 * float RGB image, h x w x 3 NHWC in [0,1], into out (same size). The server installs one that
 * queues the image in the network's own batcher (with the request's deadline, priority and
 * cancel flag) and times the stage; NULL = the stage runs the model itself. */
typedef enh_status (*enh_net_runner_fn)(void *user, const char *model, const float *in, int h, int w,
                                        float *out, enh_error *err);

typedef struct enh_pipeline_ctx {
    enh_pool *pool;            /* intra-op threads; NULL = enh_pool_default() */
    size_t memory_limit;       /* bytes for NN working memory; 0 = default */
    int tile_size;             /* LR tile side; 0 = from memory_limit */
    const char *models_dir;    /* NULL = enh_models_default_dir() */
    enh_nn_options nn;         /* the AI models' runtime options (precision, kernels: nn_options.h);
                                  enh_pipeline_ctx_init sets the process default */
    atomic_int *cancel;        /* set non-zero to stop early (ENH_ECANCELLED) */
    double deadline;           /* enh_now() seconds; 0 = none (ENH_ETIMEOUT) */
    enh_progress_fn progress;  /* optional */
    void *progress_user;
    enh_tile_runner_fn tile_runner; /* optional */
    void *tile_runner_user;
    enh_net_runner_fn net_runner; /* optional */
    void *net_runner_user;
} enh_pipeline_ctx;

typedef struct enh_pipeline_report {
    char model[64];            /* model used, "" if none */
    int in_width, in_height, out_width, out_height;
    double seconds_restore, seconds_upscale, seconds_adjust, seconds_resize;
    int tiles;                 /* NN tiles of one pass over the image */
    int tiles_pending;         /* of those, the tiles that run only while *out is read (the
                                  upscale stayed lazy); 0 when all ran in enh_pipeline_run */
    char explain[4096];        /* what auto mode measured and decided (text) */
} enh_pipeline_report;

void enh_pipeline_ctx_init(enh_pipeline_ctx *ctx);

enh_status enh_pipeline_run(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx,
                            VipsImage **out, enh_pipeline_report *report, enh_error *err);

/* Why reading a lazy result failed. A lazy stage behind *out (the AI upscale's stream:
 * the model runs, the tiler's buffers and row cache, taken again when the pixels are asked
 * for) that fails while *out is read makes the reader (e.g. a saver) fail with a libvips
 * error only; this returns that stage's first failure with its own enh_status (ENH_ENOMEM,
 * ENH_ECANCELLED, ENH_ETIMEOUT, a model error) and message, copied into *err.
 * `out` must be the very image enh_pipeline_run returned (borrowed; not an image derived
 * from it); ENH_OK when it has no lazy stage (report->tiles_pending was 0) or none failed.
 * Thread-safety: may be called from any thread, also while *out is being read. */
enh_status enh_pipeline_lazy_status(VipsImage *out, enh_error *err);

/* Saves `out` (the very image enh_pipeline_run returned) to path with enh_image_save_file; when
 * the save fails because a lazy stage behind it failed, returns that stage's status and message
 * (enh_pipeline_lazy_status: ENH_ENOMEM, ENH_ETIMEOUT, a model error), not the saver's libvips
 * error (ENH_EINTERNAL / ENH_EIO). A cancelled save stays ENH_ECANCELLED. (pipeline_save.c) */
struct enh_save_opts;
enh_status enh_pipeline_save_file(VipsImage *out, const char *path, const struct enh_save_opts *o, enh_error *err);
/* Copies the output fields of ops (format, quality, metadata, bit depth, progressive,
 * lossless) into o; a SAME format stays SAME (resolve it with enh_format_resolve). Here, not in
 * src/image, because the encoder does not know the operations model. (pipeline_save.c) */
void enh_save_opts_from_ops(struct enh_save_opts *o, const enh_ops *ops);

#endif
