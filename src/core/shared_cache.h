/* shared_cache.h - a process-wide, reference-counted cache of objects loaded by key (the
 * models of every runtime). An object is loaded once per key; callers asking for a key being
 * loaded wait for that one load (a failed load is not cached: the next caller tries again).
 * Unreferenced objects beyond `keep` are freed, least recently used first.
 *
 * Ownership: the cache owns its objects; every successful get needs one release.
 * Thread-safety: all functions are thread-safe; `load` runs without the cache's lock held, so
 * loads of different keys run in parallel. Errors: the loader's, or ENH_ENOMEM. */
#ifndef ENH_CORE_SHARED_CACHE_H
#define ENH_CORE_SHARED_CACHE_H

#include <pthread.h>

#include "core/error.h"

typedef enh_status (*enh_cache_load_fn)(void *ctx, void **obj, enh_error *err);
typedef void (*enh_cache_free_fn)(void *obj);

struct enh_cache_entry;
typedef struct enh_shared_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct enh_cache_entry *head;
    unsigned long long tick;
    int keep;
    enh_cache_free_fn free_obj;
} enh_shared_cache;

#define ENH_SHARED_CACHE_INIT(keep, free_fn) \
    { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, (keep), (free_fn) }

/* The object of `key`, loaded with load(ctx) when absent. */
enh_status enh_shared_cache_get(enh_shared_cache *c, const char *key, enh_cache_load_fn load, void *ctx, void **out,
                                enh_error *err);
/* Drops one reference to obj (NULL: no-op) and trims the unreferenced ones beyond keep. */
void enh_shared_cache_release(enh_shared_cache *c, const void *obj);
/* Frees every unreferenced object; returns how many are still referenced. */
int enh_shared_cache_clear(enh_shared_cache *c);

#endif
