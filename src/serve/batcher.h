/* batcher.h - Triton-style dynamic batcher for one model: tiles submitted by concurrent
 * requests are queued (three priorities), grouped into batches of equal-size tiles (up to
 * max_batch tiles, waiting at most max_delay for a batch to fill) and run by `instances`
 * worker threads in parallel. Deadlines and cancel flags are checked while a tile waits
 * in the queue (an expired tile leaves the queue at once with ENH_ETIMEOUT / ENH_ECANCELLED).
 * A bounded queue refuses new tiles with ENH_EBUSY beyond max_queue_tiles.
 *
 * Ownership: serve_batcher_create copies the config; the model pointer is borrowed and must
 * outlive the batcher. serve_batcher_destroy stops the instances after the queued tiles ran.
 * Thread-safety: serve_batcher_submit may be called from any number of threads at once.
 * Errors: enh_status with a message in *err (the run function's own error is passed on).
 */
#ifndef ENH_SERVE_BATCHER_H
#define ENH_SERVE_BATCHER_H

#include <stdatomic.h>

#include "core/error.h"
#include "core/pool.h"

typedef enum { SERVE_PRIO_HIGH = 0, SERVE_PRIO_NORMAL = 1, SERVE_PRIO_BATCH = 2 } serve_priority;
#define SERVE_NPRIO 3

/* Runs n tiles of c x h x w; out holds n * out_c * (h*scale) * (w*scale) floats. */
typedef enh_status (*serve_run_fn)(void *model, const float *in, int n, int c, int h, int w, float *out,
                                   enh_pool *pool, enh_error *err);
/* Called after each batch (for metrics); may be NULL. */
typedef void (*serve_batch_cb)(void *user, int tiles, double seconds);

typedef struct serve_batcher_config {
    char name[64];
    void *model;
    serve_run_fn run;
    int out_channels, scale; /* of the model */
    int instances;           /* worker threads (>= 1) */
    int max_batch;           /* tiles per run (>= 1) */
    double max_delay_s;      /* longest wait for a batch to fill */
    int max_queue_tiles;     /* 0 = unbounded */
    enh_pool *pool;          /* intra-op pool shared by all instances */
    serve_batch_cb on_batch;
    void *on_batch_user;
} serve_batcher_config;

typedef struct serve_batcher serve_batcher;

enh_status serve_batcher_create(const serve_batcher_config *cfg, serve_batcher **out, enh_error *err);
void serve_batcher_destroy(serve_batcher *b);

typedef struct serve_tile_wait {
    double queued_s; /* time between submit and the start of the batch that ran the tile */
    int batch_size;  /* tiles in that batch */
} serve_tile_wait;

/* Queues n tiles (in/out as for serve_run_fn) and waits until they ran, the deadline
 * (enh_now() seconds, 0 = none) passed or *cancel became non-zero while still queued.
 * `wait` (optional) receives the queueing time and batch size. */
enh_status serve_batcher_submit(serve_batcher *b, const float *in, int n, int c, int h, int w, float *out,
                                serve_priority prio, double deadline, atomic_int *cancel,
                                serve_tile_wait *wait, enh_error *err);

#endif
