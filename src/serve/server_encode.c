/* server_encode.c - the encode stage of a request (see server_internal.h): the result is
 * encoded into memory in full, then the job is finished (its status, metrics, the response).
 * For a lazy AI upscale this is where the model runs: the encoder pulls the rows, the
 * upscale stream runs the tiler tile row by tile row, and serve_tile_runner hands each batch
 * of tiles to the model's batcher (or runs a model the server does not batch directly).
 *
 * Contract:
 *  - serve_do_encode runs on a worker (an io worker, or the pipeline worker for a lazy
 *    upscale) with the job out of every queue and j->image_out set; it consumes image_out,
 *    sets out_buf/out_len/mime, the Compute/Queue/Encode times, and returns the status (and
 *    *err) the scheduler finishes the job with.
 *  - A failed encode is answered with the status of its cause (encode_failure below), never
 *    with a partial image: no header or byte is sent before the encode is complete.
 *  - serve_tile_runner is the enh_tile_runner_fn of the job's pipeline context (user = the
 *    job); it is called from enh_pipeline_run or from a libvips thread during the encode,
 *    never from two threads at once for one job. It records the first failure of a model
 *    run during the encode (under s->mu) for encode_failure.
 * Thread-safety: s->mu guards runner_status/runner_err and the job's stage; the rest of the
 * job belongs to the worker running it. Errors: enh_status + enh_error, as the scheduler. */
#include <stdio.h>

#include "core/fsutil.h"
#include "nn/nn.h"
#include "serve/codec.h"
#include "serve/server_internal.h"

/* Keeps the first failure of a model run during the encode (see encode_failure). */
static void runner_failed(enh_server *s, serve_job *j, enh_status st, const enh_error *err)
{
    pthread_mutex_lock(&s->mu);
    if (j->stage == STAGE_ENCODE && j->runner_status == ENH_OK) {
        j->runner_status = st;
        if (err)
            j->runner_err = *err;
        else
            enh_fail(&j->runner_err, st, "the model run failed (%s)", enh_status_name(st));
    }
    pthread_mutex_unlock(&s->mu);
}

enh_status serve_tile_runner(void *user, struct enh_model *model, const float *in, int n, int c, int h, int w,
                              float *out, enh_error *err)
{
    /* called from enh_pipeline_run, or from a libvips thread while the result is encoded
     * (the upscale is lazy); never from two threads at once for one job (the stream
     * serialises its computation) */
    serve_job *j = user;
    enh_server *s = j->srv;
    serve_model *m = serve_registry_find_ptr(j->reg, model);
    enh_status st;
    double t0 = enh_now();
    if (!m) {
        /* a model this server does not batch (e.g. chosen by auto mode): run it directly */
        serve_compute_started(s, j);
        st = enh_model_run(model, in, n, h, w, out, s->pool, err);
        j->tiles += n;
        j->runner_s += enh_now() - t0;
        if (st)
            runner_failed(s, j, st, err);
        return st;
    }
    serve_tile_wait tw = {0, 0};
    st = serve_batcher_submit(m->batcher, in, n, c, h, w, out, j->params.priority, j->deadline, &j->cancel, &tw,
                              err);
    if (j->queued_counted)
        serve_compute_started(s, j);
    j->tile_wait_s += tw.queued_s;
    if (st == ENH_OK)
        j->tiles += n;
    else
        runner_failed(s, j, st, err);
    j->runner_s += enh_now() - t0;
    return st;
}

