/* http_internal.h - what the files of the HTTP front end share: the per-request state, the
 * route table's entry, the response helpers and each endpoint's handler.
 *   http.c           the daemon, the access handler's sequence, the access log
 *   http_route.c     the route table, the checks before a body, the dispatch
 *   http_body.c      receiving a request body (limits)
 *   http_enhance.c   POST /v1/enhance (and the parsing POST /v1/jobs shares)
 *   http_endpoints.c the small GET endpoints
 *   http_jobs.c      the asynchronous job endpoints
 *   http_respond.c   responses and JSON errors
 * Internal to src/serve. Thread-safety: an http_req belongs to its connection's MHD thread.
 * Errors: the helpers answer with the server's JSON error body; MHD_NO only when libmicrohttpd
 * could not build the response. */
#ifndef ENH_SERVE_HTTP_INTERNAL_H
#define ENH_SERVE_HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>

#include "serve/server_internal.h"

enum route {
    R_NONE = 0,
    R_ENHANCE,
    R_JOBS,       /* POST /v1/jobs */
    R_JOB,        /* GET / DELETE /v1/jobs/ID */
    R_JOB_RESULT, /* GET /v1/jobs/ID/result */
    R_MODELS,
    R_OPS,
    R_HEALTHZ,
    R_READYZ,
    R_METRICS,
    R_INDEX,
    R_NOTFOUND,
    R_CHECK,      /* POST /v1/check: an enhance-like job that runs the check (http_check.c) */
    R_OTHER /* a route known by its table entry only (http_route.c) */
};

struct http_req;
typedef enum MHD_Result (*serve_handler)(struct MHD_Connection *c, struct http_req *r);

/* One row of the route table (http_route.c). */
enum {
    RT_BODY = 1,  /* POST with an image body: API key, draining and body limits checked first */
    RT_AUTH = 2,  /* needs the API key (when one is set) */
    RT_PROBE = 4, /* a probe or scrape: logged at debug only */
};
typedef struct serve_route_def {
    const char *path;
    enum route route;
    unsigned flags;
    const char *usage;     /* the 405's message for a wrong method */
    serve_handler handler; /* called once the body (if any) is in */
} serve_route_def;

typedef struct http_req {
    enh_server *srv;
    enum route route;
    const serve_route_def *def; /* NULL for /v1/jobs/ID[/result] and unknown paths */
    char request_id[136];
    serve_upload body;            /* the image body as it arrives (http_body.c) */
    size_t len;                   /* body bytes received, kept or not */
    int too_big;                  /* over --max-body: the rest is read and dropped, then 413 */
    int refused;                  /* over a byte budget: read and dropped, then 503 (refusal) */
    enh_error refusal;
    unsigned long long declared;
    serve_job *job;
    int admitted;
    double t0;
    char job_id[40];     /* R_JOB, R_JOB_RESULT */
    char filename[256];  /* the query key filename= (the download name's stem) */
    int dry_run;         /* POST /v1/jobs?dry_run=true: the cost only, nothing runs */
    /* the access log line (on_completed) */
    char method[8], path[96];
    int code;
    size_t bytes;
} http_req;

/* Requests that carry an image body. */
static inline int takes_image(const http_req *r) { return r->def && (r->def->flags & RT_BODY); }

/* Queues resp (len bytes, for the access log) with the common headers (request id, no-store, CORS). */
enum MHD_Result serve_respond_len(struct MHD_Connection *c, http_req *r, int code, struct MHD_Response *resp,
                                  size_t len);
/* The fixed 503 out_of_memory answer (JSON body, Retry-After: 2), built on the stack (the
 * response holds libmicrohttpd's own copy): for when a request's context or its JSON answer
 * cannot be allocated. NULL when libmicrohttpd cannot make it either. */
struct MHD_Response *serve_oom_response(const char *request_id, size_t *len);
/* doc is stolen; retry_after: the Retry-After value or NULL. Out of memory for the text: the
 * fixed 503 (serve_oom_response) instead. */
enum MHD_Result serve_send_json(struct MHD_Connection *c, http_req *r, int code, json_t *doc, const char *retry_after);
/* {"error": {"code", "type", "message", "details"}}; details (stolen) may be NULL. */
enum MHD_Result serve_send_error(struct MHD_Connection *c, http_req *r, int code, const char *type,
                                 const char *message, json_t *details, double retry_after);

/* http_route.c: the route of url (job_id gets the ID of /v1/jobs/ID[/result]); the checks
 * made when the headers are in (method, API key, draining, the declared body size); the
 * handler once the body is in. */
void serve_route_of(http_req *r, const char *url);

enum MHD_Result serve_route_begin(struct MHD_Connection *c, http_req *r, const char *method);
enum MHD_Result serve_route_dispatch(struct MHD_Connection *c, http_req *r, const char *method, const char *url);
int serve_authorized(struct MHD_Connection *c, const enh_server *s);

/* http_body.c: the declared Content-Length checked (413 early when the client waits for
 * "100 Continue" or the body is huge), then the body's pieces as they arrive. */
enum MHD_Result serve_body_begin(struct MHD_Connection *c, http_req *r);
enum MHD_Result serve_body_append(http_req *r, const char *data, size_t n);
/* The 413 for a body found too big while it arrived, or the 503 for one over a byte budget;
 * MHD_YES with nothing sent when the body was kept. */
enum MHD_Result serve_body_refusal(struct MHD_Connection *c, http_req *r, int *answered);

/* http_enhance.c: POST /v1/enhance (submit, then the answer once the job is done) and
 * POST /v1/jobs (parsed and probed here, then serve_jobs_submit). */
enum MHD_Result serve_enhance_handle(struct MHD_Connection *c, http_req *r);

/* http_check.c: POST /v1/check's query keys (policy, skip, require, priority, deadline_ms) and
 * its answer once the job is done (parsed, probed and admitted by http_enhance.c). */
enh_status serve_check_query(http_req *r, serve_job *j, const char *key, const char *value, enh_error *err);
enum MHD_Result serve_check_respond(struct MHD_Connection *c, http_req *r);

/* http_endpoints.c */
enum MHD_Result serve_ep_ops(struct MHD_Connection *c, http_req *r);
enum MHD_Result serve_ep_healthz(struct MHD_Connection *c, http_req *r);
enum MHD_Result serve_ep_readyz(struct MHD_Connection *c, http_req *r);
enum MHD_Result serve_ep_metrics(struct MHD_Connection *c, http_req *r);
enum MHD_Result serve_ep_models(struct MHD_Connection *c, http_req *r);
enum MHD_Result serve_ep_index(struct MHD_Connection *c, http_req *r);

/* The output pixels of w x h under the job's upscale, roughly: for estimates. */
double serve_out_pixels_of(const serve_job *j, int w, int h);
/* POST /v1/jobs, after http.c parsed and probed the request into r->job (w x h: its size). */
enum MHD_Result serve_jobs_submit(struct MHD_Connection *c, http_req *r, int w, int h);
enum MHD_Result serve_job_status(struct MHD_Connection *c, http_req *r);  /* GET /v1/jobs/ID */
enum MHD_Result serve_job_cancel(struct MHD_Connection *c, http_req *r);  /* DELETE /v1/jobs/ID */
enum MHD_Result serve_job_result(struct MHD_Connection *c, http_req *r);  /* GET /v1/jobs/ID/result */

#endif
