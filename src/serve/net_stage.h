/* net_stage.h - the restoration networks (MAXIM: --denoise ai, --deblur ai, --low-light) as
 * served models: each network has its own batcher (instances, three-priority queue, batches
 * of equal-size images) created on first use, and a request's networks run as an ensemble of
 * stages through them (enh_pipeline_ctx.net_runner): the image waits in each stage's queue with
 * the request's deadline, priority and cancel flag, so a cancelled request leaves every queue
 * at once and runs no later stage (stage_model.c checks between networks).
 * Per stage, the request records its queue and compute time: the metrics' per-model series
 * (label = the network's name: queue and compute histograms, requests, batches) and one
 * Server-Timing pair per network ("maxim-denoising-queue;dur=..", "maxim-denoising;dur=..").
 *
 * Ownership: serve_nets holds a cache reference on each network loaded and its batcher until
 * serve_nets_free (after every job finished). Thread-safety: serve_net_runner may be called
 * from any number of pipeline workers at once (one mutex guards the list of networks).
 * Errors: the model cache's (not installed: how to fetch it), the batcher's (ENH_ETIMEOUT,
 * ENH_ECANCELLED, ENH_EBUSY) and the runtime's.
 */
#ifndef ENH_SERVE_NET_STAGE_H
#define ENH_SERVE_NET_STAGE_H

#include <stddef.h>

#include "core/error.h"
#include "core/pool.h"

struct serve_metrics;
typedef struct serve_nets serve_nets;

/* memory_limit: working memory per network run (0 = 4 GiB: whole images up to ~1.9 MP). */
serve_nets *serve_nets_create(enh_pool *pool, struct serve_metrics *metrics, size_t memory_limit);
void serve_nets_free(serve_nets *n);

/* The enh_net_runner_fn of a server job (user = the serve_job). */
enh_status serve_net_runner(void *user, const char *model, const float *in, int h, int w, float *out,
                            enh_error *err);

#endif
