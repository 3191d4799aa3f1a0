/* server.c - the scheduler of the inference server (see serve.h): admission into bounded
 * per-model queues, decode/encode workers, pipeline workers whose tiles go to the per-model
 * batchers, job completion. The encode stage (and the tile runner that feeds a lazy
 * upscale's tiles to the batchers) is in server_encode.c; the monitor thread that expires
 * queued requests at their deadline, stops an encode that runs past it and cancels requests
 * whose client went away is in server_monitor.c; start, reload, drain and stop are in
 * server_lifecycle.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "serve/codec.h"
#include "serve/net_stage.h"
#include "serve/server_check.h"
#include "serve/server_internal.h"
#include "serve/sync.h"


void enh_serve_options_init(enh_serve_options *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->port = 8080;
    o->max_body_bytes = 50u << 20;
    o->spool_threshold = 8u << 20;
    o->client_body_share = 0.25;
    o->idle_timeout_s = 75;
    o->max_pixels = 50000000LL;
    o->max_output_pixels = 200000000LL;
    o->io_threads = 2;
    o->http_threads = 2;
    o->vips_threads = 1;
    o->max_connections = 512;
    o->header_timeout_s = 10;
    o->drain_timeout_s = 30;
    o->job_ttl_s = 600;
    o->job_max_bytes = (size_t)512 << 20;
    o->access_log = 1;
}

/* ---- work queues (under s->mu) ---- */

static void q_push(serve_queue *q, serve_job *j)
{
    int p = j->params.priority;
    j->qnext = NULL;
    j->qprev = q->tail[p];
    if (q->tail[p])
        q->tail[p]->qnext = j;
    else
        q->head[p] = j;
    q->tail[p] = j;
    q->n++;
}

static void q_remove(serve_queue *q, serve_job *j)
{
    int p = j->params.priority;
    if (j->qprev)
        j->qprev->qnext = j->qnext;
    else
        q->head[p] = j->qnext;
    if (j->qnext)
        j->qnext->qprev = j->qprev;
    else
        q->tail[p] = j->qprev;
    j->qprev = j->qnext = NULL;
    q->n--;
}

static serve_job *q_pop(serve_queue *q)
{
    for (int p = 0; p < SERVE_NPRIO; p++) {
        serve_job *j = q->head[p];
        if (j) {
            q_remove(q, j);
            return j;
        }
    }
    return NULL;
}

static serve_queue *queue_of(enh_server *s, serve_job *j)
{
    switch (j->stage) {
    case STAGE_DECODE: return &s->io_q;
    case STAGE_PIPELINE: return &s->pipe_q;
    case STAGE_ENCODE: return &s->encode_q;
    default: return NULL;
    }
}

/* ---- completion ---- */

/* Under s->mu: takes the job out of the scheduler and records its metrics. */
void serve_finish_locked(enh_server *s, serve_job *j, enh_status st, serve_stage stage, const enh_error *err)
{
    if (j->finished)
        return;
    if (j->in_queue) {
        q_remove(queue_of(s, j), j);
        j->in_queue = 0;
        pthread_cond_broadcast(&s->io_cv); /* the decode gate may open (decode_allowed) */
    }
    j->finished = 1;
    j->status = st;
    j->failed_stage = stage;
    if (st && err)
        j->err = *err;
    j->t_done = enh_now();
    if (j->aprev)
        j->aprev->anext = j->anext;
    else if (s->active == j)
        s->active = j->anext;
    if (j->anext)
        j->anext->aprev = j->aprev;
    j->aprev = j->anext = NULL;
    s->inflight--;
    pthread_cond_broadcast(&s->idle_cv);
    if (j->queued_counted) {
        serve_metrics_queue_add(s->metrics, j->route, -1);
        j->queued_counted = 0;
    }
    serve_metrics_inflight_add(s->metrics, j->route, -1);
    if (atomic_load(&j->cancel) == SERVE_CANCEL_SHUTDOWN && st != ENH_OK) {
        j->err_type = "unavailable";
        enh_fail(&j->err, st, "the server is shutting down before this request could finish; retry on another "
                              "replica");
    } else {
        j->err_type = serve_check_error_type(j) ? serve_check_error_type(j) : serve_outcome_type(st, stage);
    }
    const char *type = j->err_type;
    /* metrics label: the route, or the served model auto mode picked for a "none" route */
    const char *label = j->route;
    if (!strcmp(j->route, "none") && j->report.model[0] && j->reg && serve_registry_find(j->reg, j->report.model))
        label = j->report.model;
    serve_metrics_request_done(s->metrics, label, st == ENH_OK, st ? type : "", j->queue_s,
                               st == ENH_OK || j->compute_s > 0 ? j->compute_s : -1, j->t_done - j->t_admit);
    if (j->tiles)
        serve_metrics_tiles(s->metrics, label, j->tiles);
}

