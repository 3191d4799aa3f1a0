/* http.c - the libmicrohttpd front end: the daemon (listening, connection limits, the guard),
 * the access handler's sequence for each request (request id, CORS preflight, framing, the
 * route's checks, the body, the dispatch: http_route.c) and the access log line when it ends;
 * the probe listener (--probe-port) beside it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "serve/http_guard.h"
#include "serve/http_internal.h"
#include "serve/proxy_trust.h"
#include "serve/server_internal.h"

/* Out of memory before the request has a context: a 503 built on the stack (the response is
 * libmicrohttpd's own copy), instead of closing the connection without an answer (the
 * fault-injection test found it). */
static http_req oom_req;

static enum MHD_Result answer_oom(struct MHD_Connection *c, void **con_cls)
{
    char rid[136];
    const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (given && serve_request_id_ok(given) && strlen(given) < sizeof rid)
        snprintf(rid, sizeof rid, "%s", given);
    else
        serve_new_request_id(rid);
    size_t n = 0;
    struct MHD_Response *resp = serve_oom_response(rid, &n);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "X-Request-Id", rid);
    MHD_add_response_header(resp, "Connection", "close");
    *con_cls = &oom_req;
    enum MHD_Result ok = MHD_queue_response(c, 503, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* The access handler of both listeners; on the probe listener (probe = 1) only the probe
 * routes (RT_PROBE) exist. */
static enum MHD_Result handle(enh_server *s, int probe, struct MHD_Connection *c, const char *url,
                              const char *method, const char *upload_data, size_t *upload_size, void **con_cls)
{
    http_req *r = *con_cls;
    if (r == &oom_req) { /* answered below: drop the rest of the body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (!r) { /* the headers are in */
        r = calloc(1, sizeof *r);
        if (!r)
            return answer_oom(c, con_cls);
        atomic_fetch_add(&s->open_requests, 1);
        *con_cls = r;
        r->srv = s;
        r->t0 = enh_now();
        serve_route_of(r, url);
        if (probe && !(r->def && (r->def->flags & RT_PROBE))) {
            r->def = NULL;
            r->route = R_NOTFOUND;
        }
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        if (!strcmp(method, "OPTIONS") && s->opt.cors_origin[0]) { /* CORS preflight */
            struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
            if (!resp)
                return MHD_NO;
            MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
            MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, X-Request-Id, X-Priority, X-Deadline-Ms");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
            return serve_respond_len(c, r, 204, resp, 0);
        }
        const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
        if (rid && serve_request_id_ok(rid))
            snprintf(r->request_id, sizeof r->request_id, "%s", rid);
        else
            serve_new_request_id(r->request_id);
        char why[256];
        const char *bad = serve_guard_check_framing(c, why, sizeof why);
        if (bad)
            return serve_send_error(c, r, 400, "invalid_request", bad, NULL, 0);
        const char *cl0 = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        serve_guard_headers_done(c, cl0 ? strtoull(cl0, NULL, 10) : 0);
        return serve_route_begin(c, r, method);
    }
    if (*upload_size) { /* a piece of the body; other routes' bodies are dropped */
        enum MHD_Result ok = takes_image(r) ? serve_body_append(r, upload_data, *upload_size) : MHD_YES;
        *upload_size = 0;
        return ok;
    }
    serve_guard_processing(c);
    if (probe && r->route == R_NOTFOUND)
        return serve_send_error(c, r, 404, "not_found",
                                "the probe port answers only GET /healthz, /readyz and /metrics; the API is on the "
                                "main port",
                                NULL, 0);
    return serve_route_dispatch(c, r, method, url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    return handle(cls, 0, c, url, method, upload_data, upload_size, con_cls);
}

static enum MHD_Result on_probe_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                        const char *version, const char *upload_data, size_t *upload_size,
                                        void **con_cls)
{
    (void)version;
    return handle(cls, 1, c, url, method, upload_data, upload_size, con_cls);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    serve_guard_request_done(c);
    http_req *r = *con_cls;
    *con_cls = NULL;
    if (!r || r == &oom_req)
        return;
    enh_server *s = r->srv;
    if (s->opt.access_log && r->code) {
        /* one line per request; probes and scrapes only at debug (a kubelet asks every few seconds) */
        int probe = r->def && (r->def->flags & RT_PROBE);
        char extra[160] = "";
        const serve_job *j = r->job;
        if (j && r->admitted && j->finished) /* a synchronous enhance: where its time went */
            snprintf(extra, sizeof extra, " (queue %.0f, decode %.0f, compute %.0f, encode %.0f ms; model %s; %d tiles)",
                     j->queue_s * 1000, j->decode_s * 1000, j->compute_s * 1000, j->encode_s * 1000, j->route,
                     j->tiles);
        enh_log(probe ? ENH_LOG_DEBUG : ENH_LOG_INFO, "access: %s %s %s %d %zu bytes %.1f ms%s%s", r->request_id,
                r->method, r->path, r->code, r->bytes, (enh_now() - r->t0) * 1000, extra,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
    }
    if (r->job) {
        if (r->admitted && !r->job->finished) {
            /* cannot happen while suspended; never free a job the scheduler still uses */
            ENH_LOGE("serve: request %s ended (code %d) while its job was running", r->request_id, (int)toe);
        } else {
            serve_job_free(r->job);
        }
    }
    serve_upload_release(&r->body);
    free(r);
    atomic_fetch_sub(&s->open_requests, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (enh_log_get_level() < ENH_LOG_DEBUG)
        return;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    ENH_LOGD("serve: libmicrohttpd: %s", buf);
}

/* Address of the listeners: s->opt.host at port. */
static struct sockaddr *listen_addr(const enh_server *s, int port, struct sockaddr_in *a4, struct sockaddr_in6 *a6,
                                    unsigned *flags)
{
    memset(a4, 0, sizeof *a4);
    memset(a6, 0, sizeof *a6);
    if (inet_pton(AF_INET, s->opt.host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return (struct sockaddr *)a4;
    }
    if (inet_pton(AF_INET6, s->opt.host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *flags |= MHD_USE_IPv6;
        return (struct sockaddr *)a6;
    }
    return NULL;
}

/* Probe connections at once on the probe listener: a kubelet and a scraper need a few. One
 * address may hold a quarter of them: without it, 16 trickling connections from one client
 * took the whole probe port (the listener is as reachable as the API port in a pod). */
#define PROBE_CONNECTIONS 16
#define PROBE_CLIENT_CONNECTIONS 4

/* The connection cap, lowered to fit the descriptor limit: each connection may hold its
 * socket and a spooled body's file, and the process needs some for itself (models, logs,
 * the probe listener). Past the limit accept() fails and every request waits, probes too. */
static unsigned fit_descriptors(unsigned total)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return total;
    rlim_t reserve = 64 + 2 * PROBE_CONNECTIONS;
    rlim_t fit = rl.rlim_cur > reserve + 2 ? (rl.rlim_cur - reserve) / 2 : 1;
    if (total <= fit)
        return total;
    ENH_LOGW("serve: %u connections would pass the descriptor limit (%llu open files: 2 per connection + %llu); "
             "serving %llu at once (raise `ulimit -n` for more)",
             total, (unsigned long long)rl.rlim_cur, (unsigned long long)reserve, (unsigned long long)fit);
    return (unsigned)fit;
}

enh_status serve_http_start(enh_server *s, enh_error *err)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct sockaddr *addr = listen_addr(s, s->opt.port, &a4, &a6, &flags);
    if (!addr)
        return enh_fail(err, ENH_EINVAL, "--host '%s' is not an IPv4 or IPv6 address", s->opt.host);
    if (s->opt.port < 0 || s->opt.port > 65535)
        return enh_fail(err, ENH_EINVAL, "--port %d is out of range 0..65535", s->opt.port);
    /* Deadlines a trickle does not extend (slowloris), and one address may hold at most half
     * the connections, so probes from elsewhere still get in (and the probe listener, when
     * set, is outside the cap altogether). An idle kept-alive connection waits 75 s by
     * default: longer than the usual load balancers' 60 s, so they close first and never send
     * a request on a connection the server is closing. An upload must average 16 KiB/s after
     * its headers. */
    unsigned total = fit_descriptors((unsigned)(s->opt.max_connections > 0 ? s->opt.max_connections : 512));
    unsigned per_ip = s->opt.max_client_connections > 0 ? (unsigned)s->opt.max_client_connections
                                                        : (total / 2 ? total / 2 : 1);
    if (per_ip > total)
        per_ip = total;
    s->conn_limit = total;
    s->client_conn_limit = per_ip;
    s->probe_conn_limit = s->opt.probe_port > 0 ? PROBE_CONNECTIONS : 0;
    double idle = s->opt.idle_timeout_s > 0 ? s->opt.idle_timeout_s : 75;
    double header = s->opt.header_timeout_s > 0 ? s->opt.header_timeout_s : 10;
    /* the address of each body (upload_client.h): a quarter of each body budget per address by
     * default; freed by enh_serve_stop, after the last upload was released */
    if (!s->uploads.clients && s->uploads.client_share < 1 && !(s->uploads.clients = serve_clients_create()))
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    if (!s->proxies && s->opt.trusted_proxies[0]) {
        enh_status pst = serve_proxies_parse(s->opt.trusted_proxies, &s->proxies, err);
        if (pst)
            return pst;
    }
    enh_status gst = serve_guard_start(header, idle, 16 * 1024, &s->guard, err);
    if (gst)
        return gst;
    /* libmicrohttpd's own timeout (any byte resets it) only backs the guard up */
    unsigned mhd_timeout = (unsigned)(idle + header + 30);
    s->mhd = MHD_start_daemon(flags, (uint16_t)s->opt.port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, addr,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_THREAD_POOL_SIZE,
                              (unsigned)(s->opt.http_threads > 0 ? s->opt.http_threads : 2),
                              MHD_OPTION_CONNECTION_LIMIT, total, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
                              MHD_OPTION_NOTIFY_CONNECTION, serve_guard_notify, s->guard,
                              MHD_OPTION_URI_LOG_CALLBACK, serve_guard_uri, s->guard,
                              MHD_OPTION_CONNECTION_TIMEOUT, mhd_timeout, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                              MHD_OPTION_END);
    if (s->mhd && s->opt.probe_port > 0) {
        /* probes outside the main cap: one thread, a few connections, the same guard (a
         * trickle cannot hold them either) */
        unsigned pflags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
        struct sockaddr_in p4;
        struct sockaddr_in6 p6;
        struct sockaddr *paddr = listen_addr(s, s->opt.probe_port, &p4, &p6, &pflags);
        s->probe_mhd = MHD_start_daemon(pflags, (uint16_t)s->opt.probe_port, NULL, NULL, on_probe_request, s,
                                        MHD_OPTION_SOCK_ADDR, paddr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)PROBE_CONNECTIONS,
                                        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PROBE_CLIENT_CONNECTIONS,
                                        MHD_OPTION_NOTIFY_CONNECTION, serve_guard_notify_probe, s->guard,
                                        MHD_OPTION_URI_LOG_CALLBACK, serve_guard_uri, s->guard,
                                        MHD_OPTION_CONNECTION_TIMEOUT, mhd_timeout, MHD_OPTION_EXTERNAL_LOGGER,
                                        mhd_log, s, MHD_OPTION_END);
        if (!s->probe_mhd) {
            MHD_stop_daemon(s->mhd);
            s->mhd = NULL;
            serve_guard_stop(s->guard);
            s->guard = NULL;
            return enh_fail(err, ENH_EIO, "cannot listen on %s:%d for probes (--probe-port in use?)", s->opt.host,
                            s->opt.probe_port);
        }
    }
    if (!s->mhd) {
        serve_guard_stop(s->guard);
        s->guard = NULL;
        return enh_fail(err, ENH_EIO, "cannot listen on %s:%d (port in use or no permission?)", s->opt.host,
                        s->opt.port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->opt.port;
    return ENH_OK;
}

void serve_http_stop(enh_server *s)
{
    if (!s->mhd)
        return;
    /* let the answers of the last requests go out (bounded) */
    double until = enh_now() + 2.0;
    while (atomic_load(&s->open_requests) > 0 && enh_now() < until) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
    if (s->probe_mhd)
        MHD_stop_daemon(s->probe_mhd);
    s->probe_mhd = NULL;
    serve_guard_stop(s->guard);
    s->guard = NULL;
}
