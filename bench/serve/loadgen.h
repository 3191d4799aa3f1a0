/* loadgen.h - what loadgen.c (the concurrency sweep and the soak) and loadgen_bounded.c
 * (bounded runs from a plan: --plan, --requests, --rate, --csv) share: the options, the
 * per-request records and the counters.
 * Ownership: the records array g_recs grows under g_mu and is freed by main.
 * Thread-safety: g is written by main before the client threads start, read-only after;
 * g_recs/g_nrec only under g_mu; the counters are atomics.
 * Errors: none here (run_bounded_main returns the process exit status).
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include "loadgen_plan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct rec {
    double end, latency;
    int ok;  /* HTTP 200 as expected: counted in throughput and latency */
    int bad; /* no answer or not the expected status */
    int kind;   /* plan kind (bounded runs) */
    long status; /* 0 = no answer */
    int shed;   /* 429 under --shed-ok */
} rec;


typedef struct loadgen_opts {
    const char *url, *query;
    char *image;
    size_t image_len;
    const char *ctype, *auth;
    int mix;
    double window, stability, duration, warmup;
    int stable_windows, max_windows;
    plan plan; /* --plan: nkinds > 0 */
    long max_requests;
    double rate;
    const char *csv;
    int shed_ok;
} loadgen_opts;

extern loadgen_opts g;
extern pthread_mutex_t g_mu;
extern rec *g_recs;
extern size_t g_nrec, g_cap;
extern atomic_int g_stop;
extern atomic_long g_unanswered, g_unexpected, g_sent;

double now(void);
void sleep_s(double s);
void record(double t0, double t1, int kind, long status, int ok, int bad, int shed);
int cmp_d(const void *a, const void *b);
double pct(const double *v, int n, double p);
/* The --plan run: loads the plan, runs conc clients, prints the report; the exit status. */
int run_bounded_main(const char *plan_path, int conc);

#endif
