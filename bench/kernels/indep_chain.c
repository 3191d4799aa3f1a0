/* indep_chain.c - what splitting each layer between threads costs, against threads that
 * share nothing. A chain of L 3x3 conv layers (different weights per layer, activations
 * ping-ponging between two buffers, each plan prefetching the next one's weights, as the model
 * executor runs them) is timed per layer in four ways, alternating, R rounds:
 *   alone   one thread pinned to CPU c, for each c < N (its own plans, buffers, 1-thread pool);
 *   apart   N such threads at once, each pinned to its CPU: one process, nothing shared, no waits;
 *   joined  as apart, but all threads meet at a spinning barrier after every layer;
 *   split   one pool of N threads running ONE chain, each layer cut between them (the executor).
 * apart and joined run N images at once; their per-image figure (1 / the sum of the threads'
 * rates) is what a perfect split could reach on this machine at this moment. Measured
 * 2026-11-26 on the 2-vCPU machine, 64x64 and 64 channels, ms per layer: alone 0.50-0.61,
 * apart 0.27-0.30 per image, joined 0.27-0.32 per image, split 0.27-0.34 (bench/README.md,
 * "Thread scaling, sixth pass").
 * --rows H: images of S wide and H high (default H = S); --rows 32 --size 64 gives each thread of
 * apart / joined the rows one thread of a 64x64 split runs. --fixed-input: every layer reads
 * the same buffer and writes the other, so no thread reads rows another thread wrote.
 *   indep_chain [--threads N] [--size S] [--rows H] [--channels C] [--chain L] [--runs R] [--rounds K]
 *               [--fixed-input]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "nn/conv.h"

enum { ALONE, APART, JOINED, SPLIT };

typedef struct {
    int size, rows, ch, layers, runs, nthreads, ncpu;
    int fixed_input; /* every layer reads buffer 0 and writes buffer 1: no row is read after
                        another thread wrote it (what the split's shared edges cost) */
    _Alignas(64) _Atomic long arrived; /* joined: threads past the barrier, over all layers */
    _Atomic int abandon;                 /* joined: a thread could not start; nobody waits */
} setup;

