/* pool.h - a persistent thread pool for data-parallel loops.
 *
 * Threads are created once (enh_pool_create) and reused; no call creates a thread.
 * enh_pool_run may be called concurrently from any number of threads (server model
 * instances share one pool so the cores are never oversubscribed) and from inside a
 * running task (the caller always helps, so nesting cannot deadlock).
 * The range [0,n) is cut into chunks of `grain` items; fn is called once per chunk with
 * a `slot` in [0, enh_pool_threads(pool)] that is unique among the threads working on
 * the same enh_pool_run call at the same time (use it to index per-thread scratch).
 * Chunks are split into one contiguous lane per thread: a thread runs its own lane in
 * order, then takes chunks from the back of the others (locality across calls over the
 * same data, no idling while chunks are left).
 * enh_pool_run returns when every chunk has finished. fn must not fail: record errors
 * in ctx. Between jobs, idle workers (and a caller waiting for its helpers) poll for up to
 * enh_pool_set_spin_us() microseconds (default 200, read at create; 0 = sleep at once) before
 * they sleep, so back-to-back jobs (a network's layers) start without a wake-up. */
#ifndef ENH_CORE_POOL_H
#define ENH_CORE_POOL_H

#include <stddef.h>

typedef struct enh_pool enh_pool;
typedef void (*enh_range_fn)(void *ctx, size_t begin, size_t end, int slot);

/* nthreads = total threads that compute, the caller included (nthreads-1 are spawned).
 * nthreads <= 0 means the number of online CPUs. Returns NULL on failure. */
enh_pool *enh_pool_create(int nthreads);
void enh_pool_destroy(enh_pool *pool);
int enh_pool_threads(const enh_pool *pool);

void enh_pool_run(enh_pool *pool, size_t n, size_t grain, enh_range_fn fn, void *ctx);

/* The poll before sleeping of pools created from now on (the default pool included), in
 * microseconds (< 0 = 0). Thread-safe. */
void enh_pool_set_spin_us(double us);

/* The process-wide pool, created on first use with enh_pool_default_set_threads()'s
 * count (default: online CPUs). Never destroyed before exit. */
enh_pool *enh_pool_default(void);
/* Must be called before the first enh_pool_default(); returns -1 if too late. */
int enh_pool_default_set_threads(int nthreads);

#endif
