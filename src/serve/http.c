/* http.c - the libmicrohttpd front end: routing, auth, body limits, request parsing,
 * responses (image + timing headers, or JSON errors), connection suspend/resume around
 * the scheduler (server.c). */
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "nn/manifest.h"
#include "serve/codec.h"
#include "serve/filename.h"
#include "serve/http_guard.h"
#include "serve/http_internal.h"
#include "serve/jobs.h"
#include "serve/server_internal.h"
#include "serve/web.h"

/* enum route, http_req, takes_image: http_internal.h */

/* ---- responses ---- */

#define respond(c, r, code, resp) serve_respond_len((c), (r), (code), (resp), 0)

static enum MHD_Result send_text(struct MHD_Connection *c, http_req *r, int code, const char *ctype, char *text,
                                 size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", ctype);
    return serve_respond_len(c, r, code, resp, len);
}

/* A job's completion callback (serve_job.done): its answer is ready, resume the connection. */
static void http_job_done(serve_job *job) { MHD_resume_connection(job->conn); }

/* ---- simple endpoints ---- */

/* GET /v1/ops: every operation from the operations table (the web page builds its form from
 * it). No API key: it is the public vocabulary, and the page reads it before a key is typed. */
static enum MHD_Result do_ops(struct MHD_Connection *c, http_req *r)
{
    char *text = enh_ops_describe_json();
    if (!text)
        return serve_send_error(c, r, 503, "out_of_memory", "out of memory", NULL, 0);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return serve_respond_len(c, r, 200, resp, strlen(text));
}

static enum MHD_Result do_healthz(struct MHD_Connection *c, http_req *r)
{
    return serve_send_json(c, r, 200, json_pack("{s:s}", "status", "alive"), NULL);
}

static enum MHD_Result do_readyz(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    const char *status = atomic_load(&s->draining)      ? "draining"
                         : atomic_load(&s->load_failed) ? "failed"
                         : !atomic_load(&s->ready)      ? "loading"
                                                        : "ready";
    int ok = !strcmp(status, "ready");
    return serve_send_json(c, r, ok ? 200 : 503, json_pack("{s:s}", "status", status), ok ? NULL : "1");
}

static enum MHD_Result do_metrics(struct MHD_Connection *c, http_req *r)
{
    char *text = serve_metrics_render(r->srv->metrics);
    if (!text)
        return serve_send_error(c, r, 500, "internal", "out of memory rendering metrics", NULL, 0);
    return send_text(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
}

static enum MHD_Result do_models(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    json_t *arr = json_array();
    pthread_mutex_lock(&s->mu);
    serve_registry *reg = s->registry;
    for (int i = 0; i < s->config.nmodels; i++) {
        const serve_model_cfg *mc = &s->config.models[i];
        serve_model *m = reg ? serve_registry_find(reg, mc->name) : NULL;
        int ready = m && atomic_load(&m->ready);
        json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:i,s:i,s:i,s:i,s:f,s:f,s:i}", "name", mc->name, "purpose",
                              serve_purpose_of(mc), "loaded", m != NULL, "ready", ready, "instances", mc->instances,
                              "max_batch", mc->max_batch, "tile_size", mc->tile_size, "max_queue", mc->max_queue,
                              "max_queue_delay_ms", mc->max_queue_delay_ms, "default_deadline_ms",
                              mc->default_deadline_ms, "queue_depth",
                              serve_metrics_queue_depth(s->metrics, mc->name));
        json_object_set_new(o, "scale", m ? json_integer(m->scale) : json_null());
        json_array_append_new(arr, o);
    }
    /* the same-size TF.js restorers (maxim-*) the pipeline runs itself with model=NAME, when installed */
    json_t *rest = json_array();
    int nm = 0;
    enh_error merr;
    const enh_model_entry *all = enh_manifest_models(&nm, &merr);
    for (int i = 0; all && i < nm; i++)
        if (all[i].format == ENH_MODEL_TFJS && enh_model_installed(&all[i], s->config.models_dir))
            json_array_append_new(rest, json_pack("{s:s,s:s,s:s}", "name", all[i].name, "purpose", all[i].purpose,
                                                  "description", all[i].description));
    json_t *doc = json_pack("{s:o,s:o,s:b,s:b,s:i,s:s,s:{s:I,s:I,s:I}}", "models", arr, "restorers", rest, "ready",
                            atomic_load(&s->ready), "draining", atomic_load(&s->draining), "generation",
                            atomic_load(&s->generation), "config", s->config.source, "limits", "max_pixels",
                            (json_int_t)s->opt.max_pixels, "max_output_pixels", (json_int_t)s->opt.max_output_pixels,
                            "max_body_bytes", (json_int_t)s->opt.max_body_bytes);
    pthread_mutex_unlock(&s->mu);
    return serve_send_json(c, r, 200, doc, NULL);
}

