/* mem_latency.c - load-to-load latency of this core's memory hierarchy: a pointer chase through
 * a random cyclic permutation of 64-byte lines, for working sets from 32 KiB to 128 MiB. Run it
 * pinned to each CPU in turn (taskset -c N) to see whether the vCPUs get the same caches: on a
 * shared VM one vCPU's last-level cache can be much smaller than the other's (neighbours), which
 * makes it slower on the conv layers even though its arithmetic rate is the same.
 *   mem_latency [--max-mib M]      (default 128) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static unsigned long long g_rng = 88172645463325252ull;
static volatile size_t g_sink; /* the chase's end: keeps the loads from being optimised away */
static size_t rnd(size_t n)
{
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (size_t)(g_rng % n);
}

int main(int argc, char **argv)
{
    size_t max_mib = 128;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max-mib") && i + 1 < argc) {
            max_mib = (size_t)atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: mem_latency [--max-mib M]\n");
            return 1;
        }
    }
    printf("working set   ns per dependent load\n");
    for (size_t bytes = 32 << 10; bytes <= (max_mib << 20); bytes *= 2) {
        size_t n = bytes / 64; /* lines; each holds the index of the next line's first word */
        size_t *a = aligned_alloc(64, n * 64), *perm = malloc(n * sizeof *perm);
        if (!a || !perm) {
            fprintf(stderr, "mem_latency: out of memory at %zu KiB\n", bytes >> 10);
            free(a);
            free(perm);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rnd(i + 1), t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            a[perm[i] * 8] = perm[(i + 1) % n] * 8;
        size_t p = 0;
        for (size_t i = 0; i < n; i++) /* warm the caches and the TLB */
            p = a[p];
        const long loads = 20000000;
        double t0 = now_s();
        for (long i = 0; i < loads; i++)
            p = a[p];
        double ns = (now_s() - t0) / (double)loads * 1e9;
        g_sink = p;
        printf("%8zu KiB   %6.1f\n", bytes >> 10, ns);
        free(a);
        free(perm);
    }
    return 0;
}
