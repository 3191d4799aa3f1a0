/* Thread pool: every item runs exactly once, concurrent and nested callers finish,
 * slots are unique per job and within range - with hand-offs that only sleep (spin 0), that
 * poll a moment and then sleep (1 us: both paths race), and the default. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../check.h"
#include "core/pool.h"

typedef struct {
    atomic_int *hits;
    atomic_int slot_busy[64];
    atomic_int bad_slot;
    int max_slot;
} count_ctx;

static void count_fn(void *vctx, size_t b, size_t e, int slot)
{
    count_ctx *c = vctx;
    if (slot < 0 || slot > c->max_slot || atomic_fetch_add(&c->slot_busy[slot], 1) != 0)
        atomic_store(&c->bad_slot, 1);
    for (size_t i = b; i < e; i++)
        atomic_fetch_add(&c->hits[i], 1);
    if (slot >= 0 && slot <= c->max_slot)
        atomic_fetch_sub(&c->slot_busy[slot], 1);
}

static int run_and_check(enh_pool *p, size_t n, size_t grain)
{
    count_ctx c;
    memset(&c, 0, sizeof c);
    c.max_slot = enh_pool_threads(p);
    c.hits = calloc(n ? n : 1, sizeof *c.hits);
    enh_pool_run(p, n, grain, count_fn, &c);
    int ok = !atomic_load(&c.bad_slot);
    for (size_t i = 0; i < n; i++)
        ok &= atomic_load(&c.hits[i]) == 1;
    free(c.hits);
    return ok;
}

static enh_pool *g_shared;

static void *concurrent_caller(void *arg)
{
    int *ok = arg;
    for (int r = 0; r < 200; r++)
        *ok &= run_and_check(g_shared, 1000 + (size_t)r, 7);
    return NULL;
}

typedef struct { enh_pool *p; atomic_int inner_ok; } nest_ctx;
static void nested_fn(void *vctx, size_t b, size_t e, int slot)
{
    (void)slot;
    nest_ctx *c = vctx;
    for (size_t i = b; i < e; i++)
        if (!run_and_check(c->p, 50, 3))
            atomic_store(&c->inner_ok, 0);
}

static void exercise(double spin_us)
{
    enh_pool_set_spin_us(spin_us);
    enh_pool *p = enh_pool_create(4);
    CHECK(p != NULL);
    CHECK(enh_pool_threads(p) == 4);
    CHECK(run_and_check(p, 0, 1));
    CHECK(run_and_check(p, 1, 1));
    CHECK(run_and_check(p, 100000, 1));
    CHECK(run_and_check(p, 12345, 100));
    for (int r = 0; r < 500; r++)
        CHECK(run_and_check(p, (size_t)r, 3));
    for (int r = 0; r < 3; r++) { /* idle longer than any poll: workers must be woken */
        nanosleep(&(struct timespec){0, 2000000}, NULL);
        CHECK(run_and_check(p, 1000, 1));
    }

    g_shared = p;
    pthread_t th[4];
    int oks[4] = {1, 1, 1, 1};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, concurrent_caller, &oks[i]);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(oks[i]);
    }

    nest_ctx nc = {.p = p};
    atomic_init(&nc.inner_ok, 1);
    enh_pool_run(p, 40, 1, nested_fn, &nc);
    CHECK(atomic_load(&nc.inner_ok));
    enh_pool_destroy(p);

    enh_pool *one = enh_pool_create(1);
    CHECK(run_and_check(one, 1000, 10));
    enh_pool_destroy(one);
}

int main(void)
{
    exercise(0);
    exercise(1);
    exercise(200); /* the default */
    CHECK(enh_pool_default() != NULL);
    CHECK(enh_pool_default_set_threads(3) == -1);
    CHECK_MAIN_END();
}
