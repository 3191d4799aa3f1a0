/* http_guard.c - see http_guard.h. */
#include "serve/http_guard.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

typedef struct guard_conn {
    struct guard_conn *prev, *next;
    int fd;
    double deadline;   /* monotonic seconds; 0 = none (being processed) */
    int killed;
    int query_keys;    /* counted by serve_guard_uri when over the limit, else 0 */
    serve_guard *g;
} guard_conn;

struct serve_guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int stop;
    guard_conn head;   /* circular list sentinel */
    double header_s, idle_s, min_rate;
    atomic_ulong kills;
    atomic_long open[2]; /* connections open: main, probe listener */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *watchdog(void *arg)
{
    serve_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        double t = now_s();
        for (guard_conn *k = g->head.next; k != &g->head; k = k->next) {
            if (!k->killed && k->deadline > 0 && t > k->deadline) {
                /* under the mutex: libmicrohttpd reports the close (and so unlinks k) before
                 * it closes the descriptor, so k->fd is still this connection's */
                shutdown(k->fd, SHUT_RDWR);
                k->killed = 1;
                atomic_fetch_add(&g->kills, 1);
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000 * 1000; /* deadlines are seconds: 0.2 s granularity is plenty */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

enh_status serve_guard_start(double header_s, double idle_s, double min_rate, serve_guard **out, enh_error *err)
{
    *out = NULL;
    serve_guard *g = calloc(1, sizeof *g);
    if (!g)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->head.next = g->head.prev = &g->head;
    g->header_s = header_s;
    g->idle_s = idle_s;
    g->min_rate = min_rate > 1 ? min_rate : 1;
    if (pthread_create(&g->thread, NULL, watchdog, g)) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return enh_fail(err, ENH_ENOMEM, "cannot start the connection watchdog thread");
    }
    *out = g;
    return ENH_OK;
}

void serve_guard_stop(serve_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    /* entries left (none once libmicrohttpd stopped) are freed here */
    for (guard_conn *k = g->head.next, *n; k != &g->head; k = n) {
        n = k->next;
        free(k);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static void notify(serve_guard *g, int probe, struct MHD_Connection *c, void **socket_context,
                   enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&g->open[probe], 1);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        atomic_fetch_sub(&g->open[probe], 1);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        guard_conn *k = ci ? calloc(1, sizeof *k) : NULL;
        *socket_context = k;
        if (!k)
            return; /* unguarded: libmicrohttpd's idle timeout still applies */
        k->fd = ci->connect_fd;
        k->g = g;
        pthread_mutex_lock(&g->mu);
        k->deadline = now_s() + g->header_s;
        k->next = g->head.next;
        k->prev = &g->head;
        g->head.next->prev = k;
        g->head.next = k;
        pthread_mutex_unlock(&g->mu);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        guard_conn *k = *socket_context;
        *socket_context = NULL;
        if (!k)
            return;
        pthread_mutex_lock(&g->mu);
        k->prev->next = k->next;
        k->next->prev = k->prev;
        pthread_mutex_unlock(&g->mu);
        free(k);
    }
}

static guard_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? (guard_conn *)ci->socket_context : NULL;
}

static void set_deadline(struct MHD_Connection *c, int which, unsigned long long declared)
{
    guard_conn *k = conn_of(c);
    if (!k)
        return;
    serve_guard *g = k->g;
    pthread_mutex_lock(&g->mu);
    double t = now_s();
    if (which == 0)
        k->deadline = t + g->header_s + (double)declared / g->min_rate;
    else if (which == 1)
        k->deadline = 0;
    else
        k->deadline = t + g->idle_s + g->header_s;
    pthread_mutex_unlock(&g->mu);
}

void serve_guard_headers_done(struct MHD_Connection *c, unsigned long long declared) { set_deadline(c, 0, declared); }
void serve_guard_processing(struct MHD_Connection *c) { set_deadline(c, 1, 0); }
void serve_guard_request_done(struct MHD_Connection *c) { set_deadline(c, 2, 0); }

void serve_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    notify(cls, 0, c, socket_context, code);
}

