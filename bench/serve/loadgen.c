/* loadgen.c - closed-loop HTTP load generator for `enhance serve`, perf_analyzer-style.
 *
 * For each concurrency level, N client threads send requests back to back (one keep-alive
 * connection each). Time is cut into measurement windows; a level is reported once the
 * last `--stable-windows` windows agree within --stability (throughput and p99), or after
 * --max-windows. Printed per level: throughput (images/s), p50/p90/p99/max latency, errors.
 *
 *   serve_loadgen --url http://127.0.0.1:8080 --image in.jpg --query 'upscale=photo&scale=2&format=jpeg' \
 *                 --concurrency 1,2,4,8,16 --window 10
 *   serve_loadgen ... --mix --duration 600     (soak: mixed valid/invalid requests, one level)
 *
 * Bounded runs (the fleet test, deploy/local/fleet.py): --plan FILE sends a fixed mix of
 * request kinds (images, operations, expected status and answer size: loadgen_plan.h) and
 * checks each answer's pixel size from its bytes; --requests N stops after N requests;
 * --rate R issues them open-loop at R requests/s (arrivals do not wait for answers, up to
 * --concurrency outstanding); --csv FILE writes one line per request (CLOCK_MONOTONIC start
 * and end, so another process can cut the run into phases); --shed-ok counts 429 as shed
 * load instead of an error. SIGTERM/SIGINT stop sending, let the requests in flight finish
 * and print the summary. Such a run is one level (the first --concurrency value).
 *
 * Exit status: 0 when every request got an HTTP answer of the expected class, 1 otherwise.
 */
#include "loadgen.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

loadgen_opts g;

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
rec *g_recs;
size_t g_nrec, g_cap;
atomic_int g_stop;
atomic_long g_unanswered, g_unexpected, g_sent;
static atomic_long g_by_kind_ok[8], g_by_kind_n[8];

double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* Request kinds of --mix (soak): expected HTTP status for each. */
typedef struct kind {
    const char *name, *query;
    int body; /* 0 image, 1 garbage */
    long expect;
} kind;
static const kind k_kinds[] = {
    {"valid", NULL, 0, 200},
    {"valid-resize", "width=50%25&format=png", 0, 200},
    {"bad-key", "upscale=photo&sclae=2", 0, 400},
    {"garbage-body", NULL, 1, 415},
    {"bad-value", "exposure=900", 0, 400},
    {"valid", NULL, 0, 200},
    {"impossible", "fit=pad&width=10", 0, 422},
};
#define NKINDS (sizeof k_kinds / sizeof k_kinds[0])

static void *client(void *arg)
{
    long id = (long)arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char ct[160];
    snprintf(ct, sizeof ct, "Content-Type: %s", g.ctype);
    h = curl_slist_append(h, ct);
    h = curl_slist_append(h, "Expect:");
    if (g.auth) {
        char a[600];
        snprintf(a, sizeof a, "Authorization: Bearer %s", g.auth);
        h = curl_slist_append(h, a);
    }
    static const char garbage[] = "this is not an image, just some text pretending to be one";
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    unsigned long n = (unsigned long)id * 7919;
    char url[2048];
    while (!atomic_load(&g_stop)) {
        const kind *k = g.mix ? &k_kinds[n++ % NKINDS] : &k_kinds[0];
        const char *q = k->query ? k->query : g.query;
        snprintf(url, sizeof url, "%s/v1/enhance%s%s", g.url, q && *q ? "?" : "", q ? q : "");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, k->body ? garbage : g.image);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(k->body ? sizeof garbage - 1 : g.image_len));
        double t0 = now();
        CURLcode rc = curl_easy_perform(c);
        double t1 = now();
        long status = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        atomic_fetch_add(&g_sent, 1);
        int kidx = (int)(k - k_kinds);
        atomic_fetch_add(&g_by_kind_n[kidx], 1);
        if (rc != CURLE_OK) {
            atomic_fetch_add(&g_unanswered, 1);
            fprintf(stderr, "loadgen: no answer: %s\n", curl_easy_strerror(rc));
        } else if (status != k->expect) {
            atomic_fetch_add(&g_unexpected, 1);
            fprintf(stderr, "loadgen: %s got HTTP %ld, expected %ld\n", k->name, status, k->expect);
        } else {
            atomic_fetch_add(&g_by_kind_ok[kidx], 1);
        }
        record(t0, t1, kidx, status, status == 200 && status == k->expect, status != k->expect, 0);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

