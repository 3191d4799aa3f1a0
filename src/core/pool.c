#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Scheduling: the chunks of a job are cut into one contiguous lane per thread. The thread
 * with slot s runs lane s % nlanes front to back, then steals chunks from the back of the
 * other lanes. So in consecutive jobs over the same data (the layers of a network) a thread
 * works on the same part every time and reads what it wrote itself, while no thread idles
 * as long as any chunk is left (measured: x4fast 256x256 on 2 threads 228 -> 192 ms against
 * one shared counter that interleaved the chunks between the cores).
 *
 * Hand-offs poll before they sleep. A network is hundreds of short jobs back to back (x4plus at
 * 64x64: 377 jobs of 0.1-0.6 ms per run). Sleeping on a condition variable between them cost
 * 10-50 us per job on each side on this VM (futex wake = an inter-processor interrupt through
 * the hypervisor), during which the awake thread stole the sleeper's chunks and with them its
 * cached rows. So an idle worker polls the `posted` counter, and a caller waiting for helpers
 * polls `helpers`, for up to spin_us (enh_pool_set_spin_us, default 200; 0 = sleep at once)
 * before sleeping; nobody holds the mutex while polling, the broadcast is skipped when nobody
 * sleeps, and the mutex itself is taken with trylock polling first. The polling loop reads
 * memory without PAUSE: on KVM a PAUSE loop makes the hypervisor deschedule the vCPU
 * (pause-loop exiting), which brought the latency back. */
#define MAX_LANES 64

typedef struct job {
    enh_range_fn fn;
    void *ctx;
    size_t n, grain;
    int nlanes;
    _Atomic uint64_t lane[MAX_LANES]; /* next chunk (low 32 bits), end chunk (high 32 bits) */
    _Atomic int helpers;    /* pool threads inside this job (incremented under pool->mu) */
    int slots;              /* slots handed out, 0 = caller (under pool->mu) */
    int listed;             /* still in pool->jobs (under pool->mu) */
    struct job *next_job;
} job;

struct enh_pool {
    int nthreads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t work;    /* a job was added or stop was set */
    pthread_cond_t left;    /* a helper left a job */
    job *jobs;              /* jobs that may still have unclaimed chunks */
    int stop;
    int sleepers;           /* workers waiting on `work` (under mu) */
    int waiters;            /* callers waiting on `left` (under mu) */
    _Atomic unsigned posted; /* jobs added so far: what idle workers poll */
    double spin_us;
};

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Polls done(arg) for up to spin_us; returns 1 as soon as it returns nonzero (called no more
 * after that: done may take a lock), 0 on timeout. */
static int poll_until(double spin_us, int (*done)(const void *), const void *arg)
{
    if (done(arg))
        return 1;
    if (spin_us <= 0)
        return 0;
    double t0 = now_us();
    for (unsigned i = 1;; i++) {
        if (done(arg))
            return 1;
        if ((i & 255) == 0 && now_us() - t0 > spin_us)
            return 0;
    }
}

static int mutex_free(const void *mu) { return pthread_mutex_trylock((pthread_mutex_t *)mu) == 0; }

/* The mutex is only held for a few list operations: poll trylock a moment before sleeping. */
static void lock(enh_pool *p)
{
    if (!poll_until(p->spin_us > 0 ? 20 : 0, mutex_free, &p->mu))
        pthread_mutex_lock(&p->mu);
}

typedef struct {
    const enh_pool *p;
    unsigned seen;
} post_watch;

static int posted_since(const void *arg)
{
    const post_watch *w = arg;
    return atomic_load_explicit(&w->p->posted, memory_order_acquire) != w->seen;
}

static int no_helpers(const void *arg)
{
    return atomic_load_explicit(&((const job *)arg)->helpers, memory_order_acquire) == 0;
}

static void unlist(enh_pool *p, job *j)
{
    if (!j->listed)
        return;
    for (job **pp = &p->jobs; *pp; pp = &(*pp)->next_job) {
        if (*pp == j) {
            *pp = j->next_job;
            break;
        }
    }
    j->listed = 0;
}

/* Claims one chunk of lane l: from the front (own lane) or the back (stealing). */
static int lane_take(job *j, int l, int front, size_t *chunk)
{
    uint64_t v = atomic_load(&j->lane[l]);
    for (;;) {
        uint32_t f = (uint32_t)v, e = (uint32_t)(v >> 32);
        if (f >= e)
            return 0;
        uint64_t nv = front ? ((uint64_t)e << 32) | (f + 1) : ((uint64_t)(e - 1) << 32) | f;
        if (atomic_compare_exchange_weak(&j->lane[l], &v, nv)) {
            *chunk = front ? f : e - 1;
            return 1;
        }
    }
}

static int has_work(job *j)
{
    for (int l = 0; l < j->nlanes; l++) {
        uint64_t v = atomic_load(&j->lane[l]);
        if ((uint32_t)v < (uint32_t)(v >> 32))
            return 1;
    }
    return 0;
}

