/* loadgen_bounded.c - serve_loadgen's bounded runs (--plan; loadgen.h, loadgen.c's header). */
#include "loadgen.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long g_next;  /* the next request's number */
static double g_t_start;    /* when request 0 was due */
static volatile sig_atomic_t g_signalled;

static void sleep_until(double t);

static void on_signal(int sig)
{
    (void)sig;
    g_signalled = 1;
}

typedef struct body {
    unsigned char *b;
    size_t n, cap;
} body;

static size_t keep(char *p, size_t s, size_t n, void *u)
{
    body *b = u;
    size_t len = s * n;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *nb = realloc(b->b, cap);
        if (!nb)
            return 0;
        b->b = nb;
        b->cap = cap;
    }
    memcpy(b->b + b->n, p, len);
    b->n += len;
    return len;
}

/* Bounded runs: request numbers come from one counter (the plan's order, --requests, the
 * --rate schedule); every answer is checked against its kind (status, pixel size). */
static void *plan_client(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    struct curl_slist *hs[64] = {0};
    body b = {0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    char url[2048];
    while (!atomic_load(&g_stop)) {
        long i = atomic_fetch_add(&g_next, 1);
        if (g.max_requests > 0 && i >= g.max_requests)
            break;
        if (g.rate > 0)
            sleep_until(g_t_start + (double)i / g.rate);
        if (atomic_load(&g_stop))
            break;
        int kidx = (int)(plan_pick(&g.plan, (unsigned long)i) - g.plan.kinds);
        const plan_kind *k = &g.plan.kinds[kidx];
        if (kidx < 64 && !hs[kidx]) {
            char ct[160];
            snprintf(ct, sizeof ct, "Content-Type: %s", k->ctype);
            hs[kidx] = curl_slist_append(NULL, ct);
            hs[kidx] = curl_slist_append(hs[kidx], "Expect:");
            if (g.auth) {
                char a[600];
                snprintf(a, sizeof a, "Authorization: Bearer %s", g.auth);
                hs[kidx] = curl_slist_append(hs[kidx], a);
            }
        }
        snprintf(url, sizeof url, "%s/v1/enhance%s%s", g.url, *k->query ? "?" : "", k->query);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs[kidx < 64 ? kidx : 0]);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, k->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)k->body_len);
        b.n = 0;
        double t0 = now();
        CURLcode rc = curl_easy_perform(c);
        double t1 = now();
        long status = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        atomic_fetch_add(&g_sent, 1);
        int ok = 0, shed = 0;
        if (rc != CURLE_OK) {
            atomic_fetch_add(&g_unanswered, 1);
            fprintf(stderr, "loadgen: #%ld %s: no answer: %s\n", i, k->name, curl_easy_strerror(rc));
        } else if (status == 429 && g.shed_ok) {
            shed = 1;
        } else if (status != k->expect) {
            atomic_fetch_add(&g_unexpected, 1);
            fprintf(stderr, "loadgen: #%ld %s: HTTP %ld, expected %ld: %.200s\n", i, k->name, status, k->expect,
                    status >= 400 && b.n ? (const char *)b.b : "");
        } else if (k->width > 0) {
            int w = 0, h = 0;
            if (image_dims(b.b, b.n, &w, &h) != 0 || w != k->width || h != k->height) {
                atomic_fetch_add(&g_unexpected, 1);
                fprintf(stderr, "loadgen: #%ld %s: answer is %dx%d (%zu bytes), expected %dx%d\n", i, k->name, w,
                        h, b.n, k->width, k->height);
            } else {
                ok = 1;
            }
        } else {
            ok = 1;
        }
        record(t0, t1, kidx, rc == CURLE_OK ? status : 0, ok, !ok && !shed, shed);
    }
    for (int j = 0; j < 64; j++)
        curl_slist_free_all(hs[j]);
    free(b.b);
    curl_easy_cleanup(c);
    return NULL;
}

static void sleep_until(double t)
{
    double d;
    while ((d = t - now()) > 0 && !atomic_load(&g_stop))
        sleep_s(d > 0.05 ? 0.05 : d);
}

/* One bounded run (--plan): until --requests are answered, --duration ends or a signal. */
static void run_bounded(int conc)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old); /* the clients never take the signal */
    g_t_start = now();
    pthread_t *t = calloc((size_t)conc, sizeof *t);
    for (long i = 0; i < conc; i++)
        pthread_create(&t[i], NULL, plan_client, (void *)i);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    for (;;) {
        if (g_signalled || (g.duration > 0 && now() - g_t_start >= g.duration))
            break;
        if (g.max_requests > 0 && atomic_load(&g_sent) >= g.max_requests)
            break;
        sleep_s(0.05);
    }
    atomic_store(&g_stop, 1);
    for (int i = 0; i < conc; i++)
        pthread_join(t[i], NULL);
    free(t);
    double t_end = now();
    if (g.csv) {
        FILE *f = fopen(g.csv, "w");
        if (f) {
            fprintf(f, "start_s,end_s,kind,status,result\n");
            for (size_t i = 0; i < g_nrec; i++) {
                const rec *r = &g_recs[i];
                fprintf(f, "%.4f,%.4f,%d,%ld,%s\n", r->end - r->latency, r->end, r->kind, r->status,
                        r->ok ? "ok" : r->shed ? "shed" : r->status ? "wrong" : "noanswer");
            }
            fclose(f);
        } else {
            perror(g.csv);
        }
    }
    printf("| kind | sent | ok | shed (429) | wrong | p50 ms | p99 ms |\n");
    printf("|------|------|----|------------|-------|--------|--------|\n");
    double *lat = malloc((g_nrec + 1) * sizeof *lat);
    for (int k = -1; k < g.plan.nkinds; k++) {
        int n = 0, sent = 0, shed = 0, bad = 0;
        for (size_t i = 0; i < g_nrec; i++) {
            if (k >= 0 && g_recs[i].kind != k)
                continue;
            sent++;
            shed += g_recs[i].shed;
            bad += g_recs[i].bad;
            if (g_recs[i].ok)
                lat[n++] = g_recs[i].latency;
        }
        qsort(lat, (size_t)n, sizeof *lat, cmp_d);
        printf("| %s | %d | %d | %d | %d | %.0f | %.0f |\n", k < 0 ? "all" : g.plan.kinds[k].name, sent, n, shed, bad,
               pct(lat, n, 50) * 1000, pct(lat, n, 99) * 1000);
    }
    free(lat);
    printf("# %.1f s, %.2f answers/s\n", t_end - g_t_start, g_nrec / (t_end - g_t_start));
}


int run_bounded_main(const char *plan_path, int c)
{
    if (plan_load(plan_path, &g.plan) != 0)
        return 2;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("# %s/v1/enhance, plan %s (%d kinds), %d clients%s%s\n", g.url, plan_path, g.plan.nkinds, c,
           g.rate > 0 ? ", open loop" : "", g.shed_ok ? ", 429 = shed" : "");
    run_bounded(c);
    long sent = atomic_load(&g_sent), un = atomic_load(&g_unanswered), bad = atomic_load(&g_unexpected);
    printf("# requests: %ld sent, %ld unanswered, %ld with an unexpected status or size\n", sent, un, bad);
    plan_free(&g.plan);
    free(g_recs);
    curl_global_cleanup();
    return un || bad ? 1 : 0;
}
