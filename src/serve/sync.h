/* sync.h - small pthread helpers for the server: monotonic condition variables whose
 * timed waits take enh_now() seconds. Header-only; thread-safe as pthreads are. */
#ifndef ENH_SERVE_SYNC_H
#define ENH_SERVE_SYNC_H

#include <pthread.h>
#include <time.h>

static inline void serve_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* Waits until `until` (enh_now() seconds, i.e. CLOCK_MONOTONIC). */
static inline void serve_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, double until)
{
    struct timespec ts;
    if (until < 0)
        until = 0;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, mu, &ts);
}

#endif
