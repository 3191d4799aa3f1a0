/* vcpu_capacity.c - how much CPU this machine really gives N busy threads.
 *
 * Each of N threads spins for D seconds of wall time and reads its own CPU time. On bare
 * metal every thread gets ~100%; on a shared VM the hypervisor takes time from vCPUs that are
 * all busy (steal that the guest may not report: /proc/stat shows 0 here). The sum of the
 * threads' CPU seconds per wall second is the ceiling of any N-thread speedup measured in wall
 * time (measured 2026-11-25 on the 2-vCPU machine: 1 thread 1.00, 2 threads 1.5-1.8).
 *   vcpu_capacity [--threads N] [--seconds D]     (default: 1 and all online CPUs, D = 1)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    double seconds, cpu;
} spin_arg;

static void *spin(void *vp)
{
    spin_arg *a = vp;
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), t0 = clock_s(CLOCK_MONOTONIC);
    volatile unsigned long x = 0;
    while (clock_s(CLOCK_MONOTONIC) - t0 < a->seconds)
        for (int i = 0; i < 1000; i++)
            x++;
    a->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}

static int measure(int n, double seconds)
{
    pthread_t th[256];
    spin_arg args[256];
    if (n < 1 || n > 256)
        return 1;
    double t0 = clock_s(CLOCK_MONOTONIC);
    for (int i = 0; i < n; i++) {
        args[i].seconds = seconds;
        if (pthread_create(&th[i], NULL, spin, &args[i]) != 0)
            return 1;
    }
    double total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += args[i].cpu;
    }
    double wall = clock_s(CLOCK_MONOTONIC) - t0;
    printf("%d busy thread%s: %.2f CPU-seconds per wall second (%.0f%% of %d)\n", n, n > 1 ? "s" : "", total / wall,
           100 * total / wall / n, n);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 0;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: vcpu_capacity [--threads N] [--seconds D]\n");
            return 1;
        }
    }
    if (threads > 0)
        return measure(threads, seconds);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return measure(1, seconds) || (n > 1 && measure((int)n, seconds));
}
