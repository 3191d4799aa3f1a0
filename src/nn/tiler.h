/* tiler.h - runs an image-to-image model over an image of any size with bounded memory.
 *
 * The image is cut into a grid of "core" tiles (even split, side <= tile). Each tile runs
 * the model on a window = core + `overlap` LR pixels of real image context on every side;
 * windows are shifted inward at the image border (never padded), so a tile at the border
 * sees exactly the zero padding the whole image would, and every window of one run has
 * the same size (batchable). Two modes:
 *  - exact (overlap >= the model's receptive radius): each output pixel comes from the
 *    one tile whose core contains it -> identical to whole-image inference;
 *  - feathered (receptive field too large, e.g. x4plus): neighbouring tiles are blended
 *    with linear ramps (feather_ramp LR px each side) centred on the core boundary (weights
 *    sum to 1); every blended pixel keeps overlap - feather_ramp px of real context.
 * Output rows are accumulated in a strip of one tile row (+ ramp) and handed to `emit`
 * as soon as they are final, clamped to [0, 1] (unless clamp = 0).
 * Tile size: opts.tile, or the largest (<= 512) whose model workspace + tile buffers +
 * strip fit opts.memory_limit. When an allocation fails (ENH_ENOMEM) the run restarts with
 * a smaller tile (rows are re-emitted; emit must simply overwrite).
 * Cancellation / deadline / progress are checked between batches of tiles.
 *
 * Thread-safety: reentrant; the model is shared read-only. Callbacks run on the calling
 * thread. Errors: enh_status (ECANCELLED, ETIMEOUT, ENOMEM, ETOOBIG for a memory limit
 * too small for even the smallest tile, or whatever fetch/emit/the runner return).
 */
#ifndef ENH_NN_TILER_H
#define ENH_NN_TILER_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/error.h"
#include "core/pool.h"
#include "nn/nn.h"

#define ENH_TILER_DEFAULT_MEMORY ((size_t)512 << 20)
#define ENH_TILER_MAX_TILE 512

struct enh_model;
/* Same signature as enh_tile_runner_fn (pipeline.h): runs n tiles of c x h x w. */
typedef enh_status (*enh_tiler_run_fn)(void *user, struct enh_model *model, const float *in, int n, int c,
                                       int h, int w, float *out, enh_error *err);
/* Writes the input window (x, y, w, h) as `c` planes of h*w floats in [0, 1] into dst. */
typedef enh_status (*enh_tiler_fetch_fn)(void *user, int x, int y, int w, int h, int c, float *dst,
                                         enh_error *err);
/* Receives final output rows [y, y+rows) of the full output (width ow): c planes,
 * plane k starting at data + k * plane_stride, rows of ow floats. */
typedef enh_status (*enh_tiler_emit_fn)(void *user, int y, int rows, int ow, int c, const float *data,
                                        size_t plane_stride, enh_error *err);

typedef struct enh_tiler_opts {
    int tile;              /* LR core side; 0 = from memory_limit */
    size_t memory_limit;   /* 0 = ENH_TILER_DEFAULT_MEMORY */
    int overlap;           /* LR px of context; -1 = auto (radius, or feather_overlap) */
    int feather;           /* -1 auto (radius unknown or > max_exact_overlap), 0 exact, 1 feathered */
    int max_exact_overlap; /* default 64 */
    int feather_overlap;   /* default 64 (x4plus: ~0.3/255 from whole-image inference) */
    int feather_ramp;      /* half-width of the blend ramp, LR px; 0 = min(overlap / 2, 12) */
    int batch;             /* tiles per model call, default 1 */
    int clamp;             /* clamp to [0, 1] before emit, default 1 */
    enh_pool *pool;
    atomic_int *cancel;
    double deadline;       /* enh_now() seconds, 0 = none */
    void (*progress)(void *user, double fraction);
    void *progress_user;
    enh_tiler_run_fn runner; /* NULL = enh_model_run */
    void *runner_user;
} enh_tiler_opts;

typedef struct enh_tiler_stats {
    int tiles;          /* model tiles run (last attempt) */
    int tile, overlap;  /* chosen core side and context */
    int feathered;
    int retries;        /* restarts after ENH_ENOMEM */
    size_t planned_bytes;
} enh_tiler_stats;

void enh_tiler_opts_init(enh_tiler_opts *o);

enh_status enh_tiler_run(const enh_model *m, int w, int h, enh_tiler_fetch_fn fetch, enh_tiler_emit_fn emit,
                         void *user, const enh_tiler_opts *opts, enh_tiler_stats *stats, enh_error *err);

/* Convenience: planar float image (in_channels x h x w) -> planar output (out_channels x
 * h*scale x w*scale). */
enh_status enh_tiler_run_planar(const enh_model *m, const float *in, int w, int h, float *out,
                                const enh_tiler_opts *opts, enh_tiler_stats *stats, enh_error *err);

/* ---- pull-driven runs (streaming) ----
 * The same computation as enh_tiler_run, one tile row at a time, for callers that hand
 * rows on as they are asked for (a lazy libvips image). open picks the tile side exactly
 * as enh_tiler_run (so the output is bit-identical to it) and allocates the buffers (a
 * smaller tile when an allocation fails); nothing runs until step. Each step runs the next
 * tile row and emits, in order, the output rows that became final (the last step emits the
 * rest). seek(y) restarts at the latest tile row from which the rows from y on can be
 * rebuilt and returns the first HR row the next emits deliver (<= y); rows are bit-identical
 * to a run from the top. Cancellation / deadline are checked per batch of tiles as in
 * enh_tiler_run; opts->progress gets the tiles run since open / the grid (capped at 1).
 * The options are copied; what their pointers reach (pool, cancel, runner_user,
 * progress_user) and `user` must outlive the stream. One thread at a time per stream;
 * an error leaves the stream usable only for seek or close. */
typedef struct enh_tiler_stream enh_tiler_stream;

enh_status enh_tiler_stream_open(const enh_model *m, int w, int h, enh_tiler_fetch_fn fetch, enh_tiler_emit_fn emit,
                                 void *user, const enh_tiler_opts *opts, enh_tiler_stream **out,
                                 enh_tiler_stats *stats, enh_error *err);
enh_status enh_tiler_stream_step(enh_tiler_stream *s, enh_error *err);
int enh_tiler_stream_seek(enh_tiler_stream *s, int y);
int enh_tiler_stream_restart_row(const enh_tiler_stream *s, int y); /* what seek(y) would return, no change */
int enh_tiler_stream_rows(const enh_tiler_stream *s);     /* tile rows in the grid */
int enh_tiler_stream_next_row(const enh_tiler_stream *s); /* next tile row step runs (== rows: done) */
int enh_tiler_stream_emitted(const enh_tiler_stream *s);  /* HR rows [0, this) are emitted or skipped */
int enh_tiler_stream_tiles(const enh_tiler_stream *s);    /* tiles in the grid */
int enh_tiler_stream_strip_rows(const enh_tiler_stream *s); /* most HR rows one step emits */
void enh_tiler_stream_close(enh_tiler_stream *s);         /* NULL is fine */

/* Bytes the tiler plans for a tile side (what the memory budget is compared with); (size_t)-1
 * when the model's memory plan could not be made (out of memory). */
size_t enh_tiler_plan_bytes(const enh_model *m, int w, int h, int tile, int overlap, int feathered, int batch);

#endif