void serve_finish(enh_server *s, serve_job *j, enh_status st, serve_stage stage, const enh_error *err)
{
    pthread_mutex_lock(&s->mu);
    serve_finish_locked(s, j, st, stage, err);
    pthread_mutex_unlock(&s->mu);
    j->done(j); /* the job may be freed from here on */
}

/* Moves the job to its next stage: into that stage's queue, or, with `here`, the caller
 * runs it at once (returns 1). Finishes the job instead when the server stops or the
 * request was cancelled (returns 0). */
static int advance(enh_server *s, serve_job *j, serve_stage stage, int here)
{
    pthread_mutex_lock(&s->mu);
    if (atomic_load(&s->stopping) || atomic_load(&j->cancel)) {
        enh_error e;
        enh_status st = atomic_load(&j->cancel) == SERVE_CANCEL_CLIENT
                            ? enh_fail(&e, ENH_ECANCELLED, "the client closed the connection")
                            : enh_fail(&e, ENH_ECANCELLED, "the server is shutting down");
        if (atomic_load(&s->stopping))
            atomic_store(&j->cancel, SERVE_CANCEL_SHUTDOWN);
        serve_finish_locked(s, j, st, stage, &e);
        pthread_mutex_unlock(&s->mu);
        j->done(j);
        return 0;
    }
    j->stage = stage; /* the monitor reads it (the encode deadline) */
    if (!here) {
        j->t_enqueue = enh_now();
        q_push(queue_of(s, j), j);
        j->in_queue = 1;
        pthread_cond_signal(stage == STAGE_PIPELINE ? &s->pipe_cv : &s->io_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return here;
}

static void enqueue(enh_server *s, serve_job *j, serve_stage stage) { advance(s, j, stage, 0); }

/* ---- stages ---- */

/* The encode stage (server_encode.c), then the job's end. */
static void do_encode(enh_server *s, serve_job *j)
{
    enh_error err;
    enh_error_clear(&err);
    enh_status st = serve_do_encode(s, j, &err);
    serve_finish(s, j, st, STAGE_ENCODE, &err);
}

static long long estimate_output_pixels(const serve_job *j, int w, int h, long long *intermediate)
{
    const enh_ops *o = &j->ops;
    double f = 1;
    double native = j->model ? j->model->scale : 1;
    if (o->upscale != ENH_UPSCALE_NONE)
        f = o->scale > 0 ? o->scale : (o->upscale == ENH_UPSCALE_RESAMPLE ? 1 : native);
    *intermediate = (long long)((double)w * native) * (long long)((double)h * native);
    double ow = w * f, oh = h * f;
    if (o->resize_scale > 0) {
        ow *= o->resize_scale;
        oh *= o->resize_scale;
    }
    double tw = o->width > 0 ? o->width : o->width_pct > 0 ? w * o->width_pct / 100 : 0;
    double th = o->height > 0 ? o->height : o->height_pct > 0 ? h * o->height_pct / 100 : 0;
    if (tw > 0 && th > 0) {
        ow = tw;
        oh = th;
    } else if (tw > 0) {
        oh = oh * tw / ow;
        ow = tw;
    } else if (th > 0) {
        ow = ow * th / oh;
        oh = th;
    }
    ow += 2.0 * o->padding;
    oh += 2.0 * o->padding;
    return (long long)ceil(ow) * (long long)ceil(oh);
}

static void do_decode(enh_server *s, serve_job *j)
{
    enh_error err;
    enh_error_clear(&err);
    double t0 = enh_now();
    int fd = serve_job_image_fd(j);
    enh_status st = fd >= 0 ? serve_decode_fd(fd, s->opt.max_pixels, &j->image_in, &j->in_format, &err)
                            : serve_decode(j->image, j->image_len, s->opt.max_pixels, &j->image_in, &j->in_format, &err);
    j->decode_s = enh_now() - t0;
    serve_upload_release(&j->body); /* its bytes leave the budget as soon as they are pixels */
    serve_upload_release(&j->part);
    j->image = NULL;
    if (st) {
        serve_finish(s, j, st, STAGE_DECODE, &err);
        return;
    }
    int w = vips_image_get_width(j->image_in), h = vips_image_get_height(j->image_in);
    long long mid = 0, outpx = estimate_output_pixels(j, w, h, &mid);
    long long worst = outpx > mid ? outpx : mid;
    if (s->opt.max_output_pixels > 0 && worst > s->opt.max_output_pixels) {
        enh_fail(&err, ENH_ETOOBIG,
                 "the result of %dx%d with these operations would be %.1f MP; the limit is %.1f MP (server option "
                 "--max-output-pixels)",
                 w, h, worst / 1e6, s->opt.max_output_pixels / 1e6);
        serve_finish(s, j, ENH_ETOOBIG, STAGE_PIPELINE, &err);
        return;
    }
    enh_status mst = serve_check_gate(s, j, &err); /* moderation=flag|block: before the pipeline's queue */
    if (mst) {
        serve_finish(s, j, mst, STAGE_PIPELINE, &err);
        return;
    }
    enqueue(s, j, STAGE_PIPELINE);
}

/* Compute and queue times: the pipeline call less the waits in the batcher, which count as
 * queueing (the encode adds what the tile runner did during it, see serve_do_encode). */
static void settle_times(serve_job *j)
{
    j->queue_s += j->tile_wait_s;
    j->compute_s = j->pipe_s - j->tile_wait_s;
}

static void do_pipeline(enh_server *s, serve_job *j)
{
    if (j->check && j->check->is_check) { /* POST /v1/check: the check instead of the pipeline */
        enh_error cerr;
        enh_status cst = serve_check_run_job(s, j, &cerr);
        serve_finish(s, j, cst, STAGE_PIPELINE, &cerr);
        return;
    }
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.pool = s->pool;
    ctx.models_dir = j->reg->models_dir;
    if (j->model)
        ctx.nn = j->model->nn;
    ctx.cancel = &j->cancel;
    ctx.deadline = j->deadline;
    ctx.tile_size = j->model ? (j->model->cfg.tile_size ? j->model->cfg.tile_size : j->tile_size) : 0;
    ctx.tile_runner = serve_tile_runner;
    ctx.tile_runner_user = j;
    ctx.net_runner = serve_net_runner;
    ctx.net_runner_user = j;
    if (!j->model)
        serve_compute_started(s, j);
    enh_error err;
    enh_error_clear(&err);
    double t0 = enh_now();
    enh_status st = ENH_OK;
    if (s->opt.debug_delay_ms > 0) { /* test hook: simulated compute that honours cancel and deadline */
        double until = t0 + s->opt.debug_delay_ms / 1000.0;
        while (enh_now() < until && !st) {
            if (atomic_load(&j->cancel))
                st = enh_fail(&err, ENH_ECANCELLED, "cancelled");
            else if (j->deadline > 0 && enh_now() > j->deadline)
                st = enh_fail(&err, ENH_ETIMEOUT, "deadline exceeded while computing");
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (!st)
        st = enh_pipeline_run(j->image_in, &j->ops, &ctx, &j->image_out, &j->report, &err);
    j->pipe_s = enh_now() - t0;
    g_object_unref(j->image_in);
    j->image_in = NULL;
    /* a lazy upscale (model routed, no tile run yet) starts computing when its first tile
     * leaves the batcher, during the encode (serve_tile_runner): until then it is queued.
     * Marking it here hid the batcher backlog from enhance_queue_depth, the HPA's signal
     * (measured: 0.7 requests per pod at 1.6x a replica's capacity, 3 s mean queue time). */
    if (j->queued_counted && !(j->model && j->tiles == 0 && !st))
        serve_compute_started(s, j);
    settle_times(j);
    if (st) {
        serve_finish(s, j, st, STAGE_PIPELINE, &err);
        return;
    }
    /* A lazy upscale runs its model while the result is encoded, tile row by tile row, so
     * the upscaled image is never held whole. That encode runs here, on this pipeline
     * worker: --pipeline-threads keeps bounding the requests that compute, and the io
     * workers never wait in a batcher. Other results go to the io workers. */
    if (j->report.tiles_pending > 0) {
        if (advance(s, j, STAGE_ENCODE, 1))
            do_encode(s, j);
        return;
    }
    enqueue(s, j, STAGE_ENCODE);
}

/* Under s->mu: whether an io worker may decode now. A decoded image waits in the pipeline
 * queue with all its pixels, so decodes run only as far ahead of the pipeline workers as they
 * can take: at most one image beyond the idle workers. Measured with 16 concurrent 45 MB
 * uploads and a slow pipeline (2 threads, --debug-delay-ms 3000): peak RSS 517 MB without the
 * gate (decoded images queued), 411 MB with it (src/serve/README.md, "Memory of uploads"). */
static int decode_allowed(const enh_server *s) { return s->decoding + s->pipe_q.n <= s->pipe_idle; }

void *serve_io_main(void *arg)
{
    enh_server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        serve_job *j = q_pop(&s->encode_q); /* finishing work first keeps latency down */
        if (!j && decode_allowed(s) && (j = q_pop(&s->io_q)))
            s->decoding++;
        if (!j) {
            if (atomic_load(&s->stopping))
                break;
            pthread_cond_wait(&s->io_cv, &s->mu);
            continue;
        }
        j->in_queue = 0;
        j->queue_s += enh_now() - j->t_enqueue;
        pthread_mutex_unlock(&s->mu);
        int decode = j->stage == STAGE_DECODE;
        if (decode)
            do_decode(s, j);
        else
            do_encode(s, j);
        pthread_mutex_lock(&s->mu);
        if (decode) {
            s->decoding--;
            pthread_cond_broadcast(&s->io_cv); /* another decode may be allowed now */
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void *serve_pipe_main(void *arg)
{
    enh_server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        serve_job *j = q_pop(&s->pipe_q);
        if (!j) {
            if (atomic_load(&s->stopping))
                break;
            s->pipe_idle++;
            pthread_cond_broadcast(&s->io_cv); /* an idle worker: the next decode may start */
            pthread_cond_wait(&s->pipe_cv, &s->mu);
            s->pipe_idle--;
            continue;
        }
        j->in_queue = 0;
        j->queue_s += enh_now() - j->t_enqueue;
        pthread_cond_broadcast(&s->io_cv); /* a decoded image left the queue */
        pthread_mutex_unlock(&s->mu);
        do_pipeline(s, j);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- admission ---- */

enh_status serve_admit(enh_server *s, serve_job *j, const char **type, double *retry_after, enh_error *err)
{
    *retry_after = 0;
    j->srv = s;
    j->t_admit = enh_now();
    pthread_mutex_lock(&s->mu);
    enh_status st = ENH_OK;
    if (atomic_load(&s->draining) || atomic_load(&s->stopping)) {
        *type = "unavailable";
        *retry_after = 1;
        st = enh_fail(err, ENH_EBUSY, "the server is draining (shutting down); retry on another replica");
        goto out;
    }
    if (!atomic_load(&s->ready) || !s->registry) {
        *type = "unavailable";
        *retry_after = 5;
        st = enh_fail(err, ENH_EBUSY, "the server is not ready yet (models are loading and warming up)");
        goto out;
    }
    serve_registry *reg = s->registry;
    if ((st = serve_route(reg, &j->ops, &j->model, j->route, sizeof j->route, err))) {
        *type = st == ENH_ENOTFOUND ? "model_not_found" : "unprocessable";
        goto out;
    }
    const serve_model_cfg *mc = j->model ? &j->model->cfg : &reg->resample;
    int depth = serve_metrics_queue_depth(s->metrics, j->route);
    if (mc->max_queue > 0 && depth >= mc->max_queue) {
        double per = serve_metrics_mean_compute(s->metrics, j->route);
        int inst = j->model ? j->model->cfg.instances : 1;
        double ra = ceil(depth * (per > 0 ? per : 1) / inst);
        *retry_after = ra < 1 ? 1 : ra > 60 ? 60 : ra;
        *type = "queue_full";
        st = enh_fail(err, ENH_EBUSY, "the queue of model '%s' is full (%d requests waiting, limit %d); retry after %.0f s",
                      j->route, depth, mc->max_queue, *retry_after);
        goto out;
    }
    /* the upscale stage runs the routed model (custom models it finds by path); the route may
     * differ from the stage's own pick, e.g. art x2 on the x4 model when only that is served */
    if (j->model)
        snprintf(j->ops.model, sizeof j->ops.model, "%.63s", j->model->cache_name);
    double dl_ms = j->params.deadline_ms > 0 ? j->params.deadline_ms : mc->default_deadline_ms;
    j->deadline = dl_ms > 0 ? j->t_admit + dl_ms / 1000.0 : 0;
    serve_registry_ref(reg);
    j->reg = reg;
    j->anext = s->active;
    if (s->active)
        s->active->aprev = j;
    s->active = j;
    s->inflight++;
    j->queued_counted = 1;
    serve_metrics_inflight_add(s->metrics, j->route, 1);
    serve_metrics_queue_add(s->metrics, j->route, 1);
    *type = "ok";
out:
    pthread_mutex_unlock(&s->mu);
    return st;
}

void serve_job_start(serve_job *j) { enqueue(j->srv, j, STAGE_DECODE); }

void serve_job_free(serve_job *j)
{
    if (!j)
        return;
    serve_upload_release(&j->body);
    serve_upload_release(&j->part);
    serve_check_free(j->check);
    if (j->image_in)
        g_object_unref(j->image_in);
    if (j->image_out)
        g_object_unref(j->image_out);
    if (j->out_buf)
        g_free(j->out_buf);
    if (j->reg)
        serve_registry_unref(j->reg);
    free(j);
}
