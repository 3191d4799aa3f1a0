/* tf_pack.c - packed GEMM weights shared by every specialisation of a graph (tf_graph.h): a
 * model keeps a plan per input size, and without sharing each plan packed its own copy of every
 * Dense/conv weight (88 MB more per plan for MAXIM-3S). Entries are keyed by the constant's data
 * pointer (graph-owned weights never move), the bias pointer and a layout tag, and live until the
 * graph is freed. Thread-safety: a mutex around lookup and insert; entries are immutable. */
#include <pthread.h>
#include <stdlib.h>

#include "nn/tf_pack.h"

typedef struct {
    const void *w, *bias;
    int tag, k, n;
    enh_gemm_b *b;
} entry;

struct tf_pack_cache {
    pthread_mutex_t lock;
    entry *e;
    int n, cap;
};

tf_pack_cache *tf_pack_cache_new(void)
{
    tf_pack_cache *c = calloc(1, sizeof *c);
    if (c)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void tf_pack_cache_free(tf_pack_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++)
        enh_gemm_b_free(c->e[i].b);
    pthread_mutex_destroy(&c->lock);
    free(c->e);
    free(c);
}

enh_status tf_pack_get(tf_pack_cache *c, const void *key, const float *w, int k, int n, const float *bias, int tag,
                       enh_gemm_b **out, enh_error *err)
{
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n; i++) {
        const entry *e = &c->e[i];
        if (e->w == key && e->bias == bias && e->tag == tag && e->k == k && e->n == n) {
            *out = e->b;
            pthread_mutex_unlock(&c->lock);
            return ENH_OK;
        }
    }
    enh_status st = ENH_OK;
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 64;
        entry *ne = realloc(c->e, (size_t)cap * sizeof *ne);
        if (!ne)
            st = enh_fail(err, ENH_ENOMEM, "out of memory");
        else
            c->e = ne, c->cap = cap;
    }
    if (st == ENH_OK)
        st = enh_gemm_pack_b(w, k, n, n, bias, out, err);
    if (st == ENH_OK)
        c->e[c->n++] = (entry){key, bias, tag, k, n, *out};
    pthread_mutex_unlock(&c->lock);
    return st;
}