/* The status of a failed encode. The encoder sees a failure of the lazy stages behind the
 * image (a lazy upscale's model run, the tiler) only as a write failure (ENH_EINTERNAL or
 * ENH_EIO, "cannot write the result as ..."), so:
 *  - a model run (the tile runner: the model or its batcher) that failed during the encode
 *    for a reason of its own, e.g. ENH_ENOMEM, gives the answer its status and message (503
 *    out_of_memory, as when it fails inside enh_pipeline_run), whatever the cancel flag says
 *    by the time the encoder returns;
 *  - likewise any other failure of a lazy stage that is not the cancel's or the deadline's
 *    doing, from enh_pipeline_lazy_status: e.g. the upscale stream's tiler buffers or row
 *    cache, allocated again when the encoder first asks for pixels (outside a model run),
 *    ENH_ENOMEM -> 503 out_of_memory;
 *  - a job whose deadline passed fails because of it: the monitor's deadline cancel stopped
 *    the encoder (ENH_ECANCELLED), or a lazy stage checked the deadline itself (504);
 *  - a client that went away: cancelled;
 *  - other failures (e.g. an impossible bit depth) keep their status.
 * The result is encoded into memory in full before the response is queued, so no header or
 * byte of the image has been sent when this runs: a failure is always answered with its
 * status and the JSON error body, never with a truncated image. */
static enh_status encode_failure(enh_server *s, const serve_job *j, enh_status st, enh_error *err)
{
    pthread_mutex_lock(&s->mu);
    enh_status rs = j->runner_status;
    int own = rs != ENH_OK && rs != ENH_ECANCELLED && rs != ENH_ETIMEOUT; /* not the cancel's doing */
    if (own)
        *err = j->runner_err;
    pthread_mutex_unlock(&s->mu);
    if (own) {
        err->code = rs;
        return enh_error_prefix(err, "model '%s', while the result was encoded", j->route);
    }
    enh_error lerr;
    enh_error_clear(&lerr);
    enh_status ls = enh_pipeline_lazy_status(j->image_out, &lerr);
    if (ls != ENH_OK && ls != ENH_ECANCELLED && ls != ENH_ETIMEOUT) {
        *err = lerr;
        err->code = ls;
        return enh_error_prefix(err, "model '%s', while the result was encoded", j->route);
    }
    int c = atomic_load(&j->cancel);
    double now = enh_now();
    int lazy_failure = st == ENH_EINTERNAL || st == ENH_EIO || st == ENH_ETIMEOUT;
    if (c == SERVE_CANCEL_DEADLINE || (c == 0 && lazy_failure && j->deadline > 0 && now >= j->deadline)) {
        enh_error cause = *err;
        return enh_fail(err, ENH_ETIMEOUT,
                        "deadline of %.0f ms exceeded while the result was encoded (after %.0f ms)%s%s; retry "
                        "later or raise deadline_ms",
                        (j->deadline - j->t_admit) * 1000, (now - j->t_admit) * 1000,
                        c == SERVE_CANCEL_DEADLINE ? "" : ": ", c == SERVE_CANCEL_DEADLINE ? "" : cause.msg);
    }
    if (c == SERVE_CANCEL_CLIENT && lazy_failure) /* the tiler of a lazy upscale saw the cancel first */
        return enh_fail(err, ENH_ECANCELLED, "the client closed the connection while the result was encoded");
    return st;
}

enh_status serve_do_encode(enh_server *s, serve_job *j, enh_error *err)
{
    double t0 = enh_now(), runner0 = j->runner_s, wait0 = j->tile_wait_s;
    const char *mime = NULL;
    if (s->opt.debug_before_encode) /* test hook (serve.h) */
        s->opt.debug_before_encode(s->opt.debug_user);
    /* the encoder pulls every lazy pixel of image_out (a lazy upscale's tiles included):
     * j->cancel stops it (client gone, deadline, shutdown) */
    enh_status st = serve_encode_cancellable(j->image_out, &j->ops, j->in_format, &j->cancel, &j->out_buf,
                                             &j->out_len, &mime, NULL, err);
    if (st)
        st = encode_failure(s, j, st, err);
    /* the tile runner's time during the encode (a lazy upscale) is compute, its batcher
     * waits queueing, the rest encoding */
    double runner = j->runner_s - runner0, wait = j->tile_wait_s - wait0;
    j->queue_s += wait;
    j->compute_s += runner - wait;
    j->encode_s = enh_now() - t0 - runner;
    j->out_w = vips_image_get_width(j->image_out);
    j->out_h = vips_image_get_height(j->image_out);
    g_object_unref(j->image_out);
    j->image_out = NULL;
    j->mime = mime;
    return st;
}