typedef struct {
    setup *s;
    int cpu;            /* pin to this CPU, or -1 */
    int join;           /* meet the others after every layer */
    enh_pool *pool;     /* NULL: a 1-thread pool of its own */
    double ms_per_layer; /* median over the runs */
    int failed;
} chain_arg;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void *run_chain(void *va)
{
    chain_arg *a = va;
    setup *s = a->s;
    if (a->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(a->cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    enh_pool *pool = a->pool ? a->pool : enh_pool_create(1);
    enh_conv_plan **pl = calloc((size_t)s->layers, sizeof *pl);
    size_t nw = (size_t)s->ch * s->ch * 9, npix = (size_t)s->ch * s->rows * s->size;
    float *w = malloc(nw * sizeof *w), *bias = calloc((size_t)s->ch, sizeof *bias);
    float *buf[2] = {enh_alloc(npix * sizeof(float)), enh_alloc(npix * sizeof(float))};
    double *t = malloc((size_t)s->runs * sizeof *t);
    a->failed = !pool || !pl || !w || !bias || !buf[0] || !buf[1] || !t;
    unsigned seed = 12345u + (unsigned)a->cpu;
    for (int q = 0; q < s->layers && !a->failed; q++) {
        for (size_t i = 0; i < nw; i++) {
            seed = seed * 1664525u + 1013904223u;
            w[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.1f;
        }
        enh_conv_params p = {.cin = s->ch, .cout = s->ch, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                             .dil_h = 1, .dil_w = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,
                             .pad_right = 1, .groups = 1, .act = ENH_ACT_LEAKY, .act_slope = 0.2f,
                             .weight = w, .bias = bias};
        enh_error err;
        a->failed = enh_conv_plan_create(&p, &pl[q], &err) != ENH_OK;
    }
    for (size_t i = 0; !a->failed && i < npix; i++)
        buf[0][i] = buf[1][i] = (float)(i % 97) * 0.01f;
    long gen = 0;
    for (int r = -1; r < s->runs && !a->failed; r++) { /* run -1 warms up */
        double t0 = now_ms();
        for (int q = 0; q < s->layers; q++) {
            int src = s->fixed_input ? 0 : q & 1;
            enh_conv_plan_run_ex(pl[q], buf[src], 1, s->rows, s->size, buf[src ^ 1], NULL, pool, NULL, NULL,
                                 pl[(q + 1) % s->layers], NULL, 0);
            if (a->join) { /* spinning barrier: everyone's (gen+1)-th arrival */
                gen++;
                atomic_fetch_add(&s->arrived, 1);
                while (atomic_load(&s->arrived) < gen * s->nthreads && !atomic_load(&s->abandon))
                    ;
            }
        }
        if (r >= 0)
            t[r] = (now_ms() - t0) / s->layers;
    }
    if (!a->failed) {
        qsort(t, (size_t)s->runs, sizeof *t, cmp_d);
        a->ms_per_layer = t[s->runs / 2];
    }
    for (int q = 0; pl && q < s->layers; q++)
        enh_conv_plan_free(pl[q]);
    free(pl);
    free(w);
    free(bias);
    free(t);
    enh_free(buf[0]);
    enh_free(buf[1]);
    if (!a->pool)
        enh_pool_destroy(pool);
    return NULL;
}

/* Runs `mode` once; fills ms[] (one per thread, or ms[0] for ALONE on cpu / SPLIT). */
static int run_mode(setup *s, int mode, int cpu, double *ms)
{
    chain_arg args[64];
    pthread_t th[64];
    int n = mode == APART || mode == JOINED ? s->nthreads : 1, failed = 0;
    atomic_store(&s->arrived, 0);
    atomic_store(&s->abandon, 0);
    enh_pool *shared = mode == SPLIT ? enh_pool_create(s->nthreads) : NULL;
    if (mode == SPLIT && !shared)
        return -1;
    for (int i = 0; i < n; i++) {
        args[i] = (chain_arg){.s = s, .cpu = mode == ALONE ? cpu : mode == SPLIT ? -1 : i % s->ncpu,
                              .join = mode == JOINED, .pool = shared};
        if (pthread_create(&th[i], NULL, run_chain, &args[i]) != 0) {
            atomic_store(&s->abandon, 1); /* the started ones must not wait for it */
            n = i;
            failed = 1;
            break;
        }
    }
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        failed |= args[i].failed;
        ms[i] = args[i].ms_per_layer;
    }
    enh_pool_destroy(shared);
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    setup s = {.size = 64, .ch = 64, .layers = 48, .runs = 15, .nthreads = 2};
    int rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fixed-input")) {
            s.fixed_input = 1;
            continue;
        }
        int *dst = !strcmp(argv[i], "--threads")    ? &s.nthreads
                   : !strcmp(argv[i], "--rows")     ? &s.rows
                   : !strcmp(argv[i], "--size")     ? &s.size
                   : !strcmp(argv[i], "--channels") ? &s.ch
                   : !strcmp(argv[i], "--chain")    ? &s.layers
                   : !strcmp(argv[i], "--runs")     ? &s.runs
                   : !strcmp(argv[i], "--rounds")   ? &rounds
                                                    : NULL;
        if (!dst || i + 1 >= argc || (*dst = atoi(argv[++i])) < 1) {
            fprintf(stderr, "usage: indep_chain [--threads N] [--size S] [--rows H] [--channels C] "
                            "[--chain L] [--runs R] [--rounds K] [--fixed-input]   (numbers >= 1)\n");
            return 2;
        }
    }
    if (s.nthreads > 64)
        s.nthreads = 64;
    if (!s.rows)
        s.rows = s.size;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s.ncpu = ncpu > 0 ? (int)ncpu : 1;
    printf("indep_chain: %d layers %dx%d (w x h), %d -> %d channels, %d threads, %d rounds of %d runs%s; "
           "ms per layer\n",
           s.layers, s.size, s.rows, s.ch, s.ch, s.nthreads, rounds, s.runs,
           s.fixed_input ? ", fixed input" : "");
    for (int r = 0; r < rounds; r++) {
        double ms[64];
        printf("round %d: alone", r + 1);
        for (int c = 0; c < s.nthreads; c++) {
            if (run_mode(&s, ALONE, c % s.ncpu, ms) != 0)
                goto fail;
            printf(" cpu%d %.3f", c % s.ncpu, ms[0]);
        }
        for (int mode = APART; mode <= JOINED; mode++) {
            if (run_mode(&s, mode, 0, ms) != 0)
                goto fail;
            double rate = 0; /* images per ms, all threads together */
            printf(" | %s", mode == APART ? "apart" : "joined");
            for (int i = 0; i < s.nthreads; i++) {
                printf(" %.3f", ms[i]);
                rate += 1 / ms[i];
            }
            printf(" (%.3f per image)", 1 / rate);
        }
        if (run_mode(&s, SPLIT, 0, ms) != 0)
            goto fail;
        printf(" | split %.3f\n", ms[0]);
        fflush(stdout);
    }
    return 0;
fail:
    fprintf(stderr, "indep_chain: out of memory or no threads\n");
    return 1;
}
