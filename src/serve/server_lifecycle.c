/* server_lifecycle.c - start, model loading, reload (SIGHUP), drain (SIGTERM) and stop of the
 * inference server (see serve.h); the scheduler's workers it starts are in server.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "serve/codec.h"
#include "serve/net_stage.h"
#include "serve/proxy_trust.h"
#include "serve/jobs.h"
#include "serve/server_check.h"
#include "serve/server_internal.h"
#include "serve/sync.h"

/* ---- lifecycle ---- */

static void *loader_main(void *arg)
{
    enh_server *s = arg;
    enh_error err;
    enh_error_clear(&err);
    serve_registry *r = NULL;
    enh_status st = serve_registry_build(&s->config, NULL, s->pool, s->metrics, &r, &err);
    if (st) {
        ENH_LOGE("serve: %s", err.msg);
        atomic_store(&s->load_failed, 1);
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    s->registry = r;
    pthread_mutex_unlock(&s->mu);
    atomic_store(&s->generation, 1);
    atomic_store(&s->ready, 1);
    serve_metrics_set_state(s->metrics, 1, atomic_load(&s->draining));
    ENH_LOGI("serve: ready (%d model(s))", r->n);
    return NULL;
}

int enh_serve_ready(const enh_server *s) { return atomic_load(&s->ready); }
int enh_serve_port(const enh_server *s) { return s->port; }
int enh_serve_load_failed(const enh_server *s) { return atomic_load(&s->load_failed); }

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

enh_status enh_serve_start(const enh_serve_options *o, enh_server **out, enh_error *err)
{
    *out = NULL;
    enh_status st = serve_codec_init(err);
    if (st)
        return st;
    if ((st = serve_checks_validate(o, err)))
        return st;
    enh_server *s = calloc(1, sizeof *s);
    if (!s)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    s->opt = *o;
    /* request bodies (upload.h): by default two of the largest in memory at once (a body
     * under the spool threshold, or every one when no folder is set) and twenty on disk */
    s->uploads.mem_limit = o->max_body_memory ? o->max_body_memory : 2 * o->max_body_bytes;
    s->uploads.spool_limit = o->max_upload_spool ? o->max_upload_spool : 20 * o->max_body_bytes;
    s->uploads.spool_threshold = o->spool_threshold;
    s->uploads.client_share = o->client_body_share > 0 ? o->client_body_share : 0.25;
    snprintf(s->uploads.spool_dir, sizeof s->uploads.spool_dir, "%s", o->upload_dir);
    if (o->upload_dir[0] && (st = serve_upload_check_dir(o->upload_dir, err))) {
        free(s);
        return st;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->io_cv, NULL);
    pthread_cond_init(&s->pipe_cv, NULL);
    serve_cond_init(&s->idle_cv);
    s->metrics = serve_metrics_create();
    s->jobs = serve_jobs_create(o->job_ttl_s, o->job_max_bytes, 64);
    if (!s->metrics || !s->jobs) {
        serve_metrics_free(s->metrics);
        serve_jobs_free(s->jobs);
        free(s);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    if (o->models_config[0])
        st = serve_models_config_load(o->models_config, &s->config, err);
    else
        st = serve_models_config_installed(&s->config, err);
    if (st) {
        serve_jobs_free(s->jobs);
        serve_metrics_free(s->metrics);
        free(s);
        return st;
    }
    /* cores: instances x intra-op threads never exceed them (one shared pool) */
    int cores = o->cores > 0 ? o->cores : online_cpus();
    int inst = serve_registry_instances(&s->config);
    /* zero-config serves every installed model with one instance each: five installed models
     * on a 2-core laptop must still start. Idle instances cost nothing; the pool is sized as if
     * at most `cores` of them computed at once (a config file is held to the strict rule) */
    if (!o->models_config[0] && inst > cores)
        inst = cores;
    if (inst > cores) {
        serve_models_config_free(&s->config);
        serve_jobs_free(s->jobs);
        serve_metrics_free(s->metrics);
        free(s);
        return enh_fail(err, ENH_EINVAL,
                        "the model config asks for %d instances in total but only %d cores are in use: lower "
                        "\"instances\" or raise --cores",
                        inst, cores);
    }
    int pool_threads = cores - (inst > 0 ? inst : 1) + 1;
    if (enh_pool_default_set_threads(pool_threads) != 0)
        ENH_LOGW("serve: the shared pool already exists; keeping its %d threads",
                 enh_pool_threads(enh_pool_default()));
    s->pool = enh_pool_default();
    vips_concurrency_set(o->vips_threads > 0 ? o->vips_threads : 1);

    int maxb = 0;
    for (int i = 0; i < s->config.nmodels; i++)
        maxb += s->config.models[i].instances * s->config.models[i].max_batch;
    s->n_pipe = o->pipeline_threads > 0 ? o->pipeline_threads : (2 * maxb + 2 < 4 ? 4 : 2 * maxb + 2);
    if (s->n_pipe > 64)
        s->n_pipe = 64;
    s->n_io = o->io_threads > 0 ? o->io_threads : 2;
    s->io_threads = calloc((size_t)s->n_io, sizeof(pthread_t));
    s->pipe_threads = calloc((size_t)s->n_pipe, sizeof(pthread_t));
    if (!s->io_threads || !s->pipe_threads) {
        free(s->io_threads);
        free(s->pipe_threads);
        serve_models_config_free(&s->config);
        serve_jobs_free(s->jobs);
        serve_metrics_free(s->metrics);
        free(s);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    int started_io = 0, started_pipe = 0;
    for (; started_io < s->n_io; started_io++)
        if (pthread_create(&s->io_threads[started_io], NULL, serve_io_main, s))
            break;
    for (; started_pipe < s->n_pipe; started_pipe++)
        if (pthread_create(&s->pipe_threads[started_pipe], NULL, serve_pipe_main, s))
            break;
    s->n_io = started_io;
    s->n_pipe = started_pipe;
    if (!pthread_create(&s->monitor, NULL, serve_monitor_main, s))
        s->monitor_started = 1;
    if (started_io == 0 || started_pipe == 0 || !s->monitor_started) {
        enh_serve_stop(s);
        return enh_fail(err, ENH_EINTERNAL, "cannot start the server's worker threads");
    }
    if (o->moderation != ENH_MODERATION_OFF && (st = serve_checks_preload(s, err))) {
        enh_serve_stop(s);
        return st;
    }
    if ((st = serve_http_start(s, err))) {
        enh_serve_stop(s);
        return st;
    }
    if (pthread_create(&s->loader, NULL, loader_main, s)) {
        enh_serve_stop(s);
        return enh_fail(err, ENH_EINTERNAL, "cannot start the model loader thread");
    }
    s->loader_started = 1;
    ENH_LOGI("serve: listening on %s:%d (%d cores: pool %d threads, %d instance(s); %d pipeline + %d io workers)",
             o->host, s->port, cores, enh_pool_threads(s->pool), inst, s->n_pipe, s->n_io);
    *out = s;
    return ENH_OK;
}

enh_status enh_serve_reload(enh_server *s, enh_error *err)
{
    if (!atomic_load(&s->ready))
        return enh_fail(err, ENH_EBUSY, "the first model load has not finished; reload later");
    serve_models_config cfg;
    enh_status st;
    if (s->opt.models_config[0])
        st = serve_models_config_load(s->opt.models_config, &cfg, err);
    else /* zero-config: models installed since the start are served from now on */
        st = serve_models_config_installed(&cfg, err);
    if (st)
        return st;
    int cores = s->opt.cores > 0 ? s->opt.cores : online_cpus();
    if (s->opt.models_config[0] && serve_registry_instances(&cfg) > cores) {
        serve_models_config_free(&cfg);
        return enh_fail(err, ENH_EINVAL, "reload refused: %d instances in total exceed the %d cores in use",
                        serve_registry_instances(&cfg), cores);
    }
    pthread_mutex_lock(&s->mu);
    serve_registry *prev = s->registry;
    serve_registry_ref(prev);
    pthread_mutex_unlock(&s->mu);
    serve_registry *next = NULL;
    st = serve_registry_build(&cfg, prev, s->pool, s->metrics, &next, err); /* old one keeps serving meanwhile */
    serve_registry_unref(prev);
    if (st) {
        serve_models_config_free(&cfg);
        return enh_error_prefix(err, "reload refused, the previous models keep serving");
    }
    pthread_mutex_lock(&s->mu);
    serve_registry *old = s->registry;
    s->registry = next;
    serve_models_config_free(&s->config);
    s->config = cfg;
    pthread_mutex_unlock(&s->mu);
    serve_registry_unref(old); /* freed when the last request using it finishes */
    atomic_fetch_add(&s->generation, 1);
    ENH_LOGI("serve: model configuration reloaded (%d model(s))", next->n);
    return ENH_OK;
}

int enh_serve_drain(enh_server *s, double timeout_s)
{
    atomic_store(&s->draining, 1);
    serve_metrics_set_state(s->metrics, atomic_load(&s->ready), 1);
    double until = enh_now() + timeout_s;
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0 && enh_now() < until)
        serve_cond_wait_until(&s->idle_cv, &s->mu, until);
    int left = s->inflight;
    pthread_mutex_unlock(&s->mu);
    return left;
}

void enh_serve_stop(enh_server *s)
{
    if (!s)
        return;
    atomic_store(&s->draining, 1);
    atomic_store(&s->stopping, 1);
    if (s->loader_started)
        pthread_join(s->loader, NULL);
    /* queued requests are answered 503; running ones are cancelled */
    serve_job *done[256];
    int nd;
    do {
        nd = 0;
        pthread_mutex_lock(&s->mu);
        for (serve_job *j = s->active; j; j = j->anext) {
            atomic_store(&j->cancel, SERVE_CANCEL_SHUTDOWN);
        }
        for (serve_job *j = s->active; j && nd < 256;) {
            serve_job *nx = j->anext;
            if (j->in_queue) {
                enh_error e;
                enh_fail(&e, ENH_ECANCELLED, "the server is shutting down");
                serve_finish_locked(s, j, ENH_ECANCELLED, j->stage, &e);
                done[nd++] = j;
            }
            j = nx;
        }
        pthread_cond_broadcast(&s->io_cv);
        pthread_cond_broadcast(&s->pipe_cv);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < nd; i++)
            done[i]->done(done[i]);
    } while (nd == 256);
    for (int i = 0; i < s->n_io; i++)
        pthread_join(s->io_threads[i], NULL);
    for (int i = 0; i < s->n_pipe; i++)
        pthread_join(s->pipe_threads[i], NULL);
    if (s->monitor_started)
        pthread_join(s->monitor, NULL);
    serve_http_stop(s);
    serve_jobs_free(s->jobs); /* every job finished: the workers are gone */
    serve_nets_free(s->nets);
    serve_checks_free(s->checks);
    serve_registry_unref(s->registry);
    serve_models_config_free(&s->config);
    serve_metrics_free(s->metrics);
    serve_clients_free(s->uploads.clients); /* after every upload's release (jobs included) */
    serve_proxies_free(s->proxies);
    free(s->io_threads);
    free(s->pipe_threads);
    pthread_cond_destroy(&s->io_cv);
    pthread_cond_destroy(&s->pipe_cv);
    pthread_cond_destroy(&s->idle_cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