static void work_on(job *j, int slot)
{
    const int own = slot % j->nlanes;
    size_t c;
    for (int k = 0; k < j->nlanes; k++) {
        int l = (own + k) % j->nlanes;
        while (lane_take(j, l, k == 0, &c)) {
            size_t b = c * j->grain, e = b + j->grain < j->n ? b + j->grain : j->n;
            j->fn(j->ctx, b, e, slot);
        }
    }
}

static void *worker_main(void *arg)
{
    enh_pool *p = arg;
    lock(p);
    for (;;) {
        if (!p->stop && !p->jobs) {
            post_watch w = {p, atomic_load_explicit(&p->posted, memory_order_acquire)};
            pthread_mutex_unlock(&p->mu);
            poll_until(p->spin_us, posted_since, &w); /* the next layer usually comes at once */
            lock(p);
            while (!p->stop && !p->jobs) {
                p->sleepers++;
                pthread_cond_wait(&p->work, &p->mu);
                p->sleepers--;
            }
        }
        if (p->stop)
            break;
        job *j = p->jobs;
        if (!has_work(j)) {
            unlist(p, j);
            continue;
        }
        atomic_fetch_add(&j->helpers, 1);
        int slot = ++j->slots;
        pthread_mutex_unlock(&p->mu);
        work_on(j, slot);
        lock(p);
        unlist(p, j);
        atomic_fetch_sub_explicit(&j->helpers, 1, memory_order_release); /* j may be gone now */
        if (p->waiters)
            pthread_cond_broadcast(&p->left);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Default poll before sleeping, in us (pool.h says why 200). Read at create. */
static _Atomic double g_spin_us = 200;

void enh_pool_set_spin_us(double us) { atomic_store(&g_spin_us, us < 0 ? 0 : us); }

enh_pool *enh_pool_create(int nthreads)
{
    if (nthreads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (int)n : 1;
    }
    enh_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->nthreads = nthreads;
    p->spin_us = atomic_load(&g_spin_us);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->left, NULL);
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    for (int i = 0; i < nthreads - 1; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            p->nthreads = i + 1;
            enh_pool_destroy(p);
            return NULL;
        }
    }
    return p;
}

void enh_pool_destroy(enh_pool *p)
{
    if (!p)
        return;
    lock(p);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads - 1; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->left);
    free(p->threads);
    free(p);
}

int enh_pool_threads(const enh_pool *p) { return p ? p->nthreads : 1; }

void enh_pool_run(enh_pool *p, size_t n, size_t grain, enh_range_fn fn, void *ctx)
{
    if (n == 0)
        return;
    if (grain == 0)
        grain = 1;
    if (!p || p->nthreads <= 1 || n <= grain) {
        fn(ctx, 0, n, 0);
        return;
    }
    size_t chunks = (n + grain - 1) / grain;
    if (chunks > UINT32_MAX) { /* lanes count chunks in 32 bits */
        grain = (n + UINT32_MAX - 1) / UINT32_MAX;
        chunks = (n + grain - 1) / grain;
    }
    job j = {.fn = fn, .ctx = ctx, .n = n, .grain = grain, .listed = 1};
    j.nlanes = p->nthreads < MAX_LANES ? p->nthreads : MAX_LANES;
    if ((size_t)j.nlanes > chunks)
        j.nlanes = (int)chunks;
    for (int l = 0; l < j.nlanes; l++) {
        uint64_t f = chunks * (size_t)l / (size_t)j.nlanes, e = chunks * (size_t)(l + 1) / (size_t)j.nlanes;
        atomic_init(&j.lane[l], (e << 32) | f);
    }
    lock(p);
    j.next_job = NULL;
    job **tail = &p->jobs;
    while (*tail)
        tail = &(*tail)->next_job;
    *tail = &j;
    if (p->sleepers)
        pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    /* after the unlock, so that a polling worker does not then sleep on the mutex */
    atomic_fetch_add_explicit(&p->posted, 1, memory_order_release);

    work_on(&j, 0);

    lock(p);
    unlist(p, &j); /* no helper joins from here on */
    pthread_mutex_unlock(&p->mu);
    if (!poll_until(p->spin_us, no_helpers, &j)) {
        lock(p);
        p->waiters++;
        while (atomic_load_explicit(&j.helpers, memory_order_acquire) > 0)
            pthread_cond_wait(&p->left, &p->mu);
        p->waiters--;
        pthread_mutex_unlock(&p->mu);
    }
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static enh_pool *g_pool;
static int g_default_threads = 0;
static atomic_int g_created = 0;

static void make_default(void)
{
    g_pool = enh_pool_create(g_default_threads);
    atomic_store(&g_created, 1);
}

enh_pool *enh_pool_default(void)
{
    pthread_once(&g_once, make_default);
    return g_pool;
}

int enh_pool_default_set_threads(int nthreads)
{
    if (atomic_load(&g_created))
        return -1;
    g_default_threads = nthreads;
    return 0;
}
