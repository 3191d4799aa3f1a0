/* http_enhance.c - POST /v1/enhance: the body (raw image, or multipart with an 'operations'
 * part) and the query parsed into a job, the header probed (format, pixel cap) before any
 * queueing, the job admitted and its connection suspended until the scheduler (server.c) is
 * done; then the image with its size, model and timing headers, or the JSON error.
 * POST /v1/jobs shares the parsing and the probe, then goes on in http_jobs.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "serve/codec.h"
#include "serve/filename.h"
#include "serve/http_internal.h"
#include "serve/jobs.h"
#include "serve/server_check.h"
#include "serve/server_internal.h"

/* A job's completion callback (serve_job.done): its answer is ready, resume the connection. */
static void http_job_done(serve_job *job) { MHD_resume_connection(job->conn); }

typedef struct query_ctx {
    serve_job *job;
    enh_status st;
    enh_error *err;
    http_req *r;
} query_ctx;

static enum MHD_Result on_query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    query_ctx *q = cls;
    if (q->st)
        return MHD_NO;
    if (q->r->route == R_CHECK) { /* POST /v1/check has keys of its own */
        q->st = serve_check_query(q->r, q->job, key, value, q->err);
        return q->st ? MHD_NO : MHD_YES;
    }
    if (!strcmp(key, "filename")) { /* the download name's stem, not an operation */
        snprintf(q->r->filename, sizeof q->r->filename, "%s", value ? value : "");
        return MHD_YES;
    }
    if (!strcmp(key, "dry_run") && q->r->route == R_JOBS) { /* the cost of a job, before it runs */
        q->r->dry_run = !value || !strcmp(value, "true") || !strcmp(value, "1");
        return MHD_YES;
    }
    q->st = serve_query_apply(key, value, &q->job->ops, &q->job->params, q->err);
    return q->st ? MHD_NO : MHD_YES;
}

static int is_multipart(const char *ctype) { return ctype && !strncasecmp(ctype, "multipart/form-data", 19); }

/* A multipart body's parts: the image (left where it is in memory; copied out of a spooled
 * body into a spooled file of its own, so that the decoder reads a file of the image alone) and
 * the operations JSON. 0, or the HTTP status of the failure with *type and err set. */
static int take_multipart(http_req *r, serve_job *j, const char *ctype, const char **type, enh_error *err)
{
    int spooled = serve_upload_spooled(&j->body);
    const char *body = spooled ? serve_upload_map(&j->body, err) : j->body.mem;
    size_t len = j->body.len;
    *type = "invalid_request";
    if (spooled && !body)
        return (*type = "unavailable"), 503;
    serve_part parts[8];
    int np = 0, code = 0;
    const serve_part *img = NULL, *ops = NULL;
    if (serve_multipart_parse(ctype, body, len, parts, 8, &np, err)) {
        code = 400;
        goto out;
    }
    for (int i = 0; i < np; i++) {
        if (!strcmp(parts[i].name, "image") || !strcmp(parts[i].name, "file"))
            img = &parts[i];
        else if (!strcmp(parts[i].name, "operations") || !strcmp(parts[i].name, "ops"))
            ops = &parts[i];
        else {
            enh_fail(err, ENH_EINVAL, "unknown multipart part '%.60s' (expected 'image' and 'operations')",
                     parts[i].name);
            code = 400;
            goto out;
        }
    }
    if (!img) {
        enh_fail(err, ENH_EINVAL, "multipart body has no 'image' part");
        code = 400;
        goto out;
    }
    if (img->filename[0])
        snprintf(r->filename, sizeof r->filename, "%s", img->filename);
    if (ops && ops->len) {
        enh_status st = enh_ops_from_json(ops->data, ops->len, &j->ops, err);
        if (st) {
            *type = st == ENH_EINVAL ? "invalid_request" : "unprocessable";
            code = st == ENH_EINVAL ? 400 : 422;
            goto out;
        }
    }
    if (!spooled) {
        j->image = img->data;
        j->image_len = img->len;
    } else if (serve_upload_spool_copy(&j->body, img->data, img->len, &j->part, err)) {
        *type = "unavailable";
        code = 503;
    }
out:
    if (spooled) {
        munmap((void *)body, len);
        if (!code) /* the image part has its own file now */
            serve_upload_release(&j->body);
    }
    return code;
}

