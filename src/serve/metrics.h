/* metrics.h - the server's Prometheus metrics (hand-written text exposition format 0.0.4).
 *
 * Moderation decisions by endpoint, decision and deciding class.
 * Per model label (a configured model name, or "none" for requests that run no network):
 * request counters by outcome/reason, histograms of queue time, compute time, end-to-end
 * latency and batch size, tile counter, in-flight and queue-depth gauges, images/s over a
 * sliding window. Plus process RSS, readiness/draining and HTTP responses by code.
 *
 * Ownership: one serve_metrics per server (serve_metrics_create/free). Thread-safety: every
 * function may be called from any thread (one internal mutex; updates are O(buckets)).
 * Errors: creation returns NULL on OOM; rendering returns a malloc'd string or NULL on OOM.
 */
#ifndef ENH_SERVE_METRICS_H
#define ENH_SERVE_METRICS_H

#include <stddef.h>

typedef struct serve_metrics serve_metrics;

serve_metrics *serve_metrics_create(void);
void serve_metrics_free(serve_metrics *m);

/* A request finished. outcome "success" or "failure"; reason "" for success, else a stable
 * name ("invalid_input", "timeout", "queue_full", ...). Times in seconds; negative = unknown. */
void serve_metrics_request_done(serve_metrics *m, const char *model, int success, const char *reason,
                                double queue_s, double compute_s, double total_s);
void serve_metrics_tiles(serve_metrics *m, const char *model, int tiles);
void serve_metrics_batch(serve_metrics *m, const char *model, int batch_size, double run_s);
/* Gauges: deltas (+1 / -1). */
void serve_metrics_inflight_add(serve_metrics *m, const char *model, int delta);
void serve_metrics_queue_add(serve_metrics *m, const char *model, int delta);
int serve_metrics_queue_depth(serve_metrics *m, const char *model);
/* Mean compute seconds of the last successful requests of `model` (0 if none yet). */
double serve_metrics_mean_compute(serve_metrics *m, const char *model);
void serve_metrics_http(serve_metrics *m, int status);
void serve_metrics_set_state(serve_metrics *m, int ready, int draining);
/* One moderation decision: endpoint "check" or "enhance", decision "allow" | "review" | "block" |
 * "unavailable", cls the class of the rule that decided ("none" for allow). */
void serve_metrics_moderation(serve_metrics *m, const char *endpoint, const char *decision, const char *cls);

/* Prometheus text; caller frees. */
char *serve_metrics_render(serve_metrics *m);

#endif
