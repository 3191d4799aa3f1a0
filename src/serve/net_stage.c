/* net_stage.c - see net_stage.h. */
#include "serve/net_stage.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "nn/manifest.h"
#include "nn/tf_model_cache.h"
#include "serve/batcher.h"
#include "serve/metrics.h"
#include "serve/outcome.h"
#include "serve/server_internal.h"

#define NETS_MAX 8
#define NET_DEFAULT_MEMORY ((size_t)4 << 30)

typedef struct serve_net {
    char name[64];
    enh_tf_model *model; /* a cache reference */
    int pad_multiple;
    size_t memory_limit;
    serve_batcher *batcher;
    struct serve_metrics *metrics;
} serve_net;

struct serve_nets {
    pthread_mutex_t mu;
    serve_net *net[NETS_MAX];
    int n;
    enh_pool *pool;
    struct serve_metrics *metrics;
    size_t memory_limit;
};

/* serve_run_fn: n whole images of h x w x 3 (NHWC), one after the other; each fits the memory
 * limit whole or runs in tiles (enh_tf_model_run_fit). */
static enh_status run_net(void *model, const float *in, int n, int c, int h, int w, float *out, enh_pool *pool,
                          enh_error *err)
{
    serve_net *net = model;
    size_t px = (size_t)h * w * c;
    for (int i = 0; i < n; i++) {
        enh_status st = enh_tf_model_run_fit(net->model, in + i * px, h, w, net->pad_multiple, net->memory_limit,
                                             out + i * px, pool, err);
        if (st)
            return st;
    }
    return ENH_OK;
}

static void on_batch(void *user, int tiles, double seconds)
{
    serve_net *net = user;
    serve_metrics_batch(net->metrics, net->name, tiles, seconds);
}

serve_nets *serve_nets_create(enh_pool *pool, struct serve_metrics *metrics, size_t memory_limit)
{
    serve_nets *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    pthread_mutex_init(&n->mu, NULL);
    n->pool = pool;
    n->metrics = metrics;
    n->memory_limit = memory_limit ? memory_limit : NET_DEFAULT_MEMORY;
    return n;
}

void serve_nets_free(serve_nets *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->n; i++) {
        serve_batcher_destroy(n->net[i]->batcher);
        enh_tf_model_cache_release(n->net[i]->model);
        free(n->net[i]);
    }
    pthread_mutex_destroy(&n->mu);
    free(n);
}

/* The network's batcher, made on first use (its model loaded from the cache). */
static enh_status get_net(serve_nets *n, const char *name, const char *models_dir, serve_net **out, enh_error *err)
{
    enh_status st = ENH_OK;
    pthread_mutex_lock(&n->mu);
    for (int i = 0; i < n->n; i++)
        if (!strcmp(n->net[i]->name, name)) {
            *out = n->net[i];
            pthread_mutex_unlock(&n->mu);
            return ENH_OK;
        }
    const enh_model_entry *e = enh_manifest_find_tfjs(name);
    serve_net *net = e && n->n < NETS_MAX ? calloc(1, sizeof *net) : NULL;
    if (!net) {
        st = !e ? enh_fail(err, ENH_ENOTFOUND, "%s is not a TF.js model of the manifest", name)
                : enh_fail(err, ENH_ENOMEM, "no room for network %s in the server", name);
        goto done;
    }
    snprintf(net->name, sizeof net->name, "%s", name);
    net->pad_multiple = e->pad_multiple;
    net->memory_limit = n->memory_limit;
    net->metrics = n->metrics;
    if ((st = enh_tf_model_cache_get(name, models_dir, &net->model, err))) {
        free(net);
        goto done;
    }
    /* one instance: a MAXIM run already uses every core of the pool (2.4 M multiply-adds per
     * pixel); equal-size images of concurrent requests share a batch */
    serve_batcher_config bc = {.model = net, .run = run_net, .out_channels = 3, .scale = 1, .instances = 1,
                               .max_batch = 4, .max_delay_s = 0.002, .pool = n->pool, .on_batch = on_batch,
                               .on_batch_user = net};
    snprintf(bc.name, sizeof bc.name, "%s", name);
    if ((st = serve_batcher_create(&bc, &net->batcher, err))) {
        enh_tf_model_cache_release(net->model);
        free(net);
        goto done;
    }
    n->net[n->n++] = net;
    *out = net;
done:
    pthread_mutex_unlock(&n->mu);
    return st;
}

enh_status serve_net_runner(void *user, const char *model, const float *in, int h, int w, float *out,
                            enh_error *err)
{
    serve_job *j = user;
    enh_server *s = j->srv;
    pthread_mutex_lock(&s->mu);
    if (!s->nets)
        s->nets = serve_nets_create(s->pool, s->metrics, 0);
    serve_nets *nets = s->nets;
    pthread_mutex_unlock(&s->mu);
    if (!nets)
        return enh_fail(err, ENH_ENOMEM, "out of memory for the restoration networks");
    serve_net *net = NULL;
    enh_status st = get_net(nets, model, j->reg->models_dir, &net, err);
    if (st)
        return st;
    double t0 = enh_now();
    serve_tile_wait tw = {0, 0};
    st = serve_batcher_submit(net->batcher, in, 1, 3, h, w, out, j->params.priority, j->deadline, &j->cancel, &tw,
                              err);
    double wall = enh_now() - t0, queue = st == ENH_OK ? tw.queued_s : wall;
    /* the batcher's wait is queueing for the request too (settle_times moves it out of compute) */
    j->tile_wait_s += queue;
    serve_metrics_request_done(s->metrics, model, st == ENH_OK, st == ENH_OK ? "" : serve_outcome_type(st, STAGE_PIPELINE),
                               queue, wall - queue, wall);
    size_t len = strlen(j->net_timing);
    snprintf(j->net_timing + len, sizeof j->net_timing - len, ", %s-queue;dur=%.1f, %s;dur=%.1f", model,
             queue * 1000, model, (wall - queue) * 1000);
    return st;
}
