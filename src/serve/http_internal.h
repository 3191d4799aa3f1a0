/* http_internal.h - what http.c (routing, parsing, the synchronous endpoints) shares with
 * http_jobs.c (the asynchronous ones): the per-request state and the response helpers.
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
    R_NOTFOUND
};

typedef struct http_req {
    enh_server *srv;
    enum route route;
    char request_id[136];
    char *body;
    size_t len, cap;
    int too_big;
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

/* Routes whose request carries an image body. */
static inline int takes_image(enum route r) { return r == R_ENHANCE || r == R_JOBS; }

/* Queues resp (len bytes, for the access log) with the common headers (request id, no-store, CORS). */
enum MHD_Result serve_respond_len(struct MHD_Connection *c, http_req *r, int code, struct MHD_Response *resp,
                                  size_t len);
/* doc is stolen; retry_after: the Retry-After value or NULL. */
enum MHD_Result serve_send_json(struct MHD_Connection *c, http_req *r, int code, json_t *doc, const char *retry_after);
/* {"error": {"code", "type", "message", "details"}}; details (stolen) may be NULL. */
enum MHD_Result serve_send_error(struct MHD_Connection *c, http_req *r, int code, const char *type,
                                 const char *message, json_t *details, double retry_after);

/* The output pixels of w x h under the job's upscale, roughly: for estimates. */
double serve_out_pixels_of(const serve_job *j, int w, int h);
/* POST /v1/jobs, after http.c parsed and probed the request into r->job (w x h: its size). */
enum MHD_Result serve_jobs_submit(struct MHD_Connection *c, http_req *r, int w, int h);
enum MHD_Result serve_job_status(struct MHD_Connection *c, http_req *r);  /* GET /v1/jobs/ID */
enum MHD_Result serve_job_cancel(struct MHD_Connection *c, http_req *r);  /* DELETE /v1/jobs/ID */
enum MHD_Result serve_job_result(struct MHD_Connection *c, http_req *r);  /* GET /v1/jobs/ID/result */

#endif