static enum MHD_Result enhance_submit(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    serve_job *j = calloc(1, sizeof *j);
    if (!j)
        return serve_send_error(c, r, 503, "out_of_memory", "out of memory", NULL, 0);
    r->job = j;
    j->srv = s;
    j->fd = -1;
    atomic_init(&j->cancel, 0);
    snprintf(j->request_id, sizeof j->request_id, "%s", r->request_id);
    snprintf(j->route, sizeof j->route, "none");
    if (r->route == R_CHECK && !(j->check = serve_check_new_job(s)))
        return serve_send_error(c, r, 503, "out_of_memory", "out of memory", NULL, 0);
    enh_ops_init(&j->ops);
    serve_params_init(&j->params);
    j->body = r->body; /* the body moves to the job */
    serve_upload_init(&r->body, &s->uploads);
    serve_upload_init(&j->part, &s->uploads);
    j->image = j->body.mem;
    j->image_len = j->body.len;
    enh_error err;
    enh_error_clear(&err);
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (is_multipart(ctype)) {
        const char *type;
        int code = take_multipart(r, j, ctype, &type, &err);
        if (code)
            return serve_send_error(c, r, code, type, err.msg, NULL, code == 503 ? 2 : 0);
    } else if (ctype && strncasecmp(ctype, "image/", 6) && strncasecmp(ctype, "application/octet-stream", 24)) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "Content-Type '%.100s' is not accepted: send the image bytes as image/* (or "
                 "application/octet-stream), or multipart/form-data with 'image' and 'operations' parts",
                 ctype);
        return serve_send_error(c, r, 415, "unsupported_media_type", msg, NULL, 0);
    }
    query_ctx q = {j, ENH_OK, &err, r};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_query_arg, &q);
    if (q.st)
        return serve_send_error(c, r, 400, "invalid_request", err.msg, NULL, 0);
    const char *prio = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Priority");
    if (prio && serve_priority_from_name(prio, &j->params.priority, &err))
        return serve_send_error(c, r, 400, "invalid_request", err.msg, NULL, 0);
    const char *dl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Deadline-Ms");
    if (dl && serve_query_apply("deadline_ms", dl, &j->ops, &j->params, &err))
        return serve_send_error(c, r, 400, "invalid_request", err.msg, NULL, 0);
    if (enh_ops_validate(&j->ops, &err))
        return serve_send_error(c, r, 422, "unprocessable", err.msg, NULL, 0);
    /* header-only probe: wrong format / too many pixels answered before any queueing */
    enh_format fmt;
    int w, h;
    int fd = serve_job_image_fd(j);
    enh_status st = fd >= 0 ? serve_probe_fd(fd, s->opt.max_pixels, &fmt, &w, &h, &err)
                            : serve_probe(j->image, j->image_len, s->opt.max_pixels, &fmt, &w, &h, &err);
    if (st) {
        json_t *d = NULL;
        if (st == ENH_ETOOBIG)
            d = json_pack("{s:I}", "limit_pixels", (json_int_t)s->opt.max_pixels);
        /* an accepted format whose band layout cannot be processed is 422, not 415 */
        const char *type = serve_outcome_type(st, st == ENH_EUNSUPPORTED && fmt != ENH_FORMAT_SAME ? STAGE_PIPELINE
                                                                                                  : STAGE_DECODE);
        return serve_send_error(c, r, serve_http_code(type), type, err.msg, d, 0);
    }
    const char *type = NULL;
    double retry_after = 0;
    if (r->route == R_JOBS)
        return serve_jobs_submit(c, r, w, h);
    j->conn = c; /* before admission: the monitor may look at the job from then on */
    j->done = http_job_done;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    j->fd = ci ? ci->connect_fd : -1;
    st = serve_admit(s, j, &type, &retry_after, &err);
    if (st)
        return serve_send_error(c, r, serve_http_code(type), type, err.msg, NULL, retry_after);
    r->admitted = 1;
    MHD_suspend_connection(c); /* before queueing, so a fast job cannot resume it first */
    serve_job_start(j);
    return MHD_YES;
}

