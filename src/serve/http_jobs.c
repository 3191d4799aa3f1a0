/* http_jobs.c - the asynchronous endpoints of the HTTP front end: POST /v1/jobs (a request
 * parsed by http.c's enhance_submit, admitted with its answer kept in the jobs table, jobs.h),
 * GET /v1/jobs/ID, GET /v1/jobs/ID/result, DELETE /v1/jobs/ID. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/http_internal.h"
#include "serve/jobs.h"
#include "serve/server_internal.h"

/* The output size of w x h under the job's operations, roughly (the upscale only): for estimates. */
double serve_out_pixels_of(const serve_job *j, int w, int h)
{
    double f = serve_job_scale(j);
    if (f <= 0)
        f = 1;
    return (double)w * h * f * f;
}

/* POST /v1/jobs: the job of enhance_submit, admitted into the scheduler with its answer kept
 * in the jobs table (jobs.h); answered 202 at once with the job's id and cost. Asynchronous jobs
 * have no default deadline (deadline_ms still applies when given): following and cancelling
 * them is the client's way to bound them. */
enum MHD_Result serve_jobs_submit(struct MHD_Connection *c, http_req *r, int w, int h)
{
    enh_server *s = r->srv;
    serve_job *j = r->job;
    enh_error err;
    enh_error_clear(&err);
    if (j->params.deadline_ms <= 0)
        j->params.deadline_ms = 86400000.0;
    j->conn = NULL;
    j->fd = -1; /* no connection to watch: the job outlives the request */
    /* about a dozen tiles or more, so progress and time left move in steps a person sees
     * (the tiler's own pick, from its memory budget, gives a 640x480 image 2 tiles); not under
     * 256 px, where the tiles' overlaps cost more than 25% extra work */
    double side = sqrt((double)w * h / 12.0);
    j->tile_size = side < 256 ? 256 : side > 512 ? 512 : (int)side;
    /* the route is decided by serve_admit; the estimate needs it first (no lock needed: a
     * snapshot of the registry is enough for a cost estimate) */
    serve_model *m = NULL;
    char route[64] = "none";
    pthread_mutex_lock(&s->mu);
    if (s->registry)
        serve_route(s->registry, &j->ops, &m, route, sizeof route, &err);
    pthread_mutex_unlock(&s->mu);
    enh_error_clear(&err);
    j->model = m; /* serve_admit routes it again */
    double outpx = serve_out_pixels_of(j, w, h);
    j->model = NULL;
    double est = serve_jobs_speed_estimate(s->jobs, route, outpx);
    if (r->dry_run) {
        json_t *doc = json_pack("{s:s,s:{s:i,s:i},s:{s:f,s:o}}", "model", route, "input", "width", w, "height", h,
                                "estimate", "output_megapixels", outpx / 1e6, "seconds",
                                est >= 0 ? json_real(est) : json_null());
        return serve_send_json(c, r, 200, doc, NULL);
    }
    char id[40];
    if (serve_jobs_add(s->jobs, j, r->filename, est, outpx / 1e6, id, &err))
        return serve_send_error(c, r, 429, "queue_full", err.msg, NULL, 5);
    const char *type = NULL;
    double retry_after = 0;
    enh_status st = serve_admit(s, j, &type, &retry_after, &err);
    if (st) {
        serve_jobs_forget(s->jobs, id);
        return serve_send_error(c, r, serve_http_code(type), type, err.msg, NULL, retry_after);
    }
    r->admitted = 1;
    r->job = NULL; /* the table owns it now */
    snprintf(r->job_id, sizeof r->job_id, "%s", id);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:i,s:i},s:{s:f,s:o}}", "id", id, "state", "queued", "model",
                            j->route, "status_url", "", "result_url", "", "input", "width", w, "height", h,
                            "estimate", "output_megapixels", outpx / 1e6, "seconds",
                            est >= 0 ? json_real(est) : json_null());
    json_object_set_new(doc, "status_url", json_sprintf("/v1/jobs/%s", id));
    json_object_set_new(doc, "result_url", json_sprintf("/v1/jobs/%s/result", id));
    serve_job_start(j); /* after the answer is built: the job may finish and be evicted at once */
    return serve_send_json(c, r, 202, doc, NULL);
}

enum MHD_Result serve_job_status(struct MHD_Connection *c, http_req *r)
{
    json_t *doc = serve_jobs_status(r->srv->jobs, r->srv, r->job_id);
    if (!doc)
        return serve_send_error(c, r, 404, "not_found",
                          "no such job (finished jobs are kept for a limited time; submit it again with POST /v1/jobs)",
                          NULL, 0);
    return serve_send_json(c, r, 200, doc, NULL);
}

enum MHD_Result serve_job_cancel(struct MHD_Connection *c, http_req *r)
{
    int running = 0;
    if (serve_jobs_cancel(r->srv->jobs, r->srv, r->job_id, &running))
        return serve_send_error(c, r, 404, "not_found", "no such job (already removed?)", NULL, 0);
    return serve_send_json(c, r, 200,
                     json_pack("{s:s,s:s}", "id", r->job_id, "state", running ? "cancelled" : "removed"), NULL);
}

enum MHD_Result serve_job_result(struct MHD_Connection *c, http_req *r)
{
    struct MHD_Response *resp = NULL;
    size_t len = 0;
    char msg[600];
    int code = 0, done = 0, total = 0;
    const char *type = NULL;
    int rc = serve_jobs_result(r->srv->jobs, r->srv, r->job_id, &resp, &len, &code, &type, msg, sizeof msg, &done,
                               &total);
    if (rc < 0)
        return serve_send_error(c, r, 404, "not_found",
                          "no such job (finished jobs are kept for a limited time; submit it again with POST /v1/jobs)",
                          NULL, 0);
    if (rc == 1) {
        char m[200];
        snprintf(m, sizeof m, "the job is still running (%d of %d tiles done); poll GET /v1/jobs/%s until its state is done",
                 done, total, r->job_id);
        return serve_send_error(c, r, 409, "not_ready", m, NULL, 1);
    }
    if (rc == 2)
        return serve_send_error(c, r, code, type, msg, NULL, 0);
    return serve_respond_len(c, r, 200, resp, len);
}
