/* conv_scratch.c - the conv plans' scratch (conv_plan_internal.h): a free list of per-slot
 * buffers that survive calls, so a model run does not page-fault fresh megabytes for each of
 * its hundreds of convolutions, a run's set of them (one per pool slot), and the reserve that
 * lets a run go on when none can be had.
 * Thread-safety: all under one mutex. */
#include <pthread.h>
#include <stdlib.h>

#include "core/mem.h"
#include "nn/conv_plan_internal.h"

/* ---- scratch free list: buffers survive calls so a model run does not page-fault
 * fresh megabytes for each of its hundreds of convolutions. */
#define SCRATCH_KEEP 64
static pthread_mutex_t g_scr_mu = PTHREAD_MUTEX_INITIALIZER;
static struct { float *p; size_t n; } g_scr[SCRATCH_KEEP];
static int g_scr_count;

float *enh_conv_scratch_acquire(size_t n)
{
    float *old = NULL;
    pthread_mutex_lock(&g_scr_mu);
    int best = -1;
    for (int i = 0; i < g_scr_count; i++)
        if (g_scr[i].n >= n && (best < 0 || g_scr[i].n < g_scr[best].n))
            best = i;
    if (best < 0 && g_scr_count > 0)
        best = g_scr_count - 1, old = g_scr[best].p; /* too small: replace it */
    float *p = NULL;
    if (best >= 0) {
        if (!old)
            p = g_scr[best].p;
        g_scr[best] = g_scr[--g_scr_count];
    }
    pthread_mutex_unlock(&g_scr_mu);
    if (p)
        return p;
    enh_free(old);
    return enh_alloc(n * sizeof(float));
}

void enh_conv_scratch_release(float *p, size_t n)
{
    if (!p)
        return;
    pthread_mutex_lock(&g_scr_mu);
    if (g_scr_count < SCRATCH_KEEP) {
        g_scr[g_scr_count].p = p;
        g_scr[g_scr_count].n = n;
        g_scr_count++;
        p = NULL;
    }
    pthread_mutex_unlock(&g_scr_mu);
    enh_free(p);
}

int enh_conv_slots_acquire(enh_conv_slots *s, int nslots, size_t floats)
{
    s->n = 0;
    s->floats = floats;
    s->bufs = nslots <= ENH_CONV_SLOTS_ON_STACK ? s->stack : malloc((size_t)nslots * sizeof *s->bufs);
    if (s->bufs)
        for (; s->n < nslots; s->n++)
            if (!(s->bufs[s->n] = enh_conv_scratch_acquire(floats)))
                break;
    if (s->bufs && s->n == nslots)
        return 1;
    enh_conv_slots_release(s); /* some but not all: give those back for the fallback */
    return 0;
}

void enh_conv_slots_release(enh_conv_slots *s)
{
    for (int i = 0; i < s->n; i++)
        enh_conv_scratch_release(s->bufs[i], s->floats);
    if (s->bufs && s->bufs != s->stack)
        free(s->bufs);
    s->bufs = NULL;
    s->n = 0;
}

/* ---- the reserve: one buffer, as large as the smallest scratch of any plan created, that a
 * run waits for when it cannot allocate scratch (so runs always finish). */
static pthread_cond_t g_res_cv = PTHREAD_COND_INITIALIZER;
static float *g_res;
static size_t g_res_n;
static int g_res_busy;

int enh_conv_reserve_ensure(size_t n)
{
    int ok = 1;
    pthread_mutex_lock(&g_scr_mu);
    while (g_res_busy && g_res_n < n)
        pthread_cond_wait(&g_res_cv, &g_scr_mu);
    if (g_res_n < n) {
        float *p = enh_alloc(n * sizeof(float));
        if (p) {
            enh_free(g_res);
            g_res = p;
            g_res_n = n;
        } else {
            ok = 0;
        }
    }
    pthread_mutex_unlock(&g_scr_mu);
    return ok;
}

float *enh_conv_reserve_take(void)
{
    pthread_mutex_lock(&g_scr_mu);
    while (g_res_busy)
        pthread_cond_wait(&g_res_cv, &g_scr_mu);
    g_res_busy = 1;
    float *p = g_res;
    pthread_mutex_unlock(&g_scr_mu);
    return p;
}

void enh_conv_reserve_give(void)
{
    pthread_mutex_lock(&g_scr_mu);
    g_res_busy = 0;
    pthread_cond_broadcast(&g_res_cv);
    pthread_mutex_unlock(&g_scr_mu);
}
