/* shared_cache: concurrent gets of one key load it once and share the object, a failed load is
 * not cached (the next get tries again and succeeds), unreferenced objects beyond `keep` are
 * freed least recently used first, clear frees every unreferenced one. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "core/shared_cache.h"

static atomic_int loads, frees, fail_next;

static void free_obj(void *o)
{
    atomic_fetch_add(&frees, 1);
    free(o);
}

static enh_status load(void *ctx, void **obj, enh_error *err)
{
    atomic_fetch_add(&loads, 1);
    usleep(20000); /* long enough for the other threads to find the entry loading */
    if (atomic_exchange(&fail_next, 0))
        return enh_fail(err, ENH_EINVAL, "load of %s failed", (const char *)ctx);
    *obj = strdup(ctx);
    return *obj ? ENH_OK : enh_fail(err, ENH_ENOMEM, "out of memory");
}

static enh_shared_cache cache = ENH_SHARED_CACHE_INIT(1, free_obj);

static void *worker(void *arg)
{
    (void)arg;
    void *o = NULL;
    enh_error err = {0};
    if (enh_shared_cache_get(&cache, "a", load, "a", &o, &err) != ENH_OK)
        return NULL;
    return o;
}

int main(void)
{
    enh_error err = {0};
    pthread_t t[4];
    void *got[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(pthread_join(t[i], &got[i]) == 0);
    CHECK(atomic_load(&loads) == 1);
    for (int i = 0; i < 4; i++) {
        CHECK(got[i] && got[i] == got[0]);
        enh_shared_cache_release(&cache, got[i]);
    }
    CHECK(atomic_load(&frees) == 0); /* one idle object is kept */

    /* a failed load leaves nothing behind */
    void *b = NULL;
    atomic_store(&fail_next, 1);
    CHECK(enh_shared_cache_get(&cache, "b", load, "b", &b, &err) == ENH_EINVAL && !b);
    CHECK(strstr(err.msg, "load of b failed") != NULL);
    CHECK(enh_shared_cache_get(&cache, "b", load, "b", &b, &err) == ENH_OK && !strcmp(b, "b"));
    CHECK(atomic_load(&loads) == 3);

    /* releasing b leaves two idle objects with keep = 1: "a" (used longer ago) goes */
    enh_shared_cache_release(&cache, b);
    CHECK(atomic_load(&frees) == 1);
    void *a = NULL;
    CHECK(enh_shared_cache_get(&cache, "a", load, "a", &a, &err) == ENH_OK);
    CHECK(atomic_load(&loads) == 4); /* reloaded */
    void *b2 = NULL;
    CHECK(enh_shared_cache_get(&cache, "b", load, "b", &b2, &err) == ENH_OK && b2 == b);
    CHECK(enh_shared_cache_clear(&cache) == 2); /* both referenced */
    enh_shared_cache_release(&cache, a);
    enh_shared_cache_release(&cache, b2);
    CHECK(enh_shared_cache_clear(&cache) == 0);
    CHECK(atomic_load(&frees) == 3);
    enh_shared_cache_release(&cache, NULL);
    return 0;
}