void serve_guard_notify_probe(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    notify(cls, 1, c, socket_context, code);
}

unsigned long serve_guard_kills(const serve_guard *g) { return g ? atomic_load(&((serve_guard *)g)->kills) : 0; }

long serve_guard_open(const serve_guard *g, int probe)
{
    return g ? atomic_load(&((serve_guard *)g)->open[probe ? 1 : 0]) : 0;
}

void *serve_guard_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    char *q = strchr(uri, '?');
    if (!q)
        return NULL;
    int keys = 1;
    for (const char *p = q + 1; *p; p++)
        keys += *p == '&';
    if (keys <= SERVE_MAX_QUERY_KEYS)
        return NULL;
    guard_conn *k = conn_of(c);
    if (!k)
        return NULL;
    k->query_keys = keys;
    /* libmicrohttpd 0.9.x parses the query after this callback, into its per-connection pool;
     * about 400 short keys exhaust that pool and the connection hangs until its timeout (105 s
     * measured) without the handler ever being called. Ending the query right after its '?'
     * (the buffer is libmicrohttpd's writable read buffer; the const is its API's) leaves
     * nothing to parse, and the handler answers 400 from the count kept here. */
    q[1] = '\0';
    return NULL;
}

typedef struct framing {
    int content_length, transfer_encoding, bad_length;
    int not_chunked;     /* a Transfer-Encoding other than exactly "chunked" */
    char coding[40];
} framing;

/* value, blanks trimmed, is "chunked" (case-insensitive) */
static int only_chunked(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (strncasecmp(v, "chunked", 7))
        return 0;
    for (v += 7; *v; v++)
        if (*v != ' ' && *v != '\t')
            return 0;
    return 1;
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    framing *f = cls;
    if (!strcasecmp(key, "Content-Length")) {
        f->content_length++;
        const char *p = value ? value : "";
        if (!*p)
            f->bad_length = 1;
        for (; *p; p++)
            if (!isdigit((unsigned char)*p))
                f->bad_length = 1;
    } else if (!strcasecmp(key, "Transfer-Encoding")) {
        f->transfer_encoding++;
        if (!only_chunked(value ? value : "")) {
            /* libmicrohttpd reads any other coding (gzip, "gzip, chunked") as a body without
             * an end and waited for ever (measured: no answer, connection held) */
            f->not_chunked = 1;
            snprintf(f->coding, sizeof f->coding, "%.30s", value ? value : "");
        }
    }
    return MHD_YES;
}

const char *serve_guard_check_framing(struct MHD_Connection *c, char *buf, size_t n)
{
    framing f = {0, 0, 0, 0, ""};
    MHD_get_connection_values(c, MHD_HEADER_KIND, on_header, &f);
    if (f.content_length > 1) {
        snprintf(buf, n, "%d Content-Length headers: send exactly one (duplicates make the body's end ambiguous)",
                 f.content_length);
        return buf;
    }
    if (f.bad_length) {
        snprintf(buf, n, "Content-Length must be a decimal number of bytes");
        return buf;
    }
    if (f.content_length && f.transfer_encoding) {
        snprintf(buf, n, "Content-Length and Transfer-Encoding together: send one of them");
        return buf;
    }
    if (f.transfer_encoding > 1) {
        snprintf(buf, n, "more than one Transfer-Encoding header");
        return buf;
    }
    if (f.not_chunked) {
        snprintf(buf, n, "Transfer-Encoding '%s' is not accepted: send the body with Content-Length, or with "
                         "Transfer-Encoding: chunked alone", f.coding);
        return buf;
    }
    guard_conn *k = conn_of(c);
    int keys = k && k->query_keys ? k->query_keys : MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL);
    if (keys > SERVE_MAX_QUERY_KEYS) {
        snprintf(buf, n, "%d query parameters; at most %d are accepted (put the operations in the body as JSON)",
                 keys, SERVE_MAX_QUERY_KEYS);
        return buf;
    }
    return NULL;
}
