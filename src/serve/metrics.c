/* metrics.c - Prometheus metrics of the server (see metrics.h). */
#include "serve/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fsutil.h"
#include "core/mem.h"
#include "serve/sbuf.h"

#define MAX_MODELS 64
#define MAX_REASONS 16

static const double k_time_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                        2.5,   5,    10,    30,   60,  120};
#define N_TIME (sizeof k_time_buckets / sizeof k_time_buckets[0])
static const double k_batch_buckets[] = {1, 2, 3, 4, 6, 8, 12, 16, 32};
#define N_BATCH (sizeof k_batch_buckets / sizeof k_batch_buckets[0])

typedef struct hist {
    unsigned long long counts[N_TIME + 1]; /* per bucket (not cumulative); last = +Inf only */
    unsigned long long n;
    double sum;
} hist;

typedef struct reason_count {
    char reason[32];
    unsigned long long n;
} reason_count;

typedef struct model_m {
    char name[64];
    unsigned long long success;
    reason_count fails[MAX_REASONS];
    int nfails;
    hist queue, compute, total, batch;
    unsigned long long tiles, batches;
    long inflight, queued;
    double compute_ewma;
} model_m;

typedef struct code_count {
    int code;
    unsigned long long n;
} code_count;

struct serve_metrics {
    pthread_mutex_t mu;
    model_m *models[MAX_MODELS];
    int nmodels;
    code_count codes[32];
    int ncodes;
    int ready, draining;
    double started_unix; /* process_start_time_seconds */
    struct {
        char endpoint[16], decision[16], cls[16];
        unsigned long long n;
    } mod[64]; /* moderation decisions (serve_metrics_moderation) */
    int nmod;
};

serve_metrics *serve_metrics_create(void)
{
    serve_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    m->started_unix = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    return m;
}

void serve_metrics_free(serve_metrics *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nmodels; i++)
        free(m->models[i]);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* Caller holds mu. Returns NULL only when the table is full or on OOM. */
static model_m *get_model(serve_metrics *m, const char *name)
{
    if (!name || !*name)
        name = "none";
    for (int i = 0; i < m->nmodels; i++)
        if (!strcmp(m->models[i]->name, name))
            return m->models[i];
    if (m->nmodels >= MAX_MODELS)
        return NULL;
    model_m *mm = calloc(1, sizeof *mm);
    if (!mm)
        return NULL;
    strncpy(mm->name, name, sizeof mm->name - 1);
    m->models[m->nmodels++] = mm;
    return mm;
}

static void hist_add(hist *h, const double *le, size_t nb, double v)
{
    size_t i = 0;
    while (i < nb && v > le[i])
        i++;
    h->counts[i]++;
    h->n++;
    h->sum += v;
}

