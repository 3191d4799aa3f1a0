/* serve.h - the inference server behind `enhance serve` (public API of src/serve).
 *
 * HTTP (libmicrohttpd, internal polling threads) in front of a scheduler: requests are
 * admitted into bounded per-model queues, decoded and encoded on I/O workers, run through
 * enh_pipeline_run on pipeline workers whose NN tiles go to a per-model dynamic batcher
 * (src/serve/batcher.h) with `instances` threads sharing one intra-op pool. Endpoints:
 * POST /v1/enhance, POST /v1/jobs (asynchronous, jobs.h), GET /v1/models, /v1/ops, /healthz,
 * /readyz, /metrics, / (web UI). See
 * docs in cmd_serve.c's --help and README.
 *
 * Ownership: enh_serve_start returns a server the caller stops with enh_serve_stop.
 * Thread-safety: enh_serve_reload / enh_serve_drain may be called from any one thread
 * (typically the signal-handling main thread) while the server runs.
 * Errors: enh_status with a message; nothing exits the process.
 */
#ifndef ENH_SERVE_SERVE_H
#define ENH_SERVE_SERVE_H

#include <stddef.h>

#include "core/error.h"

typedef struct enh_serve_options {
    char host[64];              /* listen address (default 127.0.0.1) */
    int port;                   /* 0 = any free port (see enh_serve_port) */
    char models_config[1024];   /* JSON file or model-repository folder; "" = no models */
    char api_key[512];          /* "" = no auth; else Bearer token required on /v1/ */
    size_t max_body_bytes;      /* default 50 MiB */
    size_t max_body_memory;     /* bytes of request bodies in memory at once; 0 = 2 x max_body_bytes */
    size_t max_upload_spool;    /* bytes of spooled bodies at once; 0 = 20 x max_body_bytes */
    double client_body_share;   /* of each of those two budgets, what one client address may hold
                                 * beyond its first body (0 = 0.25; >= 1: no per-address share) */
    char trusted_proxies[512];  /* addresses/CIDRs whose X-Forwarded-For names the client for that
                                 * share (proxy_trust.h); "" = none: the TCP peer is the client */
    size_t spool_threshold;     /* bodies above this go to upload_dir (default 8 MiB) */
    char upload_dir[1024];      /* folder for spooled bodies; "" = none, every body in memory
                                 * (the CLI passes $TMPDIR or /tmp) */
    long long max_pixels;       /* input pixel cap, default 50 MP */
    long long max_output_pixels;/* output pixel cap, default 200 MP */
    int io_threads;             /* decode/encode workers, default 2 */
    int pipeline_threads;       /* 0 = from the models' instances x max_batch */
    int http_threads;           /* libmicrohttpd thread pool, default 2 */
    int cores;                  /* compute cores to use, 0 = online CPUs */
    int vips_threads;           /* libvips threads per evaluation, default 1 */
    int max_connections;        /* default 512 */
    int max_client_connections; /* from one address; 0 = half of max_connections */
    int probe_port;             /* > 0: a second listener (same host) answering only /healthz,
                                 * /readyz and /metrics, outside max_connections; 0 = none */
    double idle_timeout_s;      /* a kept-alive connection's wait for its next request (default 75) */
    double header_timeout_s;    /* a request's headers must arrive within this (default 10; a
                                 * trickle of bytes does not extend it) */
    double drain_timeout_s;     /* default 30 */
    const char *web_dir;        /* NULL = the web UI built into the binary */
    int moderation;             /* enh_moderation: the least moderation of every enhance request
                                 * (off, flag, block); a request may ask for more, never less */
    char moderation_policy[1024]; /* enhance/check.h policy (compact or JSON); "" = the defaults */
    int allow_policy_override;  /* 1: POST /v1/check takes policy=SPEC per request */
    char classifier[64];        /* moderation model; "" = ENH_CLASSIFIER_DEFAULT */
    char cors_origin[256];      /* "" = no CORS headers; else Access-Control-Allow-Origin (e.g. "*") */
    double job_ttl_s;           /* asynchronous jobs: a result is kept this long (default 600) */
    size_t job_max_bytes;       /* ... and the results together at most this much (default 512 MiB) */
    int access_log;             /* 1 = one log line per request at info (default) */
    double debug_delay_ms;      /* test hook: every pipeline run takes this much longer (cancellable) */
    /* test hook, NULL = none: called with debug_user on the worker right before a result is
     * encoded (after the pipeline call; for a lazy upscale before its tiler runs) */
    void (*debug_before_encode)(void *user);
    void *debug_user;
} enh_serve_options;

typedef struct enh_server enh_server;

void enh_serve_options_init(enh_serve_options *o);

/* Loads and warms every configured model (readyz turns 200 when done; the listener is up
 * before that so /healthz answers during warm-up), then serves. */
enh_status enh_serve_start(const enh_serve_options *o, enh_server **out, enh_error *err);
int enh_serve_port(const enh_server *s);
/* Re-reads the model configuration; new/changed models are loaded and warmed while the old
 * ones keep serving; requests in flight finish on the models they started with. */
enh_status enh_serve_reload(enh_server *s, enh_error *err);
/* Stops admitting (readyz 503, new requests 503) and waits until nothing is in flight or
 * timeout_s passed. Returns the number of requests still in flight. */
int enh_serve_drain(enh_server *s, double timeout_s);
/* Cancels what is left, closes the listener, frees everything. */
void enh_serve_stop(enh_server *s);
int enh_serve_ready(const enh_server *s);
/* 1 when loading or warming up a configured model failed (the server stays unready). */
int enh_serve_load_failed(const enh_server *s);

#endif
