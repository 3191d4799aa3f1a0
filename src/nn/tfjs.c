/* tfjs.c - the TF.js model object (tfjs.h): the loaded graph and its specialisations, one per
 * padded input size, built on first use under a lock and kept (a few) for later runs. */
#include "nn/tfjs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/tf_plan.h"
#include "nn/tfjs_load.h"

#define MAX_PLANS 4

struct enh_tf_model {
    tf_graph *g;
    enh_tf_model_info info;
    pthread_mutex_t lock;
    struct {
        tf_plan *p;
        int refs;           /* runs using it now */
        unsigned long used; /* tick of the last get */
    } plans[MAX_PLANS];
    unsigned long tick;
    size_t arena_per_px;       /* from the 64 x 64 plan, rounded up by 1/8 for larger sizes */
};

enh_status enh_tf_model_load(const char *model_json, enh_tf_model **out, enh_error *err)
{
    *out = NULL;
    tf_graph *g = NULL;
    enh_status st = enh_tfjs_load_graph(model_json, &g, err);
    if (st != ENH_OK)
        return st;
    enh_tf_model *m = calloc(1, sizeof *m);
    if (!m) {
        tf_graph_free(g);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    m->g = g;
    pthread_mutex_init(&m->lock, NULL);
    m->info.in_channels = g->in_channels > 0 ? g->in_channels : 3;
    m->info.nodes = g->n;
    m->info.weight_bytes = g->weight_bytes;
    /* output channels and scale: from a small specialisation (64 x 64: MAXIM's multiple) */
    tf_plan *p = NULL;
    st = tf_plan_build(g, 64, 64, m->info.in_channels, &p, err);
    if (st != ENH_OK) {
        enh_error_prefix(err, "%s", model_json);
        enh_tf_model_free(m);
        return st;
    }
    const tf_shape *os = &p->val[p->output].s;
    if (os->rank != 4 || os->d[0] != 1 || os->d[1] % 64 || os->d[2] % 64 || os->d[1] != os->d[2]) {
        tf_plan_free(p);
        enh_tf_model_free(m);
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: the output is not an image (1 x H x W x C, a whole multiple of "
                        "the input size)", model_json);
    }
    m->info.out_channels = os->d[3];
    m->info.scale = os->d[1] / 64;
    m->plans[0].p = p;
    m->plans[0].used = ++m->tick;
    m->arena_per_px = p->arena_bytes / (64 * 64) + p->arena_bytes / (64 * 64) / 8;
    *out = m;
    return ENH_OK;
}

void enh_tf_model_free(enh_tf_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < MAX_PLANS; i++)
        tf_plan_free(m->plans[i].p);
    pthread_mutex_destroy(&m->lock);
    tf_graph_free(m->g);
    free(m);
}

const enh_tf_model_info *enh_tf_model_get_info(const enh_tf_model *m)
{
    return &m->info;
}

/* The plan for h x w: a kept one, or built (outside the lock, so runs of other sizes go on) and
 * kept in a free slot or in place of the least recently used plan no run is using; when every
 * slot is busy the plan serves this run only. put_plan releases it. */
static enh_status get_plan(enh_tf_model *m, int h, int w, tf_plan **out, enh_error *err)
{
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < MAX_PLANS; i++)
        if (m->plans[i].p && m->plans[i].p->h == h && m->plans[i].p->w == w) {
            m->plans[i].refs++;
            m->plans[i].used = ++m->tick;
            *out = m->plans[i].p;
            pthread_mutex_unlock(&m->lock);
            return ENH_OK;
        }
    pthread_mutex_unlock(&m->lock);
    tf_plan *p = NULL;
    enh_status st = tf_plan_build(m->g, h, w, m->info.in_channels, &p, err);
    if (st != ENH_OK)
        return st;
    pthread_mutex_lock(&m->lock);
    int slot = -1;
    for (int i = 0; i < MAX_PLANS; i++) {
        if (m->plans[i].p && m->plans[i].p->h == h && m->plans[i].p->w == w) { /* built meanwhile */
            m->plans[i].refs++;
            m->plans[i].used = ++m->tick;
            *out = m->plans[i].p;
            pthread_mutex_unlock(&m->lock);
            tf_plan_free(p);
            return ENH_OK;
        }
        if (!m->plans[i].p)
            slot = slot < 0 || m->plans[slot].p ? i : slot;
        else if (m->plans[i].refs == 0 && (slot < 0 || (m->plans[slot].p && m->plans[i].used < m->plans[slot].used)))
            slot = i;
    }
    if (slot >= 0) {
        tf_plan_free(m->plans[slot].p);
        m->plans[slot].p = p;
        m->plans[slot].refs = 1;
        m->plans[slot].used = ++m->tick;
    }
    pthread_mutex_unlock(&m->lock);
    *out = p;
    return ENH_OK;
}

