/* jobs.c - the table of asynchronous jobs and the measured speed (see jobs.h). */
#include "serve/jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "serve/filename.h"
#include "serve/server_check.h"
#include "serve/server_internal.h"

typedef struct job_entry {
    char id[40];
    serve_job *job;
    char filename[256]; /* the client's file name ("" = none) */
    double est_s, out_mp;
    double t_finished;  /* 0 while running */
    int deleted;        /* DELETE while running: removed by the completion */
    struct job_entry *next;
} job_entry;

typedef struct speed {
    char route[64];
    double s_per_mp; /* exponentially weighted, 1/4 per new measurement */
} speed;

struct serve_jobs {
    pthread_mutex_t mu;
    job_entry *head;
    int n;
    double ttl_s;
    size_t max_bytes;
    int max_jobs;
    speed speeds[16];
    int nspeeds;
};

serve_jobs *serve_jobs_create(double ttl_s, size_t max_bytes, int max_jobs)
{
    serve_jobs *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->mu, NULL);
    t->ttl_s = ttl_s > 0 ? ttl_s : 600;
    t->max_bytes = max_bytes ? max_bytes : (size_t)512 << 20;
    t->max_jobs = max_jobs > 0 ? max_jobs : 64;
    return t;
}

static void entry_free(job_entry *e)
{
    serve_job_free(e->job);
    free(e);
}

