/* metrics_budget.c - the gauges of what the server holds against its limits, for /metrics:
 * request bodies in memory and on disk (upload.h) with their server-wide and per-address
 * limits, the addresses holding a body, the refusals by budget, connections open on each
 * listener with their caps, the connections the guard closed (http_guard.h) and the decodes
 * running with the decode budget of one image. Read at scrape time from the counters the
 * budgets and the guard keep anyway (atomics; the decode count under srv->mu), so nothing is
 * added to a request's path. The names follow metrics.c: enhance_*, bytes in _bytes, limits
 * as _limit_bytes gauges beside the value they bound (alerts compare the two). */
#include <stdio.h>

#include "image/image_probe.h"
#include "serve/http_guard.h"
#include "serve/sbuf.h"
#include "serve/server_internal.h"

#define HELP(b, name, type, text) sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type)

char *serve_budget_metrics(enh_server *s)
{
    sbuf b;
    sbuf_init(&b);
    serve_upload_budget *u = &s->uploads;
    HELP(&b, "enhance_body_memory_bytes", "gauge",
         "Bytes of request bodies held in memory now (a body is charged its declared length when its headers "
         "arrive).");
    sbuf_printf(&b, "enhance_body_memory_bytes %zu\n", atomic_load(&u->mem_used));
    HELP(&b, "enhance_body_memory_limit_bytes", "gauge", "Bytes of request bodies in memory at once (--max-body-memory).");
    sbuf_printf(&b, "enhance_body_memory_limit_bytes %zu\n", u->mem_limit);
    HELP(&b, "enhance_upload_spool_bytes", "gauge", "Bytes of spooled request bodies on disk now (--upload-dir).");
    sbuf_printf(&b, "enhance_upload_spool_bytes %zu\n", atomic_load(&u->spool_used));
    HELP(&b, "enhance_upload_spool_limit_bytes", "gauge", "Bytes of spooled bodies at once (--max-upload-spool).");
    sbuf_printf(&b, "enhance_upload_spool_limit_bytes %zu\n", u->spool_limit);
    HELP(&b, "enhance_body_client_limit_bytes", "gauge",
         "What one client address may hold of each body budget (--client-body-share; its first body always gets in).");
    sbuf_printf(&b, "enhance_body_client_limit_bytes{budget=\"memory\"} %zu\n", serve_upload_share(u, u->mem_limit));
    sbuf_printf(&b, "enhance_body_client_limit_bytes{budget=\"spool\"} %zu\n", serve_upload_share(u, u->spool_limit));
    HELP(&b, "enhance_body_clients", "gauge", "Client addresses with a request body now.");
    sbuf_printf(&b, "enhance_body_clients %zu\n", serve_clients_count(u->clients));
    HELP(&b, "enhance_body_refusals_total", "counter",
         "Request bodies refused (503) by the budget they would pass: memory, spool, or an address's share of one.");
    static const char *const names[SERVE_REFUSED_N] = {"memory", "spool", "client_memory", "client_spool"};
    for (int i = 0; i < SERVE_REFUSED_N; i++)
        sbuf_printf(&b, "enhance_body_refusals_total{budget=\"%s\"} %lu\n", names[i], atomic_load(&u->refused[i]));

    HELP(&b, "enhance_connections", "gauge", "Connections open now by listener (main, probe: --probe-port).");
    sbuf_printf(&b, "enhance_connections{listener=\"main\"} %ld\n", serve_guard_open(s->guard, 0));
    if (s->probe_conn_limit)
        sbuf_printf(&b, "enhance_connections{listener=\"probe\"} %ld\n", serve_guard_open(s->guard, 1));
    HELP(&b, "enhance_connections_limit", "gauge",
         "Connections at once by listener (--max-connections, fitted to the descriptor limit; the probe port's 16).");
    sbuf_printf(&b, "enhance_connections_limit{listener=\"main\"} %u\n", s->conn_limit);
    if (s->probe_conn_limit)
        sbuf_printf(&b, "enhance_connections_limit{listener=\"probe\"} %u\n", s->probe_conn_limit);
    HELP(&b, "enhance_client_connections_limit", "gauge",
         "Connections one address may hold on the main port (--max-client-connections).");
    sbuf_printf(&b, "enhance_client_connections_limit %u\n", s->client_conn_limit);
    HELP(&b, "enhance_connections_deadline_closed_total", "counter",
         "Connections closed because their headers or body missed the deadline (--header-timeout, slow uploads).");
    sbuf_printf(&b, "enhance_connections_deadline_closed_total %lu\n", serve_guard_kills(s->guard));

    pthread_mutex_lock(&s->mu);
    int decoding = s->decoding;
    pthread_mutex_unlock(&s->mu);
    HELP(&b, "enhance_decodes_running", "gauge", "Images being decoded now (the decode gate lets a decode start only for an idle pipeline worker).");
    sbuf_printf(&b, "enhance_decodes_running %d\n", decoding);
    HELP(&b, "enhance_decode_budget_bytes", "gauge",
         "Decode budget of one image: width x height x bands x bytes a sample above it is a 413 (--max-pixels x 8).");
    sbuf_printf(&b, "enhance_decode_budget_bytes %lld\n", s->opt.max_pixels * ENH_IMAGE_DECODE_BYTES_PER_PIXEL);
    return sbuf_take(&b, NULL);
}
