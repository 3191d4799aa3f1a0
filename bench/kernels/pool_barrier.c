/* pool_barrier.c - how far N threads of our pool can scale on jobs of a given length that follow
 * each other with a join in between (a network's layers), with pure arithmetic and no memory
 * traffic: the ceiling that scheduling, hand-offs and the machine leave to the conv kernels.
 *
 * A job is 8 * N chunks of equal arithmetic (dependent multiply-adds on registers); its
 * 1-thread time L is swept from 0.1 to 16 ms. For each L, pools of 1 and N threads run the same
 * jobs back to back, alternating R rounds; the speedup is the median 1-thread time over the
 * median N-thread time. On a shared VM every vCPU the hypervisor takes away for a moment stalls
 * the whole job at its join, so short jobs scale worse than long ones even with perfect
 * kernels (compare vcpu_capacity, which has no joins).
 *   pool_barrier [--threads N] [--rounds R]          (default N = online CPUs, R = 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"
#include "core/fsutil.h" /* enh_now */

static volatile double g_sink;

/* `iters` dependent multiply-adds: time proportional to iters, no memory traffic */
static void chunk_work(void *ctx, size_t b, size_t e, int slot)
{
    (void)slot;
    const long iters = *(const long *)ctx;
    for (size_t c = b; c < e; c++) {
        double x = 1.0 + (double)c * 1e-9, y = 0.999999;
        for (long i = 0; i < iters; i++)
            x = x * y + 1e-9;
        g_sink = x;
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* seconds per job, median over `rounds` batches of `jobs` jobs */
static double time_jobs(enh_pool *p, size_t chunks, long iters, int jobs, int round, double *per_round)
{
    double t0 = enh_now();
    for (int k = 0; k < jobs; k++)
        enh_pool_run(p, chunks, 1, chunk_work, &iters);
    per_round[round] = (enh_now() - t0) / jobs;
    return per_round[round];
}

int main(int argc, char **argv)
{
    int threads = 0, rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: pool_barrier [--threads N] [--rounds R]\n");
            return 1;
        }
    }
    enh_pool *pn = enh_pool_create(threads), *p1 = enh_pool_create(1);
    if (!pn || !p1 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "pool_barrier: cannot create the pools\n");
        return 1;
    }
    const int nt = enh_pool_threads(pn);
    const size_t chunks = 8 * (size_t)nt;
    /* calibrate: iterations per microsecond on one thread */
    long cal = 1000000;
    double t0 = enh_now();
    chunk_work(&cal, 0, 1, 0);
    double per_us = (double)cal / ((enh_now() - t0) * 1e6);
    printf("pool_barrier: %d threads, jobs of %zu equal chunks, %d rounds (medians)\n", nt, chunks, rounds);
    printf("%10s %8s %12s %12s %9s\n", "job (1t)", "jobs", "1 thread us", "N threads us", "speedup");
    static const double lens_ms[] = {0.1, 0.25, 0.5, 1, 4, 16};
    for (size_t li = 0; li < sizeof lens_ms / sizeof lens_ms[0]; li++) {
        long iters = (long)(lens_ms[li] * 1000.0 * per_us / (double)chunks);
        int jobs = (int)(300.0 / lens_ms[li]); /* ~0.3 s of 1-thread work per round */
        double a[64], b[64];
        for (int r = 0; r < rounds; r++) {
            time_jobs(p1, chunks, iters, jobs, r, a);
            time_jobs(pn, chunks, iters, jobs, r, b);
        }
        qsort(a, (size_t)rounds, sizeof *a, cmp_d);
        qsort(b, (size_t)rounds, sizeof *b, cmp_d);
        double m1 = a[rounds / 2], mn = b[rounds / 2];
        printf("%7.2f ms %8d %12.1f %12.1f %8.2fx\n", lens_ms[li], jobs, m1 * 1e6, mn * 1e6, m1 / mn);
    }
    enh_pool_destroy(pn);
    enh_pool_destroy(p1);
    return 0;
}