void serve_jobs_free(serve_jobs *t)
{
    if (!t)
        return;
    for (job_entry *e = t->head, *nx; e; e = nx) {
        nx = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* Under t->mu: unlinks e (the caller frees it). */
static void unlink_entry(serve_jobs *t, job_entry *e)
{
    for (job_entry **p = &t->head; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            t->n--;
            return;
        }
}

static job_entry *find(serve_jobs *t, const char *id)
{
    for (job_entry *e = t->head; e; e = e->next)
        if (!strcmp(e->id, id))
            return e;
    return NULL;
}

/* Under t->mu: removes expired results, then the oldest finished ones while over the byte bound
 * (or, with room_for_one, while the table is full). Returns what to free after unlocking. */
static job_entry *collect(serve_jobs *t, int room_for_one)
{
    job_entry *gone = NULL;
    double now = enh_now();
    for (;;) {
        size_t bytes = 0;
        job_entry *oldest = NULL, *expired = NULL;
        for (job_entry *e = t->head; e; e = e->next) {
            if (!e->t_finished)
                continue;
            bytes += e->job->out_len;
            if (now - e->t_finished > t->ttl_s)
                expired = e;
            if (!oldest || e->t_finished < oldest->t_finished)
                oldest = e;
        }
        job_entry *victim = expired ? expired
                            : (bytes > t->max_bytes || (room_for_one && t->n >= t->max_jobs)) ? oldest
                                                                                               : NULL;
        if (!victim)
            return gone;
        unlink_entry(t, victim);
        victim->next = gone;
        gone = victim;
    }
}

static void free_list(job_entry *e)
{
    while (e) {
        job_entry *nx = e->next;
        entry_free(e);
        e = nx;
    }
}

static void record_locked(serve_jobs *t, const char *route, double out_pixels, double compute_s)
{
    if (out_pixels <= 0 || compute_s <= 0)
        return;
    double v = compute_s / (out_pixels / 1e6);
    for (int i = 0; i < t->nspeeds; i++)
        if (!strcmp(t->speeds[i].route, route)) {
            t->speeds[i].s_per_mp = 0.75 * t->speeds[i].s_per_mp + 0.25 * v;
            return;
        }
    if (t->nspeeds < (int)(sizeof t->speeds / sizeof t->speeds[0])) {
        snprintf(t->speeds[t->nspeeds].route, sizeof t->speeds[0].route, "%s", route);
        t->speeds[t->nspeeds++].s_per_mp = v;
    }
}

void serve_jobs_speed_record(serve_jobs *t, const char *route, double out_pixels, double compute_s)
{
    pthread_mutex_lock(&t->mu);
    record_locked(t, route, out_pixels, compute_s);
    pthread_mutex_unlock(&t->mu);
}

double serve_jobs_speed_estimate(serve_jobs *t, const char *route, double out_pixels)
{
    double r = -1;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < t->nspeeds; i++)
        if (!strcmp(t->speeds[i].route, route))
            r = t->speeds[i].s_per_mp * out_pixels / 1e6;
    pthread_mutex_unlock(&t->mu);
    return r;
}

double serve_job_scale(const serve_job *j)
{
    if (j->ops.upscale == ENH_UPSCALE_NONE)
        return 0;
    if (j->ops.scale > 0)
        return j->ops.scale;
    return j->model ? j->model->scale : 2; /* upscale=resample's default factor (stage_upscale.c) */
}

/* The scheduler's completion callback (without srv->mu): the result stays in the table. */
static void job_done(serve_job *j)
{
    serve_jobs *t = j->srv->jobs;
    job_entry *drop = NULL;
    pthread_mutex_lock(&t->mu);
    for (job_entry *e = t->head; e; e = e->next)
        if (e->job == j) {
            e->t_finished = enh_now();
            if (j->status == ENH_OK)
                record_locked(t, j->route, (double)j->out_w * j->out_h, j->compute_s);
            /* the access log's line for a job (its POST was answered long before) */
            enh_log(ENH_LOG_INFO, "job: %s %s after %.1f s (queue %.0f, compute %.0f, encode %.0f ms; model %s; %d tiles)%s%s",
                    e->id, j->status == ENH_OK ? "done" : j->err_type ? j->err_type : "failed", j->t_done - j->t_admit,
                    j->queue_s * 1000, j->compute_s * 1000, j->encode_s * 1000, j->route, j->tiles,
                    j->status == ENH_OK ? "" : ": ", j->status == ENH_OK ? "" : j->err.msg);
            if (e->deleted) {
                unlink_entry(t, e);
                drop = e;
            }
            break;
        }
    pthread_mutex_unlock(&t->mu);
    if (drop)
        entry_free(drop);
}

enh_status serve_jobs_add(serve_jobs *t, serve_job *j, const char *filename, double est_s, double out_mp,
                          char *id_out, enh_error *err)
{
    job_entry *e = calloc(1, sizeof *e);
    if (!e)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    serve_new_request_id(e->id);
    snprintf(id_out, 33, "%.32s", e->id);
    snprintf(e->filename, sizeof e->filename, "%s", filename ? filename : "");
    e->est_s = est_s;
    e->out_mp = out_mp;
    e->job = j;
    j->done = job_done;
    pthread_mutex_lock(&t->mu);
    job_entry *gone = collect(t, 1);
    enh_status st = ENH_OK;
    if (t->n >= t->max_jobs) {
        st = enh_fail(err, ENH_EBUSY,
                      "%d jobs are running or waiting to be fetched (the limit); fetch or DELETE finished jobs, or "
                      "retry later",
                      t->n);
        free(e);
    } else {
        e->next = t->head;
        t->head = e;
        t->n++;
    }
    pthread_mutex_unlock(&t->mu);
    free_list(gone);
    return st;
}

void serve_jobs_forget(serve_jobs *t, const char *id)
{
    pthread_mutex_lock(&t->mu);
    job_entry *e = find(t, id);
    if (e)
        unlink_entry(t, e);
    pthread_mutex_unlock(&t->mu);
    free(e); /* the job itself stays the caller's */
}

/* Under t->mu and s->mu. */
static const char *state_of(const job_entry *e)
{
    const serve_job *j = e->job;
    if (!j->finished)
        return e->deleted ? "cancelled" : j->in_queue ? "queued" : "running";
    if (j->status == ENH_OK)
        return "done";
    return j->status == ENH_ECANCELLED ? "cancelled" : "failed";
}

static json_t *num_or_null(double v) { return v >= 0 ? json_real(v) : json_null(); }

json_t *serve_jobs_status(serve_jobs *t, enh_server *s, const char *id)
{
    pthread_mutex_lock(&t->mu);
    job_entry *gone = collect(t, 0);
    job_entry *e = find(t, id);
    json_t *o = NULL;
    if (e) {
        serve_job *j = e->job;
        pthread_mutex_lock(&s->mu);
        const char *state = state_of(e);
        double now = e->t_finished ? e->t_finished : enh_now();
        double elapsed = now - j->t_admit;
        double running = elapsed - j->queue_s; /* queue_s grows under s->mu when a worker takes the job */
        int finished = j->finished;
        pthread_mutex_unlock(&s->mu);
        /* tiles: counted by the tile runner on the worker; the total is the pipeline's report
         * (known once the pipeline call returned): atomic reads of plain ints, a snapshot */
        int done = __atomic_load_n(&j->tiles, __ATOMIC_RELAXED);
        int total = __atomic_load_n(&j->report.tiles, __ATOMIC_RELAXED);
        double progress = -1, eta = -1;
        if (finished)
            progress = 1, eta = 0;
        else if (total > 0 && done > 0) {
            progress = done >= total ? 0.99 : (double)done / total;
            eta = running > 0 ? running * (total - done) / done : -1;
        } else if (e->est_s > 0) {
            progress = running / e->est_s < 0.95 ? running / e->est_s : 0.95;
            eta = e->est_s - running > 1 ? e->est_s - running : 1;
        }
        if (progress < 0 && !strcmp(state, "queued"))
            progress = 0;
        o = json_pack("{s:s,s:s,s:i,s:o,s:o,s:f,s:o,s:{s:f,s:o},s:s}", "id", e->id, "state", state, "tiles_done",
                      done, "tiles_total", total > 0 ? json_integer(total) : json_null(), "progress",
                      num_or_null(progress), "elapsed_s", elapsed, "eta_s", num_or_null(eta), "estimate",
                      "output_megapixels", e->out_mp, "seconds", num_or_null(e->est_s), "model", j->route);
        if (finished && j->status == ENH_OK) {
            char fname[160];
            serve_result_filename(e->filename, &j->ops, serve_job_scale(j), j->mime, fname, sizeof fname);
            json_object_set_new(o, "output", json_pack("{s:i,s:i,s:I,s:s,s:s}", "width", j->out_w, "height", j->out_h,
                                                       "bytes", (json_int_t)j->out_len, "mime", j->mime ? j->mime : "",
                                                       "filename", fname));
            json_object_set_new(o, "result_url", json_sprintf("/v1/jobs/%s/result", e->id));
            if (j->report.explain[0])
                json_object_set_new(o, "explain", json_string(j->report.explain));
        } else if (finished) {
            json_object_set_new(o, "error", json_pack("{s:i,s:s,s:s}", "code", serve_http_code(j->err_type), "type",
                                                      j->err_type ? j->err_type : "internal", "message", j->err.msg));
        }
        /* moderation=flag|block: the verdict (what /v1/enhance sends as X-Moderation* headers and a
         * blocked job's 422 as details.moderation); read once finished, when the worker that
         * wrote it is done with the job */
        json_t *mod = finished ? serve_check_details(j) : NULL;
        if (mod)
            json_object_set_new(o, "moderation", mod);
    }
    pthread_mutex_unlock(&t->mu);
    free_list(gone);
    return o;
}

int serve_jobs_result(serve_jobs *t, enh_server *s, const char *id, struct MHD_Response **resp, size_t *len,
                      int *code, const char **type, char *msg, size_t msg_n, int *tiles_done, int *tiles_total)
{
    int rc = -1;
    *resp = NULL;
    pthread_mutex_lock(&t->mu);
    job_entry *e = find(t, id);
    if (e && !e->deleted) {
        serve_job *j = e->job;
        pthread_mutex_lock(&s->mu);
        int finished = j->finished;
        pthread_mutex_unlock(&s->mu);
        if (!finished) {
            *tiles_done = __atomic_load_n(&j->tiles, __ATOMIC_RELAXED);
            *tiles_total = __atomic_load_n(&j->report.tiles, __ATOMIC_RELAXED);
            rc = 1;
        } else if (j->status != ENH_OK) {
            *code = serve_http_code(j->err_type);
            *type = j->err_type ? j->err_type : "internal";
            snprintf(msg, msg_n, "%s", j->err.msg);
            rc = 2;
        } else {
            /* a copy: the job (and its buffer) may expire while the answer is being sent; the
             * headers are read in the same hold of the lock, so a DELETE in between cannot
             * take the moderation headers off a result already copied */
            *resp = MHD_create_response_from_buffer(j->out_len, j->out_buf, MHD_RESPMEM_MUST_COPY);
            if (*resp) {
                char fname[160], cd[220];
                serve_result_filename(e->filename, &j->ops, serve_job_scale(j), j->mime, fname, sizeof fname);
                serve_content_disposition("attachment", fname, cd, sizeof cd);
                MHD_add_response_header(*resp, "Content-Type", j->mime ? j->mime : "application/octet-stream");
                MHD_add_response_header(*resp, "Content-Disposition", cd);
                serve_check_add_headers(*resp, j); /* moderation=flag|block */
                *len = j->out_len;
                rc = 0;
            } else {
                *code = 503;
                *type = "out_of_memory";
                snprintf(msg, msg_n, "out of memory copying the result");
                rc = 2;
            }
        }
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int serve_jobs_cancel(serve_jobs *t, enh_server *s, const char *id, int *was_running)
{
    pthread_mutex_lock(&t->mu);
    job_entry *e = find(t, id);
    if (!e || e->deleted) {
        pthread_mutex_unlock(&t->mu);
        return -1;
    }
    /* "finished" here is the completion callback's mark, not j->finished: between the two the
     * scheduler still holds the job (serve_finish calls job_done after releasing srv->mu), so
     * only job_done may free it then */
    int finished = e->t_finished > 0;
    if (!finished) {
        /* the compute stops at its next tile (batcher, tiler and encoder poll the flag); a job
         * still queued is finished by the worker that takes it */
        pthread_mutex_lock(&s->mu);
        if (!e->job->finished)
            atomic_store(&e->job->cancel, SERVE_CANCEL_CLIENT);
        pthread_mutex_unlock(&s->mu);
        e->deleted = 1;
    } else {
        unlink_entry(t, e);
    }
    pthread_mutex_unlock(&t->mu);
    *was_running = !finished;
    if (finished)
        entry_free(e);
    return 0;
}
