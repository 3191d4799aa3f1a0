/* batcher.c - dynamic batching of equal-size tiles across requests (see batcher.h). */
#include "serve/batcher.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/mem.h"
#include "serve/sync.h"

#define POLL_S 0.02 /* how often a queued submitter re-checks its cancel flag */

typedef enum { ITEM_QUEUED, ITEM_RUNNING, ITEM_DONE } item_state;

typedef struct item {
    const float *in;
    float *out;
    int n, c, h, w;
    serve_priority prio;
    double deadline;
    atomic_int *cancel;
    double t_submit, t_start;
    int batch_size;
    item_state state;
    enh_status status;
    enh_error err;
    pthread_cond_t cv;
    struct item *prev, *next;
} item;

typedef struct instance {
    serve_batcher *b;
    pthread_t thread;
    int started;
    float *scratch_in, *scratch_out;
    size_t cap_in, cap_out; /* floats */
    struct item **batch;    /* max_batch entries */
} instance;

struct serve_batcher {
    serve_batcher_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t work;
    item *head[SERVE_NPRIO], *tail[SERVE_NPRIO];
    int queued_tiles;
    int stop;
    instance *inst;
};

static void unlink_item(serve_batcher *b, item *it)
{
    int p = it->prio;
    if (it->prev)
        it->prev->next = it->next;
    else
        b->head[p] = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        b->tail[p] = it->prev;
    it->prev = it->next = NULL;
    b->queued_tiles -= it->n;
}

static void finish_item(item *it, enh_status st, const char *msg)
{
    it->state = ITEM_DONE;
    it->status = st;
    if (st)
        enh_fail(&it->err, st, "%s", msg);
    pthread_cond_signal(&it->cv);
}

/* Under mu: removes queued items whose deadline passed or whose request was cancelled. */
static void expire_items(serve_batcher *b, double now)
{
    for (int p = 0; p < SERVE_NPRIO; p++) {
        item *it = b->head[p];
        while (it) {
            item *nx = it->next;
            if (it->cancel && atomic_load(it->cancel)) {
                unlink_item(b, it);
                finish_item(it, ENH_ECANCELLED, "request cancelled while its tile was queued");
            } else if (it->deadline > 0 && now >= it->deadline) {
                unlink_item(b, it);
                finish_item(it, ENH_ETIMEOUT, "deadline exceeded while the tile was queued for the model");
            }
            it = nx;
        }
    }
}

static int compatible(const item *a, const item *b) { return a->c == b->c && a->h == b->h && a->w == b->w; }

static int grow(float **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return 1;
    enh_free(*buf);
    *buf = enh_alloc(need * sizeof(float));
    *cap = *buf ? need : 0;
    return *buf != NULL;
}

static void run_batch(instance *in, item **items, int nitems, int total)
{
    serve_batcher *b = in->b;
    const serve_batcher_config *cfg = &b->cfg;
    item *f = items[0];
    size_t in_tile = (size_t)f->c * f->h * f->w;
    size_t out_tile = (size_t)cfg->out_channels * ((size_t)f->h * cfg->scale) * ((size_t)f->w * cfg->scale);
    enh_error err;
    enh_error_clear(&err);
    enh_status st;
    double t0 = enh_now();
    if (nitems == 1) {
        st = cfg->run(cfg->model, f->in, f->n, f->c, f->h, f->w, f->out, cfg->pool, &err);
    } else if (!grow(&in->scratch_in, &in->cap_in, in_tile * total) ||
               !grow(&in->scratch_out, &in->cap_out, out_tile * total)) {
        st = enh_fail(&err, ENH_ENOMEM, "out of memory for a batch of %d tiles of %dx%d", total, f->w, f->h);
    } else {
        size_t off = 0;
        for (int i = 0; i < nitems; i++) {
            memcpy(in->scratch_in + off * in_tile, items[i]->in, in_tile * items[i]->n * sizeof(float));
            off += items[i]->n;
        }
        st = cfg->run(cfg->model, in->scratch_in, total, f->c, f->h, f->w, in->scratch_out, cfg->pool, &err);
        if (st == ENH_OK) {
            off = 0;
            for (int i = 0; i < nitems; i++) {
                memcpy(items[i]->out, in->scratch_out + off * out_tile, out_tile * items[i]->n * sizeof(float));
                off += items[i]->n;
            }
        }
    }
    double dt = enh_now() - t0;
    if (cfg->on_batch)
        cfg->on_batch(cfg->on_batch_user, total, dt);
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < nitems; i++)
        finish_item(items[i], st, err.msg);
    pthread_mutex_unlock(&b->mu);
}