static void put_plan(enh_tf_model *m, tf_plan *p)
{
    pthread_mutex_lock(&m->lock);
    int kept = 0;
    for (int i = 0; i < MAX_PLANS; i++)
        if (m->plans[i].p == p) {
            m->plans[i].refs--;
            kept = 1;
        }
    pthread_mutex_unlock(&m->lock);
    if (!kept)
        tf_plan_free(p);
}

size_t enh_tf_model_arena_per_pixel(const enh_tf_model *m)
{
    return m->arena_per_px;
}

size_t enh_tf_model_peak_bytes(const enh_tf_model *m, int h, int w)
{
    enh_tf_model *mm = (enh_tf_model *)m; /* the lock only */
    size_t b = 0;
    pthread_mutex_lock(&mm->lock);
    for (int i = 0; i < MAX_PLANS; i++)
        if (m->plans[i].p && m->plans[i].p->h == h && m->plans[i].p->w == w)
            b = m->plans[i].p->arena_bytes;
    pthread_mutex_unlock(&mm->lock);
    return b;
}

enh_status enh_tf_model_run(enh_tf_model *m, const float *in, int h, int w, int pad_multiple, float *out,
                            enh_pool *pool, enh_error *err)
{
    if (h < 1 || w < 1 || h > 32768 || w > 32768)
        return enh_fail(err, ENH_EINVAL, "image size %dx%d is out of range (1..32768)", w, h);
    if (pad_multiple > 4096) /* also keeps h + mult - 1 below from overflowing */
        return enh_fail(err, ENH_EINVAL, "pad multiple %d is out of range (at most 4096)", pad_multiple);
    int mult = pad_multiple > 1 ? pad_multiple : 1;
    int ph = (h + mult - 1) / mult * mult, pw = (w + mult - 1) / mult * mult, c = m->info.in_channels;
    int oc = m->info.out_channels, sc = m->info.scale;
    tf_plan *p = NULL;
    enh_status st = get_plan(m, ph, pw, &p, err);
    if (st != ENH_OK)
        return st;
    if (!pool)
        pool = enh_pool_default();
    const float *src = in;
    float *padded = NULL, *pout = out;
    if (ph != h || pw != w) {
        padded = enh_calloc((size_t)ph * pw * c, sizeof *padded);
        pout = enh_alloc((size_t)ph * sc * pw * sc * oc * sizeof *pout);
        if (!padded || !pout) {
            enh_free(padded);
            if (pout != out)
                enh_free(pout);
            st = enh_fail(err, ENH_ENOMEM, "out of memory padding a %dx%d image", w, h);
            goto done;
        }
        for (int y = 0; y < h; y++)
            memcpy(padded + (size_t)y * pw * c, in + (size_t)y * w * c, (size_t)w * c * sizeof *in);
        src = padded;
    }
    st = tf_plan_run(p, src, pout, (size_t)ph * sc * pw * sc * oc, pool, NULL, err);
    if (st == ENH_OK && pout != out)
        for (int y = 0; y < h * sc; y++)
            memcpy(out + (size_t)y * w * sc * oc, pout + (size_t)y * pw * sc * oc, (size_t)w * sc * oc * sizeof *out);
    enh_free(padded);
    if (pout != out)
        enh_free(pout);
done:
    put_plan(m, p);
    return st;
}
