/* server_internal.h - structures shared by server*.c (scheduler, encode, lifecycle), registry.c
 * (models) and http.c (libmicrohttpd front end). Internal to src/serve.
 *
 * Locking: srv->mu guards the work queues, the active-job list, srv->registry and the
 * drain/ready flags. A job belongs to its HTTP request context; workers touch it only
 * while it is queued or running, and never after job_complete() resumed the connection.
 */
#ifndef ENH_SERVE_SERVER_INTERNAL_H
#define ENH_SERVE_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <vips/vips.h>

#include "core/pool.h"
#include "enhance/ops.h"
#include "enhance/pipeline.h"
#include "nn/nn_options.h"
#include "serve/batcher.h"
#include "serve/config.h"
#include "serve/metrics.h"
#include "serve/outcome.h"
#include "serve/request.h"
#include "serve/serve.h"
#include "serve/upload.h"

struct enh_model;

/* ---- models (registry.c) ---- */
typedef struct serve_model {
    serve_model_cfg cfg;
    struct enh_model *model; /* a reference from the shared model cache */
    char cache_name[1024];   /* what the cache (and the upscale stage) know it by */
    int custom;              /* not a manifest model: known by its .param path */
    enh_nn_options nn;       /* its runtime options (the cache key's third part): the upscale
                                stage asks the cache with these to get this very model */
    int scale, in_channels, out_channels;
    serve_batcher *batcher;
    atomic_int refs;     /* registries holding it */
    atomic_int ready;    /* loaded and warmed up */
    struct serve_metrics *metrics;
    char error[512];     /* load/warm-up failure */
} serve_model;

typedef struct serve_registry {
    atomic_int refs;     /* the server + every job that uses it */
    serve_model **models;
    int n;
    serve_model_cfg resample;
    char models_dir[1024];
    char source[1024];
} serve_registry;

/* Builds a registry for cfg (models come from the shared model cache, src/nn/model_cache.h,
 * and are warmed up with one tile through their batcher), reusing the models of `prev` (may be NULL) whose settings did
 * not change; loads and warms the others. */
enh_status serve_registry_build(const serve_models_config *cfg, serve_registry *prev, enh_pool *pool,
                                serve_metrics *metrics, serve_registry **out, enh_error *err);
void serve_registry_ref(serve_registry *r);
void serve_registry_unref(serve_registry *r);
serve_model *serve_registry_find(serve_registry *r, const char *name);
serve_model *serve_registry_find_ptr(serve_registry *r, const struct enh_model *m);
int serve_registry_instances(const serve_models_config *cfg);
/* A model's purpose: its configured one, else photo / art / quality from its name. */
const char *serve_purpose_of(const serve_model_cfg *m);
/* Model a request will run (NULL: none; *route gets its metrics label): the named model, or for
 * upscale=PURPOSE the served model of that purpose whose native scale is nearest above the
 * requested one (the stage reduces its output). ENH_ENOTFOUND when the operations need a model
 * this server does not serve (the message says how to install and serve it); ENH_EINVAL for a
 * scale without an upscale method. */
enh_status serve_route(serve_registry *r, const enh_ops *ops, serve_model **model, char *route, size_t route_size,
                       enh_error *err);

/* ---- jobs (server.c) ---- */

typedef struct serve_job {
    enh_server *srv;
    serve_registry *reg; /* ref held */
    serve_model *model;  /* NULL when no network runs */
    char route[64];
    char request_id[136];
    /* input */
    serve_upload body;   /* the request body (memory or spooled), released after decode */
    serve_upload part;   /* a spooled multipart body's image part, copied out (else unused) */
    const char *image;   /* in memory: into body.mem; NULL when the image is spooled */
    size_t image_len;
    enh_ops ops;
    serve_params params;
    int tile_size;       /* LR tile side for this job, 0 = its model's setting (async jobs: smaller
                            tiles, so progress moves in steps a person can follow) */
    /* state */
    serve_stage stage;
    int in_queue, queued_counted;
    atomic_int cancel;
    double deadline;
    double t_admit, t_enqueue, t_done;
    double queue_s, decode_s, compute_s, encode_s, tile_wait_s;
    double pipe_s;       /* enh_pipeline_run's wall time */
    char net_timing[256]; /* Server-Timing entries of the restoration networks (net_stage.h) */
    double runner_s;     /* wall time inside the tile runner (batcher waits included) */
    int tiles;
    /* the first failure of a model run (the tile runner) while the result was encoded,
     * under srv->mu: a lazy upscale's failure reaches the encoder only as a libvips error */
    enh_status runner_status;
    enh_error runner_err;
    VipsImage *image_in, *image_out;
    enh_format in_format;
    enh_pipeline_report report;
    /* result */
    enh_status status;
    serve_stage failed_stage;
    enh_error err;
    const char *err_type; /* its error class (outcome.h), set by job completion */
    void *out_buf;       /* g_malloc'd */
    size_t out_len;
    const char *mime;
    int out_w, out_h;
    /* front end */
    void (*done)(struct serve_job *job); /* completion: called once, without s->mu, after the
                                            job finished; the job may be freed from then on */
    struct MHD_Connection *conn;
    int fd;
    int finished;        /* job_complete ran */
    struct serve_job *qprev, *qnext; /* work queue */
    struct serve_job *aprev, *anext; /* active list */
    struct serve_check *check; /* POST /v1/check, or a moderated enhance job (server_check.h) */
} serve_job;