static void *instance_main(void *arg)
{
    instance *in = arg;
    serve_batcher *b = in->b;
    int maxb = b->cfg.max_batch;
    item **batch = in->batch;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        double now = enh_now();
        expire_items(b, now);
        item *first = NULL;
        for (int p = 0; p < SERVE_NPRIO && !first; p++)
            first = b->head[p];
        if (!first) {
            if (b->stop)
                break;
            pthread_cond_wait(&b->work, &b->mu);
            continue;
        }
        int avail = 0;
        for (int p = 0; p < SERVE_NPRIO && avail < maxb; p++)
            for (item *it = b->head[p]; it && avail < maxb; it = it->next)
                if (compatible(it, first))
                    avail += it->n;
        double due = first->t_submit + b->cfg.max_delay_s;
        if (avail < maxb && !b->stop && now < due) {
            serve_cond_wait_until(&b->work, &b->mu, due);
            continue;
        }
        /* gather: the oldest highest-priority item, then compatible ones in priority order */
        int nitems = 0, total = 0;
        for (int p = 0; p < SERVE_NPRIO; p++) {
            item *it = b->head[p];
            while (it) {
                item *nx = it->next;
                if (compatible(it, first) && (nitems == 0 || total + it->n <= maxb) && nitems < maxb) {
                    unlink_item(b, it);
                    it->state = ITEM_RUNNING;
                    it->t_start = now;
                    batch[nitems++] = it;
                    total += it->n;
                }
                it = nx;
            }
        }
        for (int i = 0; i < nitems; i++)
            batch[i]->batch_size = total;
        pthread_mutex_unlock(&b->mu);
        run_batch(in, batch, nitems, total);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

enh_status serve_batcher_create(const serve_batcher_config *cfg, serve_batcher **out, enh_error *err)
{
    *out = NULL;
    if (!cfg->run || cfg->instances < 1 || cfg->max_batch < 1 || cfg->scale < 1 || cfg->out_channels < 1)
        return enh_fail(err, ENH_EINVAL, "batcher '%s': needs a run function, instances >= 1, max_batch >= 1",
                        cfg->name);
    serve_batcher *b = calloc(1, sizeof *b);
    if (!b)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    b->cfg = *cfg;
    pthread_mutex_init(&b->mu, NULL);
    serve_cond_init(&b->work);
    b->inst = calloc((size_t)cfg->instances, sizeof *b->inst);
    if (!b->inst) {
        serve_batcher_destroy(b);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    for (int i = 0; i < cfg->instances; i++) {
        b->inst[i].b = b;
        b->inst[i].batch = calloc((size_t)cfg->max_batch, sizeof(item *));
        if (!b->inst[i].batch) {
            serve_batcher_destroy(b);
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        }
        if (pthread_create(&b->inst[i].thread, NULL, instance_main, &b->inst[i])) {
            serve_batcher_destroy(b);
            return enh_fail(err, ENH_EINTERNAL, "batcher '%s': cannot start instance thread", cfg->name);
        }
        b->inst[i].started = 1;
    }
    *out = b;
    return ENH_OK;
}

void serve_batcher_destroy(serve_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stop = 1;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->mu);
    if (b->inst) {
        for (int i = 0; i < b->cfg.instances; i++) {
            if (b->inst[i].started)
                pthread_join(b->inst[i].thread, NULL);
            enh_free(b->inst[i].scratch_in);
            enh_free(b->inst[i].scratch_out);
            free(b->inst[i].batch);
        }
        free(b->inst);
    }
    pthread_cond_destroy(&b->work);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

enh_status serve_batcher_submit(serve_batcher *b, const float *in, int n, int c, int h, int w, float *out,
                                serve_priority prio, double deadline, atomic_int *cancel,
                                serve_tile_wait *wait, enh_error *err)
{
    if (n < 1 || c < 1 || h < 1 || w < 1 || prio < 0 || prio >= SERVE_NPRIO)
        return enh_fail(err, ENH_EINVAL, "batcher '%s': bad tile shape %dx%dx%dx%d", b->cfg.name, n, c, h, w);
    item it;
    memset(&it, 0, sizeof it);
    it.in = in;
    it.out = out;
    it.n = n;
    it.c = c;
    it.h = h;
    it.w = w;
    it.prio = prio;
    it.deadline = deadline;
    it.cancel = cancel;
    it.t_submit = enh_now();
    serve_cond_init(&it.cv);

    pthread_mutex_lock(&b->mu);
    enh_status st = ENH_OK;
    if (b->stop) {
        st = enh_fail(err, ENH_EBUSY, "model '%s' is being unloaded", b->cfg.name);
    } else if (b->cfg.max_queue_tiles > 0 && b->queued_tiles + n > b->cfg.max_queue_tiles &&
               b->queued_tiles > 0) {
        st = enh_fail(err, ENH_EBUSY, "model '%s': tile queue is full (%d tiles queued, limit %d)", b->cfg.name,
                      b->queued_tiles, b->cfg.max_queue_tiles);
    }
    if (st) {
        pthread_mutex_unlock(&b->mu);
        pthread_cond_destroy(&it.cv);
        return st;
    }
    it.state = ITEM_QUEUED;
    it.prev = b->tail[prio];
    if (b->tail[prio])
        b->tail[prio]->next = &it;
    else
        b->head[prio] = &it;
    b->tail[prio] = &it;
    b->queued_tiles += n;
    pthread_cond_broadcast(&b->work);
    while (it.state != ITEM_DONE) {
        double now = enh_now();
        if (it.state == ITEM_QUEUED) {
            if (cancel && atomic_load(cancel)) {
                unlink_item(b, &it);
                finish_item(&it, ENH_ECANCELLED, "request cancelled while its tile was queued");
                break;
            }
            if (deadline > 0 && now >= deadline) {
                unlink_item(b, &it);
                finish_item(&it, ENH_ETIMEOUT, "deadline exceeded while the tile was queued for the model");
                break;
            }
        }
        double until = now + POLL_S;
        if (deadline > 0 && deadline < until && it.state == ITEM_QUEUED)
            until = deadline;
        serve_cond_wait_until(&it.cv, &b->mu, until);
    }
    pthread_mutex_unlock(&b->mu);
    pthread_cond_destroy(&it.cv);
    if (wait) {
        wait->queued_s = it.t_start > 0 ? it.t_start - it.t_submit : enh_now() - it.t_submit;
        wait->batch_size = it.batch_size;
    }
    if (it.status) {
        if (err)
            *err = it.err;
        return it.status;
    }
    return ENH_OK;
}