static enum MHD_Result do_index(struct MHD_Connection *c, http_req *r)
{
    const char *dir = r->srv->opt.web_dir;
    if (dir && *dir) {
        char path[1200];
        snprintf(path, sizeof path, "%s/index.html", dir);
        char *text = NULL;
        size_t len = 0;
        enh_error err;
        if (enh_read_file(path, 4u << 20, &text, &len, &err))
            return serve_send_error(c, r, 404, "not_found", err.msg, NULL, 0);
        return send_text(c, r, 200, "text/html; charset=utf-8", text, len);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        enh_serve_web_index_len, (void *)enh_serve_web_index, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
    return serve_respond_len(c, r, 200, resp, enh_serve_web_index_len);
}

/* ---- POST /v1/enhance ---- */

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

static enum MHD_Result enhance_submit(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    if (r->too_big) {
        char msg[256];
        snprintf(msg, sizeof msg, "request body is %zu bytes; the limit is %zu bytes (server option --max-body)",
                 r->len, s->opt.max_body_bytes);
        return serve_send_error(c, r, 413, "too_large", msg,
                          json_pack("{s:I,s:I}", "limit_bytes", (json_int_t)s->opt.max_body_bytes, "actual_bytes",
                                    (json_int_t)r->len),
                          0);
    }
    serve_job *j = calloc(1, sizeof *j);
    if (!j)
        return serve_send_error(c, r, 503, "out_of_memory", "out of memory", NULL, 0);
    r->job = j;
    j->srv = s;
    j->fd = -1;
    atomic_init(&j->cancel, 0);
    snprintf(j->request_id, sizeof j->request_id, "%s", r->request_id);
    snprintf(j->route, sizeof j->route, "none");
    enh_ops_init(&j->ops);
    serve_params_init(&j->params);
    j->body = r->body;
    j->body_len = r->len;
    r->body = NULL;
    j->image = j->body;
    j->image_len = j->body_len;
    enh_error err;
    enh_error_clear(&err);
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (is_multipart(ctype)) {
        serve_part parts[8];
        int np = 0;
        if (serve_multipart_parse(ctype, j->body, j->body_len, parts, 8, &np, &err))
            return serve_send_error(c, r, 400, "invalid_request", err.msg, NULL, 0);
        const serve_part *img = NULL, *ops = NULL;
        for (int i = 0; i < np; i++) {
            if (!strcmp(parts[i].name, "image") || !strcmp(parts[i].name, "file"))
                img = &parts[i];
            else if (!strcmp(parts[i].name, "operations") || !strcmp(parts[i].name, "ops"))
                ops = &parts[i];
            else {
                char msg[160];
                snprintf(msg, sizeof msg, "unknown multipart part '%.60s' (expected 'image' and 'operations')",
                         parts[i].name);
                return serve_send_error(c, r, 400, "invalid_request", msg, NULL, 0);
            }
        }
        if (!img)
            return serve_send_error(c, r, 400, "invalid_request", "multipart body has no 'image' part", NULL, 0);
        if (img->filename[0])
            snprintf(r->filename, sizeof r->filename, "%s", img->filename);
        j->image = img->data;
        j->image_len = img->len;
        if (ops && ops->len) {
            enh_status st = enh_ops_from_json(ops->data, ops->len, &j->ops, &err);
            if (st)
                return serve_send_error(c, r, st == ENH_EINVAL ? 400 : 422, st == ENH_EINVAL ? "invalid_request" : "unprocessable",
                                  err.msg, NULL, 0);
        }
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
    enh_status st = serve_probe(j->image, j->image_len, s->opt.max_pixels, &fmt, &w, &h, &err);
    if (st) {
        json_t *d = NULL;
        if (st == ENH_ETOOBIG)
            d = json_pack("{s:I}", "limit_pixels", (json_int_t)s->opt.max_pixels);
        const char *type = serve_outcome_type(st, STAGE_DECODE);
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

/* ---- dispatch ---- */

static int id_ok(const char *p, size_t n)
{
    if (!n || n >= 40)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

static enum route route_of(const char *url, char *job_id)
{
    if (!strcmp(url, "/v1/enhance"))
        return R_ENHANCE;
    if (!strcmp(url, "/v1/jobs"))
        return R_JOBS;
    if (!strncmp(url, "/v1/jobs/", 9)) {
        const char *id = url + 9, *slash = strchr(id, '/');
        size_t n = slash ? (size_t)(slash - id) : strlen(id);
        if (!id_ok(id, n) || (slash && strcmp(slash, "/result")))
            return R_NOTFOUND;
        memcpy(job_id, id, n);
        job_id[n] = 0;
        return slash ? R_JOB_RESULT : R_JOB;
    }
    if (!strcmp(url, "/v1/models"))
        return R_MODELS;
    if (!strcmp(url, "/v1/ops"))
        return R_OPS;
    if (!strcmp(url, "/healthz"))
        return R_HEALTHZ;
    if (!strcmp(url, "/readyz"))
        return R_READYZ;
    if (!strcmp(url, "/metrics"))
        return R_METRICS;
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        return R_INDEX;
    return R_NOTFOUND;
}

static int authorized(struct MHD_Connection *c, const enh_server *s)
{
    const char *key = s->opt.api_key;
    if (!key[0])
        return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7))
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    return serve_secret_equal(h, strlen(h), key, strlen(key));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    enh_server *s = cls;
    http_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        atomic_fetch_add(&s->open_requests, 1);
        *con_cls = r;
        r->srv = s;
        r->t0 = enh_now();
        r->route = route_of(url, r->job_id);
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        if (!strcmp(method, "OPTIONS") && s->opt.cors_origin[0]) { /* CORS preflight */
            struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
            if (!resp)
                return MHD_NO;
            MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
            MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, X-Request-Id, X-Priority, X-Deadline-Ms");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
            return respond(c, r, 204, resp);
        }
        const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
        if (rid && serve_request_id_ok(rid))
            snprintf(r->request_id, sizeof r->request_id, "%s", rid);
        else
            serve_new_request_id(r->request_id);
        char why[256];
        const char *bad = serve_guard_check_framing(c, why, sizeof why);
        if (bad)
            return serve_send_error(c, r, 400, "invalid_request", bad, NULL, 0);
        const char *cl0 = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        serve_guard_headers_done(c, cl0 ? strtoull(cl0, NULL, 10) : 0);
        if (r->route == R_JOB || r->route == R_JOB_RESULT) {
            if (!authorized(c, s))
                return serve_send_error(c, r, 401, "unauthorized",
                                  "missing or wrong API key: send 'Authorization: Bearer <key>'", NULL, 0);
        }
        if (takes_image(r->route)) {
            if (strcmp(method, "POST"))
                return serve_send_error(c, r, 405, "method_not_allowed",
                                  r->route == R_JOBS ? "use POST /v1/jobs with the image as body (GET /v1/jobs/ID "
                                                       "follows a job)"
                                                     : "use POST /v1/enhance with the image as body",
                                  NULL, 0);
            if (!authorized(c, s))
                return serve_send_error(c, r, 401, "unauthorized",
                                  "missing or wrong API key: send 'Authorization: Bearer <key>'", NULL, 0);
            if (atomic_load(&s->draining))
                return serve_send_error(c, r, 503, "unavailable",
                                  "the server is draining (shutting down); retry on another replica", NULL, 1);
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            if (cl) {
                r->declared = strtoull(cl, NULL, 10);
                /* Too big: answer before the upload when the client waits for "100 Continue" or the
                 * body is huge; otherwise read and discard it, so the client (still sending) sees
                 * the answer instead of a reset connection. */
                const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
                int early = (expect && !strcasecmp(expect, "100-continue")) ||
                            r->declared > 4 * (unsigned long long)s->opt.max_body_bytes + (64u << 20);
                if (r->declared > s->opt.max_body_bytes && !early)
                    r->too_big = 1;
                else if (r->declared > s->opt.max_body_bytes) {
                    char msg[256];
                    snprintf(msg, sizeof msg,
                             "request body is %llu bytes; the limit is %zu bytes (server option --max-body)",
                             r->declared, s->opt.max_body_bytes);
                    return serve_send_error(c, r, 413, "too_large", msg,
                                      json_pack("{s:I,s:I}", "limit_bytes", (json_int_t)s->opt.max_body_bytes,
                                                "actual_bytes", (json_int_t)r->declared),
                                      0);
                }
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (takes_image(r->route) && !r->too_big) {
            size_t n = *upload_size;
            if (r->len + n > s->opt.max_body_bytes) {
                r->too_big = 1;
                r->len += n;
                free(r->body);
                r->body = NULL;
                r->cap = 0;
            } else {
                if (r->len + n > r->cap) {
                    size_t cap = r->cap ? r->cap * 2 : (r->declared && r->declared <= s->opt.max_body_bytes
                                                            ? (size_t)r->declared
                                                            : 64 * 1024);
                    while (cap < r->len + n)
                        cap *= 2;
                    char *nb = realloc(r->body, cap);
                    if (!nb)
                        return MHD_NO;
                    r->body = nb;
                    r->cap = cap;
                }
                memcpy(r->body + r->len, upload_data, n);
                r->len += n;
            }
        } else if (r->too_big) {
            r->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    serve_guard_processing(c);
    switch (r->route) {
    case R_ENHANCE: return r->job ? enhance_respond(c, r) : enhance_submit(c, r);
    case R_JOBS: return enhance_submit(c, r);
    case R_JOB:
        if (!strcmp(method, "DELETE"))
            return serve_job_cancel(c, r);
        if (strcmp(method, "GET") && strcmp(method, "HEAD"))
            return serve_send_error(c, r, 405, "method_not_allowed", "GET follows a job, DELETE cancels it", NULL, 0);
        return serve_job_status(c, r);
    case R_NOTFOUND: {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "no such endpoint %.200s (POST /v1/enhance, POST /v1/jobs, GET /v1/jobs/ID[/result], GET /v1/models, "
                 "/v1/ops, /healthz, /readyz, /metrics, /)",
                 url);
        return serve_send_error(c, r, 404, "not_found", msg, NULL, 0);
    }
    default: break;
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return serve_send_error(c, r, 405, "method_not_allowed", "this endpoint only answers GET", NULL, 0);
    switch (r->route) {
    case R_MODELS:
        if (!authorized(c, s))
            return serve_send_error(c, r, 401, "unauthorized", "missing or wrong API key: send 'Authorization: Bearer <key>'",
                              NULL, 0);
        return do_models(c, r);
    case R_OPS: return do_ops(c, r);
    case R_HEALTHZ: return do_healthz(c, r);
    case R_READYZ: return do_readyz(c, r);
    case R_METRICS: return do_metrics(c, r);
    case R_INDEX: return do_index(c, r);
    case R_JOB_RESULT: return serve_job_result(c, r);
    default: return MHD_NO;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    serve_guard_request_done(c);
    http_req *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    enh_server *s = r->srv;
    if (s->opt.access_log && r->code) {
        /* one line per request; probes and scrapes only at debug (a kubelet asks every few seconds) */
        int probe = r->route == R_HEALTHZ || r->route == R_READYZ || r->route == R_METRICS;
        char extra[160] = "";
        const serve_job *j = r->job;
        if (j && r->admitted && j->finished) /* a synchronous enhance: where its time went */
            snprintf(extra, sizeof extra, " (queue %.0f, decode %.0f, compute %.0f, encode %.0f ms; model %s; %d tiles)",
                     j->queue_s * 1000, j->decode_s * 1000, j->compute_s * 1000, j->encode_s * 1000, j->route,
                     j->tiles);
        enh_log(probe ? ENH_LOG_DEBUG : ENH_LOG_INFO, "access: %s %s %s %d %zu bytes %.1f ms%s%s", r->request_id,
                r->method, r->path, r->code, r->bytes, (enh_now() - r->t0) * 1000, extra,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
    }
    if (r->job) {
        if (r->admitted && !r->job->finished) {
            /* cannot happen while suspended; never free a job the scheduler still uses */
            ENH_LOGE("serve: request %s ended (code %d) while its job was running", r->request_id, (int)toe);
        } else {
            serve_job_free(r->job);
        }
    }
    free(r->body);
    free(r);
    atomic_fetch_sub(&s->open_requests, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (enh_log_get_level() < ENH_LOG_DEBUG)
        return;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    ENH_LOGD("serve: libmicrohttpd: %s", buf);
}

enh_status serve_http_start(enh_server *s, enh_error *err)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, s->opt.host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)s->opt.port);
        addr = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, s->opt.host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)s->opt.port);
        addr = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        return enh_fail(err, ENH_EINVAL, "--host '%s' is not an IPv4 or IPv6 address", s->opt.host);
    }
    if (s->opt.port < 0 || s->opt.port > 65535)
        return enh_fail(err, ENH_EINVAL, "--port %d is out of range 0..65535", s->opt.port);
    /* Deadlines a trickle does not extend (slowloris), and one address may hold at most half
     * the connections, so probes from elsewhere still get in. An idle kept-alive connection
     * waits 75 s: longer than the usual load balancers' 60 s, so they close first. An upload
     * must average 16 KiB/s after its headers. */
    unsigned total = (unsigned)(s->opt.max_connections > 0 ? s->opt.max_connections : 512);
    unsigned per_ip = s->opt.max_client_connections > 0 ? (unsigned)s->opt.max_client_connections
                                                        : (total / 2 ? total / 2 : 1);
    enh_status gst = serve_guard_start(s->opt.header_timeout_s > 0 ? s->opt.header_timeout_s : 10, 75,
                                       16 * 1024, &s->guard, err);
    if (gst)
        return gst;
    s->mhd = MHD_start_daemon(flags, (uint16_t)s->opt.port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, addr,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_THREAD_POOL_SIZE,
                              (unsigned)(s->opt.http_threads > 0 ? s->opt.http_threads : 2),
                              MHD_OPTION_CONNECTION_LIMIT, total, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
                              MHD_OPTION_NOTIFY_CONNECTION, serve_guard_notify, s->guard,
                              MHD_OPTION_URI_LOG_CALLBACK, serve_guard_uri, s->guard,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                              MHD_OPTION_END);
    if (!s->mhd) {
        serve_guard_stop(s->guard);
        s->guard = NULL;
    }
    if (!s->mhd)
        return enh_fail(err, ENH_EIO, "cannot listen on %s:%d (port in use or no permission?)", s->opt.host,
                        s->opt.port);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->opt.port;
    return ENH_OK;
}

void serve_http_stop(enh_server *s)
{
    if (!s->mhd)
        return;
    /* let the answers of the last requests go out (bounded) */
    double until = enh_now() + 2.0;
    while (atomic_load(&s->open_requests) > 0 && enh_now() < until) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
    serve_guard_stop(s->guard);
    s->guard = NULL;
}