typedef struct serve_queue {
    serve_job *head[SERVE_NPRIO], *tail[SERVE_NPRIO];
    int n;
} serve_queue;

struct enh_server {
    enh_serve_options opt;
    struct MHD_Daemon *mhd;
    struct MHD_Daemon *probe_mhd; /* --probe-port: /healthz, /readyz, /metrics only */
    struct serve_guard *guard; /* connection deadlines (http_guard.h) */
    unsigned conn_limit, client_conn_limit, probe_conn_limit; /* as started (http.c), for metrics */
    int port;
    serve_upload_budget uploads; /* bytes of request bodies held at once (upload.h) */
    struct serve_proxies *proxies; /* --trusted-proxies (proxy_trust.h); NULL = none */
    enh_pool *pool;
    serve_metrics *metrics;
    pthread_mutex_t mu;
    pthread_cond_t io_cv, pipe_cv, idle_cv;
    serve_queue io_q, encode_q, pipe_q;
    serve_job *active;   /* admitted, not completed */
    int inflight;
    serve_registry *registry;
    serve_models_config config;
    atomic_int ready, draining, stopping, load_failed;
    atomic_int open_requests;
    atomic_int generation;    /* successful config loads (1 = the first) */ /* HTTP requests between first call and completion */
    pthread_t *io_threads, *pipe_threads, monitor, loader;
    int n_io, n_pipe, loader_started, monitor_started;
    int decoding, pipe_idle; /* under mu: decodes running, pipeline workers waiting (the decode gate) */
    char web_index_path[1024];
    struct serve_jobs *jobs; /* asynchronous jobs (jobs.h) */
    struct serve_nets *nets; /* the restoration networks' batchers (net_stage.h), made on first use */
    struct serve_checks *checks; /* the checks' classifier and BRISQUE (server_check.h), made on first use */
};

/* The spooled file holding a job's image, or -1 when it is in memory (job->image). */
static inline int serve_job_image_fd(const serve_job *j) { return j->part.fd >= 0 ? j->part.fd : j->body.fd; }

/* Admits a job (job->done set): takes ownership of job (on error it is not queued and the caller
 * frees it with serve_job_free). Refusals: *type = "unavailable" (draining, not ready),
 * "queue_full" (*retry_after set too) or the route's class ("model_not_found"). */
enh_status serve_admit(enh_server *s, serve_job *job, const char **type, double *retry_after, enh_error *err);
void serve_job_free(serve_job *job);
/* After serve_admit succeeded and the connection is suspended: queues the job. */
void serve_job_start(serve_job *job);
/* Values of serve_job.cancel besides 0. */
#define SERVE_CANCEL_CLIENT 1
#define SERVE_CANCEL_SHUTDOWN 2
/* Set by the monitor on a job past its deadline while its result is encoded (the pipeline
 * stage checks deadlines itself); serve_do_encode answers it 504. */
#define SERVE_CANCEL_DEADLINE 3

/* Scheduler internals shared by server.c and server_lifecycle.c (s->mu held where named). */
void serve_finish_locked(enh_server *s, serve_job *j, enh_status st, serve_stage stage, const enh_error *err);
void *serve_io_main(void *server);      /* decode/encode worker */
void *serve_pipe_main(void *server);    /* pipeline worker */
void *serve_monitor_main(void *server); /* deadlines of queued jobs, clients gone */

/* Finishes the job (serve_finish_locked under s->mu) and calls its done callback; the job
 * may be freed when it returns. */
void serve_finish(enh_server *s, serve_job *j, enh_status st, serve_stage stage, const enh_error *err);
/* The job left the queue for compute: its queue-depth count is dropped (once; server_job.c). */
void serve_compute_started(enh_server *s, serve_job *j);
/* The encode stage and the pipeline's tile runner (server_encode.c, contract there). */
enh_status serve_do_encode(enh_server *s, serve_job *j, enh_error *err);
enh_status serve_tile_runner(void *user, struct enh_model *model, const float *in, int n, int c, int h, int w,
                             float *out, enh_error *err);

/* ---- gauges of the byte budgets and connections, for /metrics (metrics_budget.c): Prometheus
 * text to append to serve_metrics_render's; malloc'd, NULL on OOM ---- */
char *serve_budget_metrics(enh_server *s);

/* ---- front end (http.c) ---- */
enh_status serve_http_start(enh_server *s, enh_error *err);
void serve_http_stop(enh_server *s);
/* The HTTP status code of an error class (outcome.h; http_status.c); 500 for unknown ones. */
int serve_http_code(const char *type);

#endif
