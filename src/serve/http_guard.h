/* http_guard.h - the connection policy against hostile clients, beside libmicrohttpd.
 *
 * libmicrohttpd's own timeout is an idle timeout: any byte resets it, so one byte every few
 * seconds (slowloris) held a connection for ever, and 520 of them took every slot and
 * /healthz with them. The guard adds deadlines that a trickle does not extend: the request
 * line and headers must arrive within header_s of the connection (or of the previous
 * answer: keep-alive), the body within header_s + its declared length at min_rate bytes/s.
 * A connection past its deadline is shut down (the request being processed is never cut:
 * a job's time is bounded by its own deadline). The per-client connection limit is the
 * MHD option set beside it (http.c), below the total, so one address cannot take all.
 * It also checks a request's framing before anything else reads it: duplicate or
 * conflicting Content-Length, Content-Length with Transfer-Encoding, a Transfer-Encoding other
 * than chunked alone, too many query keys (bad chunk sizes are libmicrohttpd's own 400).
 *
 * Thread-safety: the notify and mark functions run on libmicrohttpd's threads; one mutex
 * guards the table the watchdog thread scans. The watchdog shuts a socket down under that
 * mutex and libmicrohttpd reports the close (removing the entry) before closing the fd, so a
 * reused descriptor is never touched. Errors: serve_guard_start fails with ENH_ENOMEM. */
#ifndef ENH_SERVE_HTTP_GUARD_H
#define ENH_SERVE_HTTP_GUARD_H

#include <microhttpd.h>
#include <stddef.h>

#include "core/error.h"

/* More query keys than this are refused (every operation, with room for unknown ones). */
#define SERVE_MAX_QUERY_KEYS 64

typedef struct serve_guard serve_guard;

/* header_s: deadline for a request's headers; idle_s: a kept-alive connection's wait for its
 * next request; min_rate: the slowest upload accepted, bytes/s. */
enh_status serve_guard_start(double header_s, double idle_s, double min_rate, serve_guard **out, enh_error *err);
/* Stops the watchdog (call after MHD_stop_daemon) and frees. NULL is fine. */
void serve_guard_stop(serve_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION callbacks of the main and the probe listener; cls is the guard. */
void serve_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code);
void serve_guard_notify_probe(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code);

/* The request's headers are in (first call of the access handler): the body deadline
 * starts, from its declared length (0 when none). */
void serve_guard_headers_done(struct MHD_Connection *c, unsigned long long declared);
/* The body is in: no deadline while the request is processed. */
void serve_guard_processing(struct MHD_Connection *c);
/* The answer went out: the next request's headers are due within idle_s + header_s. */
void serve_guard_request_done(struct MHD_Connection *c);

/* MHD_OPTION_URI_LOG_CALLBACK: counts the query's keys before libmicrohttpd parses them and,
 * over SERVE_MAX_QUERY_KEYS, drops the query (serve_guard_check_framing then refuses the
 * request). Returns NULL (the access handler's first-call marker stays NULL). */
void *serve_guard_uri(void *cls, const char *uri, struct MHD_Connection *c);

/* NULL when the request's framing is sound, else a message for a 400 (the connection is
 * then closed: the body's end is not known). buf holds the message. */
const char *serve_guard_check_framing(struct MHD_Connection *c, char *buf, size_t n);

/* Connections shut down by the guard so far (for tests and metrics). */
unsigned long serve_guard_kills(const serve_guard *g);
/* Connections open now on the main (probe = 0) or the probe listener (metrics). */
long serve_guard_open(const serve_guard *g, int probe);

#endif