void serve_metrics_request_done(serve_metrics *m, const char *model, int success, const char *reason,
                                double queue_s, double compute_s, double total_s)
{
    pthread_mutex_lock(&m->mu);
    model_m *mm = get_model(m, model);
    if (mm) {
        if (success) {
            mm->success++;
            if (compute_s >= 0)
                mm->compute_ewma = mm->compute_ewma > 0 ? 0.8 * mm->compute_ewma + 0.2 * compute_s : compute_s;
        } else {
            if (!reason || !*reason)
                reason = "internal";
            int i;
            for (i = 0; i < mm->nfails; i++)
                if (!strcmp(mm->fails[i].reason, reason))
                    break;
            if (i == mm->nfails && mm->nfails < MAX_REASONS) {
                strncpy(mm->fails[i].reason, reason, sizeof mm->fails[i].reason - 1);
                mm->nfails++;
            }
            if (i < mm->nfails)
                mm->fails[i].n++;
        }
        if (queue_s >= 0)
            hist_add(&mm->queue, k_time_buckets, N_TIME, queue_s);
        if (compute_s >= 0)
            hist_add(&mm->compute, k_time_buckets, N_TIME, compute_s);
        if (total_s >= 0)
            hist_add(&mm->total, k_time_buckets, N_TIME, total_s);
    }
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_tiles(serve_metrics *m, const char *model, int tiles)
{
    pthread_mutex_lock(&m->mu);
    model_m *mm = get_model(m, model);
    if (mm)
        mm->tiles += (unsigned long long)tiles;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_batch(serve_metrics *m, const char *model, int batch_size, double run_s)
{
    (void)run_s;
    pthread_mutex_lock(&m->mu);
    model_m *mm = get_model(m, model);
    if (mm) {
        hist_add(&mm->batch, k_batch_buckets, N_BATCH, batch_size);
        mm->batches++;
    }
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_inflight_add(serve_metrics *m, const char *model, int delta)
{
    pthread_mutex_lock(&m->mu);
    model_m *mm = get_model(m, model);
    if (mm)
        mm->inflight += delta;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_queue_add(serve_metrics *m, const char *model, int delta)
{
    pthread_mutex_lock(&m->mu);
    model_m *mm = get_model(m, model);
    if (mm)
        mm->queued += delta;
    pthread_mutex_unlock(&m->mu);
}

int serve_metrics_queue_depth(serve_metrics *m, const char *model)
{
    pthread_mutex_lock(&m->mu);
    model_m *mm = get_model(m, model);
    int q = mm ? (int)mm->queued : 0;
    pthread_mutex_unlock(&m->mu);
    return q;
}

double serve_metrics_mean_compute(serve_metrics *m, const char *model)
{
    pthread_mutex_lock(&m->mu);
    model_m *mm = get_model(m, model);
    double v = mm ? mm->compute_ewma : 0;
    pthread_mutex_unlock(&m->mu);
    return v;
}

void serve_metrics_http(serve_metrics *m, int status)
{
    pthread_mutex_lock(&m->mu);
    int i;
    for (i = 0; i < m->ncodes; i++)
        if (m->codes[i].code == status)
            break;
    if (i == m->ncodes && m->ncodes < (int)(sizeof m->codes / sizeof m->codes[0])) {
        m->codes[i].code = status;
        m->ncodes++;
    }
    if (i < m->ncodes)
        m->codes[i].n++;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_moderation(serve_metrics *m, const char *endpoint, const char *decision, const char *cls)
{
    pthread_mutex_lock(&m->mu);
    int i;
    for (i = 0; i < m->nmod; i++)
        if (!strcmp(m->mod[i].endpoint, endpoint) && !strcmp(m->mod[i].decision, decision) &&
            !strcmp(m->mod[i].cls, cls))
            break;
    if (i == m->nmod && m->nmod < (int)(sizeof m->mod / sizeof m->mod[0])) {
        snprintf(m->mod[i].endpoint, sizeof m->mod[i].endpoint, "%s", endpoint);
        snprintf(m->mod[i].decision, sizeof m->mod[i].decision, "%s", decision);
        snprintf(m->mod[i].cls, sizeof m->mod[i].cls, "%s", cls);
        m->nmod++;
    }
    if (i < m->nmod)
        m->mod[i].n++;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_set_state(serve_metrics *m, int ready, int draining)
{
    pthread_mutex_lock(&m->mu);
    m->ready = ready;
    m->draining = draining;
    pthread_mutex_unlock(&m->mu);
}

static void render_hist(sbuf *b, const char *name, const char *model, const hist *h, const double *le, size_t nb)
{
    unsigned long long cum = 0;
    for (size_t i = 0; i < nb; i++) {
        cum += h->counts[i];
        sbuf_printf(b, "%s_bucket{model=\"%s\",le=\"%g\"} %llu\n", name, model, le[i], cum);
    }
    sbuf_printf(b, "%s_bucket{model=\"%s\",le=\"+Inf\"} %llu\n", name, model, h->n);
    sbuf_printf(b, "%s_sum{model=\"%s\"} %.6f\n", name, model, h->sum);
    sbuf_printf(b, "%s_count{model=\"%s\"} %llu\n", name, model, h->n);
}

#define HELP(b, name, type, text) sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type)

char *serve_metrics_render(serve_metrics *m)
{
    sbuf b;
    sbuf_init(&b);
    pthread_mutex_lock(&m->mu);

    HELP(&b, "enhance_requests_total", "counter", "Enhance requests by model and outcome (failure reason in reason).");
    for (int i = 0; i < m->nmodels; i++) {
        const model_m *mm = m->models[i];
        sbuf_printf(&b, "enhance_requests_total{model=\"%s\",outcome=\"success\",reason=\"\"} %llu\n", mm->name,
                    mm->success);
        for (int j = 0; j < mm->nfails; j++)
            sbuf_printf(&b, "enhance_requests_total{model=\"%s\",outcome=\"failure\",reason=\"%s\"} %llu\n",
                        mm->name, mm->fails[j].reason, mm->fails[j].n);
    }
    struct {
        const char *name, *help;
        size_t off;
    } hs[] = {
        {"enhance_queue_duration_seconds", "Time a request waited in queues (admission, batcher) before compute.",
         offsetof(model_m, queue)},
        {"enhance_compute_duration_seconds", "Time a request spent in the pipeline (restore, NN, adjust, resize).",
         offsetof(model_m, compute)},
        {"enhance_request_duration_seconds", "End-to-end time from the full request body to the response.",
         offsetof(model_m, total)},
    };
    for (size_t k = 0; k < sizeof hs / sizeof hs[0]; k++) {
        HELP(&b, hs[k].name, "histogram", hs[k].help);
        for (int i = 0; i < m->nmodels; i++)
            render_hist(&b, hs[k].name, m->models[i]->name,
                        (const hist *)((const char *)m->models[i] + hs[k].off), k_time_buckets, N_TIME);
    }
    HELP(&b, "enhance_batch_size", "histogram", "Tiles per network run (dynamic batcher).");
    for (int i = 0; i < m->nmodels; i++)
        render_hist(&b, "enhance_batch_size", m->models[i]->name, &m->models[i]->batch, k_batch_buckets, N_BATCH);
    HELP(&b, "enhance_moderation_decisions_total", "counter",
         "Moderation decisions (POST /v1/check, and enhance requests with moderation=flag|block) by the class that "
         "decided (none for allow, unavailable when the classifier could not run).");
    for (int i = 0; i < m->nmod; i++)
        sbuf_printf(&b, "enhance_moderation_decisions_total{endpoint=\"%s\",decision=\"%s\",class=\"%s\"} %llu\n",
                    m->mod[i].endpoint, m->mod[i].decision, m->mod[i].cls, m->mod[i].n);
    HELP(&b, "enhance_tiles_total", "counter", "NN tiles computed.");
    for (int i = 0; i < m->nmodels; i++)
        sbuf_printf(&b, "enhance_tiles_total{model=\"%s\"} %llu\n", m->models[i]->name, m->models[i]->tiles);
    HELP(&b, "enhance_inflight_requests", "gauge", "Requests admitted and not yet answered.");
    for (int i = 0; i < m->nmodels; i++)
        sbuf_printf(&b, "enhance_inflight_requests{model=\"%s\"} %ld\n", m->models[i]->name, m->models[i]->inflight);
    HELP(&b, "enhance_queue_depth", "gauge", "Requests admitted that have not started computing (HPA signal).");
    for (int i = 0; i < m->nmodels; i++)
        sbuf_printf(&b, "enhance_queue_depth{model=\"%s\"} %ld\n", m->models[i]->name, m->models[i]->queued);
    HELP(&b, "enhance_http_responses_total", "counter", "HTTP responses by status code (all endpoints).");
    for (int i = 0; i < m->ncodes; i++)
        sbuf_printf(&b, "enhance_http_responses_total{code=\"%d\"} %llu\n", m->codes[i].code, m->codes[i].n);
    HELP(&b, "enhance_ready", "gauge", "1 when every configured model is loaded and warmed up.");
    sbuf_printf(&b, "enhance_ready %d\n", m->ready);
    HELP(&b, "enhance_draining", "gauge", "1 while shutting down gracefully.");
    sbuf_printf(&b, "enhance_draining %d\n", m->draining);
    HELP(&b, "process_resident_memory_bytes", "gauge", "Resident set size of the server process.");
    sbuf_printf(&b, "process_resident_memory_bytes %zu\n", enh_current_rss_bytes());
    /* Prometheus' process collector names: uptime is time() - process_start_time_seconds, and
     * throughput is rate(enhance_requests_total[1m]) in PromQL, not a gauge computed here */
    HELP(&b, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
    sbuf_printf(&b, "process_start_time_seconds %.3f\n", m->started_unix);
    pthread_mutex_unlock(&m->mu);
    return sbuf_take(&b, NULL);
}
