/* shared_cache.c - see shared_cache.h. A linked list under one mutex: a process holds a
 * handful of models, so a scan is cheaper than any index. */
#include <stdlib.h>
#include <string.h>

#include "core/shared_cache.h"

typedef struct enh_cache_entry {
    char *key;
    void *obj; /* NULL while loading */
    int loading;
    int refs;
    unsigned long long used;
    struct enh_cache_entry *next;
} entry;

static void unlink_entry(enh_shared_cache *c, entry *e)
{
    for (entry **p = &c->head; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            return;
        }
}

/* frees unreferenced entries beyond keep (LRU first); called with the lock held */
static void trim(enh_shared_cache *c, int keep)
{
    for (;;) {
        int idle = 0;
        entry *lru = NULL;
        for (entry *e = c->head; e; e = e->next)
            if (!e->loading && e->refs == 0) {
                idle++;
                if (!lru || e->used < lru->used)
                    lru = e;
            }
        if (idle <= keep || !lru)
            return;
        unlink_entry(c, lru);
        c->free_obj(lru->obj);
        free(lru->key);
        free(lru);
    }
}

enh_status enh_shared_cache_get(enh_shared_cache *c, const char *key, enh_cache_load_fn load, void *ctx, void **out,
                                enh_error *err)
{
    *out = NULL;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        entry *e = c->head;
        while (e && strcmp(e->key, key))
            e = e->next;
        if (!e)
            break;
        if (e->loading) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue; /* re-scan: the entry is gone after a failed load */
        }
        e->refs++;
        e->used = ++c->tick;
        *out = e->obj;
        pthread_mutex_unlock(&c->mu);
        return ENH_OK;
    }
    entry *e = calloc(1, sizeof *e);
    char *k = strdup(key);
    if (!e || !k) {
        pthread_mutex_unlock(&c->mu);
        free(e);
        free(k);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    e->key = k;
    e->loading = 1;
    e->next = c->head;
    c->head = e;
    pthread_mutex_unlock(&c->mu);

    void *obj = NULL;
    enh_status st = load(ctx, &obj, err);

    pthread_mutex_lock(&c->mu);
    e->loading = 0;
    if (st != ENH_OK) {
        unlink_entry(c, e);
        free(e->key);
        free(e);
    } else {
        e->obj = obj;
        e->refs = 1;
        e->used = ++c->tick;
        *out = obj;
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return st;
}

void enh_shared_cache_release(enh_shared_cache *c, const void *obj)
{
    if (!obj)
        return;
    pthread_mutex_lock(&c->mu);
    for (entry *e = c->head; e; e = e->next)
        if (e->obj == obj && e->refs > 0) {
            e->refs--;
            break;
        }
    trim(c, c->keep);
    pthread_mutex_unlock(&c->mu);
}

int enh_shared_cache_clear(enh_shared_cache *c)
{
    pthread_mutex_lock(&c->mu);
    trim(c, 0);
    int left = 0;
    for (entry *e = c->head; e; e = e->next)
        left++;
    pthread_mutex_unlock(&c->mu);
    return left;
}