void record(double t0, double t1, int kind, long status, int ok, int bad, int shed)
{
    pthread_mutex_lock(&g_mu);
    if (g_nrec == g_cap) {
        g_cap = g_cap ? g_cap * 2 : 4096;
        g_recs = realloc(g_recs, g_cap * sizeof *g_recs);
    }
    g_recs[g_nrec++] = (rec){t1, t1 - t0, ok, bad, kind, status, shed};
    pthread_mutex_unlock(&g_mu);
}

int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct stats {
    double thr, p50, p90, p99, max;
    int n, errors;
} stats;

double pct(const double *v, int n, double p)
{
    if (n == 0)
        return 0;
    int i = (int)ceil(p / 100.0 * n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* Successful requests that completed in [t0, t1). */
static stats window_stats(double t0, double t1)
{
    stats s = {0};
    pthread_mutex_lock(&g_mu);
    double *lat = malloc((g_nrec + 1) * sizeof *lat);
    for (size_t i = 0; i < g_nrec; i++) {
        if (g_recs[i].end < t0 || g_recs[i].end >= t1)
            continue;
        if (g_recs[i].ok)
            lat[s.n++] = g_recs[i].latency;
        if (g_recs[i].bad)
            s.errors++;
    }
    pthread_mutex_unlock(&g_mu);
    qsort(lat, (size_t)s.n, sizeof *lat, cmp_d);
    s.thr = s.n / (t1 - t0);
    s.p50 = pct(lat, s.n, 50);
    s.p90 = pct(lat, s.n, 90);
    s.p99 = pct(lat, s.n, 99);
    s.max = s.n ? lat[s.n - 1] : 0;
    free(lat);
    return s;
}

static int stable(const stats *w, int k, int count)
{
    if (count < k)
        return 0;
    double mt = 0, ml = 0;
    for (int i = count - k; i < count; i++) {
        mt += w[i].thr;
        ml += w[i].p99;
    }
    mt /= k;
    ml /= k;
    if (mt <= 0)
        return 0;
    for (int i = count - k; i < count; i++)
        if (fabs(w[i].thr - mt) > g.stability * mt || fabs(w[i].p99 - ml) > g.stability * ml)
            return 0;
    return 1;
}

void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static int run_level(int conc)
{
    atomic_store(&g_stop, 0);
    pthread_mutex_lock(&g_mu);
    g_nrec = 0;
    pthread_mutex_unlock(&g_mu);
    pthread_t *t = calloc((size_t)conc, sizeof *t);
    for (long i = 0; i < conc; i++)
        pthread_create(&t[i], NULL, client, (void *)i);
    sleep_s(g.warmup);
    stats w[256];
    int count = 0, ok = 0;
    double start = now();
    if (g.duration > 0) { /* soak: fixed duration, one window per --window for the log */
        while (now() - start < g.duration && count < 256) {
            double t0 = now();
            sleep_s(g.window);
            w[count] = window_stats(t0, now());
            fprintf(stderr, "  t=%5.0fs window: %.2f img/s p50 %.0f ms p99 %.0f ms unexpected %d\n", now() - start,
                    w[count].thr, w[count].p50 * 1000, w[count].p99 * 1000, w[count].errors);
            count++;
        }
        ok = 1;
    } else {
        while (count < g.max_windows) {
            double t0 = now();
            sleep_s(g.window);
            w[count++] = window_stats(t0, now());
            if ((ok = stable(w, g.stable_windows, count)))
                break;
        }
    }
    double t_end = now();
    atomic_store(&g_stop, 1);
    for (int i = 0; i < conc; i++)
        pthread_join(t[i], NULL);
    free(t);
    int k = ok && g.duration <= 0 ? g.stable_windows : count;
    double t_first = t_end - k * g.window;
    stats s = window_stats(t_first, t_end + 1e-9);
    s.thr = s.n / (t_end - t_first);
    printf("| %4d | %8.2f | %8.1f | %8.1f | %8.1f | %8.1f | %6d | %d/%d%s |\n", conc, s.thr, s.p50 * 1000,
           s.p90 * 1000, s.p99 * 1000, s.max * 1000, s.errors, k, count, ok ? "" : " UNSTABLE");
    fflush(stdout);
    return ok;
}

static void usage(void)
{
    fprintf(stderr, "usage: serve_loadgen --url URL --image FILE [--query Q] [--content-type T] [--api-key K]\n"
                    "       [--concurrency 1,2,4,8,16] [--window S] [--stability F] [--stable-windows N]\n"
                    "       [--max-windows N] [--warmup S] [--mix --duration S]\n"
                    "       serve_loadgen --url URL --plan FILE [--requests N] [--rate R] [--duration S]\n"
                    "       [--concurrency C] [--csv FILE] [--shed-ok]\n");
}

int main(int argc, char **argv)
{
    g.window = 5;
    g.stability = 0.10;
    g.stable_windows = 3;
    g.max_windows = 10;
    g.warmup = 2;
    g.ctype = "image/jpeg";
    const char *conc = "1,2,4,8,16", *image = NULL, *plan_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--mix")) {
            g.mix = 1;
            continue;
        }
        if (!strcmp(a, "--shed-ok")) {
            g.shed_ok = 1;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--url"))
            g.url = v;
        else if (!strcmp(a, "--image"))
            image = v;
        else if (!strcmp(a, "--query"))
            g.query = v;
        else if (!strcmp(a, "--content-type"))
            g.ctype = v;
        else if (!strcmp(a, "--api-key"))
            g.auth = v;
        else if (!strcmp(a, "--concurrency"))
            conc = v;
        else if (!strcmp(a, "--window"))
            g.window = atof(v);
        else if (!strcmp(a, "--stability"))
            g.stability = atof(v);
        else if (!strcmp(a, "--stable-windows"))
            g.stable_windows = atoi(v);
        else if (!strcmp(a, "--max-windows"))
            g.max_windows = atoi(v);
        else if (!strcmp(a, "--warmup"))
            g.warmup = atof(v);
        else if (!strcmp(a, "--duration"))
            g.duration = atof(v);
        else if (!strcmp(a, "--plan"))
            plan_path = v;
        else if (!strcmp(a, "--requests"))
            g.max_requests = atol(v);
        else if (!strcmp(a, "--rate"))
            g.rate = atof(v);
        else if (!strcmp(a, "--csv"))
            g.csv = v;
        else {
            usage();
            return 2;
        }
    }
    if (plan_path) {
        if (!g.url || g.mix || image) {
            usage();
            return 2;
        }
        int c = atoi(conc);
        return run_bounded_main(plan_path, c > 0 ? c : 1);
    }
    if (!g.url || !image || g.window <= 0 || g.stable_windows < 1 || g.max_windows < g.stable_windows) {
        usage();
        return 2;
    }
    FILE *f = fopen(image, "rb");
    if (!f) {
        perror(image);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    g.image_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    g.image = malloc(g.image_len);
    if (fread(g.image, 1, g.image_len, f) != g.image_len) {
        fclose(f);
        return 2;
    }
    fclose(f);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("# %s/v1/enhance?%s  image %s (%zu bytes)  window %.1f s, stable = last %d windows within %.0f%%%s\n",
           g.url, g.query ? g.query : "", image, g.image_len, g.window, g.stable_windows, g.stability * 100,
           g.mix ? ", MIXED valid/invalid requests" : "");
    printf("| conc | img/s    | p50 ms   | p90 ms   | p99 ms   | max ms   | errors | windows |\n");
    printf("|------|----------|----------|----------|----------|----------|--------|---------|\n");
    char *list = strdup(conc);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
        run_level(atoi(tok));
    free(list);
    long sent = atomic_load(&g_sent), un = atomic_load(&g_unanswered), bad = atomic_load(&g_unexpected);
    printf("# requests: %ld sent, %ld unanswered, %ld with an unexpected status\n", sent, un, bad);
    if (g.mix)
        for (size_t k = 0; k < NKINDS; k++)
            printf("#   %-14s %6ld sent, %6ld as expected (HTTP %ld)\n", k_kinds[k].name,
                   atomic_load(&g_by_kind_n[k]), atomic_load(&g_by_kind_ok[k]), k_kinds[k].expect);
    free(g.image);
    free(g_recs);
    curl_global_cleanup();
    return un || bad ? 1 : 0;
}