static enum MHD_Result enhance_respond(struct MHD_Connection *c, http_req *r)
{
    serve_job *j = r->job;
    enh_server *s = r->srv;
    pthread_mutex_lock(&s->mu); /* pairs with finish_locked */
    int finished = j->finished;
    pthread_mutex_unlock(&s->mu);
    if (!finished)
        return MHD_YES; /* spurious wake-up */
    if (r->route == R_CHECK)
        return serve_check_respond(c, r);
    char tmp[64];
    if (j->status) {
        /* a served model by its configured name, as X-Model (a custom model's cache name is
         * its .param path) */
        json_t *d = json_pack("{s:s}", "model", j->model || !j->report.model[0] ? j->route : j->report.model);
        if (j->status == ENH_ETOOBIG)
            json_object_set_new(d, "limit_output_pixels", json_integer(s->opt.max_output_pixels));
        if (j->err_type && !strcmp(j->err_type, "deadline_exceeded")) {
            /* say what to do instead, with the cost at this server's measured speed */
            char msg[sizeof j->err.msg + 400], cost[120] = "";
            int w = j->report.in_width, h = j->report.in_height;
            double px = w > 0 ? serve_out_pixels_of(j, w, h) : 0;
            double est = px > 0 ? serve_jobs_speed_estimate(s->jobs, j->route, px) : -1;
            if (est > 0)
                snprintf(cost, sizeof cost, " (this %.1f MP result needs about %.0f s here)", px / 1e6, est);
            snprintf(msg, sizeof msg,
                     "%s. For a long job%s, submit it with POST /v1/jobs instead (asynchronous: progress, cancel, no "
                     "deadline), or ask for a smaller scale",
                     j->err.msg, cost);
            return serve_send_error(c, r, serve_http_code(j->err_type), j->err_type, msg, d, 0);
        }
        json_t *md = serve_check_details(j); /* moderation=block: the probabilities, the rules that fired */
        if (md)
            json_object_set_new(d, "moderation", md);
        return serve_send_error(c, r, serve_http_code(j->err_type), j->err_type, j->err.msg, d, 0);
    }
    serve_jobs_speed_record(s->jobs, j->route, (double)j->out_w * j->out_h, j->compute_s);
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(j->out_len, j->out_buf, g_free);
    if (!resp)
        return MHD_NO;
    j->out_buf = NULL;
    MHD_add_response_header(resp, "Content-Type", j->mime);
    snprintf(tmp, sizeof tmp, "%d", j->out_w);
    MHD_add_response_header(resp, "X-Image-Width", tmp);
    snprintf(tmp, sizeof tmp, "%d", j->out_h);
    MHD_add_response_header(resp, "X-Image-Height", tmp);
    /* a served model by its configured name (a custom model's cache name is its .param path) */
    MHD_add_response_header(resp, "X-Model", j->model ? j->route : j->report.model[0] ? j->report.model : "none");
    snprintf(tmp, sizeof tmp, "%d", j->tiles);
    MHD_add_response_header(resp, "X-Tiles", tmp);
    serve_check_add_headers(resp, j); /* moderation=flag|block: X-Moderation, X-Moderation-Decision */
    double total = j->t_done - j->t_admit;
    const struct {
        const char *name;
        double v;
    } tm[] = {{"Queue", j->queue_s}, {"Decode", j->decode_s}, {"Compute", j->compute_s},
              {"Encode", j->encode_s}, {"Total", total}};
    char st_hdr[512];
    size_t off = 0;
    for (size_t i = 0; i < sizeof tm / sizeof tm[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "X-Timing-%s-Ms", tm[i].name);
        snprintf(tmp, sizeof tmp, "%.1f", tm[i].v * 1000);
        MHD_add_response_header(resp, name, tmp);
        off += (size_t)snprintf(st_hdr + off, sizeof st_hdr - off, "%s%c%s;dur=%.1f", i ? ", " : "",
                                tm[i].name[0] + 32, tm[i].name + 1, tm[i].v * 1000);
    }
    /* then each restoration network's queue and compute (net_stage.h) */
    snprintf(st_hdr + off, sizeof st_hdr - off, "%s", j->net_timing);
    MHD_add_response_header(resp, "Server-Timing", st_hdr);
    char fname[160], cd[220];
    serve_result_filename(r->filename, &j->ops, serve_job_scale(j), j->mime, fname, sizeof fname);
    serve_content_disposition("inline", fname, cd, sizeof cd);
    MHD_add_response_header(resp, "Content-Disposition", cd);
    return serve_respond_len(c, r, 200, resp, j->out_len);
}

enum MHD_Result serve_enhance_handle(struct MHD_Connection *c, http_req *r)
{
    /* a synchronous enhance is called again when its job resumes the connection */
    if ((r->route == R_ENHANCE || r->route == R_CHECK) && r->job)
        return enhance_respond(c, r);
    return enhance_submit(c, r);
}
