/* core_pingpong.c - how long one cache line takes to go from one core to another and back.
 *
 * Two threads hand a counter back and forth through one cache line (each waits, polling, for
 * the other's increment). The round trip is the floor of any hand-off between the pool's
 * threads and the price of every line one core writes and the other then reads (a layer's
 * halo rows, a stolen block's output). Measured 2026-11-25 on the 2-vCPU machine: 490-740 ns,
 * a cross-die figure (cores sharing an L3 answer in well under 100 ns), so the two vCPUs do
 * not share a last-level cache.
 *   core_pingpong [--trips N]      (default 1000000)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Alignas(64) _Atomic long g_flag;
static long g_trips = 1000000;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *pong(void *arg)
{
    (void)arg;
    for (long i = 0; i < g_trips; i++) {
        while (atomic_load_explicit(&g_flag, memory_order_acquire) != 2 * i + 1)
            ;
        atomic_store_explicit(&g_flag, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--trips") && i + 1 < argc) {
            g_trips = atol(argv[++i]);
        } else {
            fprintf(stderr, "usage: core_pingpong [--trips N]\n");
            return 2;
        }
    }
    if (g_trips < 1)
        g_trips = 1;
    pthread_t t;
    if (pthread_create(&t, NULL, pong, NULL) != 0) {
        fprintf(stderr, "core_pingpong: cannot start a thread\n");
        return 1;
    }
    double t0 = now_s();
    for (long i = 0; i < g_trips; i++) {
        atomic_store_explicit(&g_flag, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&g_flag, memory_order_acquire) != 2 * i + 2)
            ;
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    printf("cache-line round trip between two threads: %.1f ns (%ld trips)\n", dt / (double)g_trips * 1e9, g_trips);
    return 0;
}
