/* http_body.c - receiving a request's image body: the declared Content-Length checked against
 * --max-body and the server's byte budgets when the headers are in (upload.h: in memory, or
 * spooled to a temporary file above the spool threshold; the sender's address gets a share of
 * each), then the body's pieces stored as
 * libmicrohttpd hands them over (a chunked body is counted as it arrives). A body refused
 * (413 over --max-body, 503 over a budget) is read and dropped, so the client, still sending,
 * sees the answer instead of a reset connection; it is answered before the upload when the
 * client waits for "100 Continue" or the body is huge. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/http_internal.h"
#include "serve/proxy_trust.h"
#include "serve/server_internal.h"

static enum MHD_Result send_413(struct MHD_Connection *c, http_req *r, unsigned long long actual)
{
    enh_server *s = r->srv;
    char msg[256];
    snprintf(msg, sizeof msg, "request body is %llu bytes; the limit is %zu bytes (server option --max-body)",
             actual, s->opt.max_body_bytes);
    return serve_send_error(c, r, 413, "too_large", msg,
                            json_pack("{s:I,s:I}", "limit_bytes", (json_int_t)s->opt.max_body_bytes,
                                      "actual_bytes", (json_int_t)actual),
                            0);
}

/* Over a byte budget (ENH_EBUSY) or the spool failed (ENH_EIO): the server's state, not the
 * request's fault; a retry a moment later may pass. */
static enum MHD_Result send_503(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    json_t *d = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "body_memory_limit_bytes", (json_int_t)s->uploads.mem_limit,
                          "body_memory_used_bytes", (json_int_t)atomic_load(&s->uploads.mem_used),
                          "upload_spool_limit_bytes", (json_int_t)s->uploads.spool_limit,
                          "upload_spool_used_bytes", (json_int_t)atomic_load(&s->uploads.spool_used),
                          "client_body_memory_limit_bytes",
                          (json_int_t)serve_upload_share(&s->uploads, s->uploads.mem_limit),
                          "client_upload_spool_limit_bytes",
                          (json_int_t)serve_upload_share(&s->uploads, s->uploads.spool_limit));
    return serve_send_error(c, r, 503, r->refusal.code == ENH_ENOMEM ? "out_of_memory" : "unavailable",
                            r->refusal.msg, d, 2);
}

enum MHD_Result serve_body_refusal(struct MHD_Connection *c, http_req *r, int *answered)
{
    *answered = r->too_big || r->refused;
    if (r->too_big)
        return send_413(c, r, (unsigned long long)r->len);
    if (r->refused)
        return send_503(c, r);
    return MHD_YES;
}

static void refuse(http_req *r)
{
    r->refused = 1;
    serve_upload_release(&r->body);
}

/* Every X-Forwarded-For header of the request, joined with commas in their order (HAProxy's
 * `option forwardfor` adds a header of its own rather than appending to the client's). */
typedef struct xff_join {
    char text[2048];
    size_t n;
    int cut; /* longer than text: the later headers (the nearest proxies' entries) were not read */
} xff_join;

static enum MHD_Result add_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    xff_join *x = cls;
    if (!key || !value || strcasecmp(key, "X-Forwarded-For"))
        return MHD_YES;
    size_t l = strlen(value);
    if (x->n + l + 2 > sizeof x->text) {
        x->cut = 1;
        return MHD_NO;
    }
    if (x->n)
        x->text[x->n++] = ',';
    memcpy(x->text + x->n, value, l + 1);
    x->n += l;
    return MHD_YES;
}

/* The address whose share of the body budgets this body counts against: the TCP peer, or
 * behind a trusted proxy the client it names (proxy_trust.h). */
static void set_client(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *peer = ci ? ci->client_addr : NULL;
    if (s->proxies && serve_proxies_trusts(s->proxies, peer)) {
        xff_join x = {.n = 0};
        MHD_get_connection_values(c, MHD_HEADER_KIND, add_xff, &x);
        struct sockaddr_storage client;
        /* a list longer than x.text is not believed: the part lost holds the proxies' entries */
        if (x.n && !x.cut && serve_proxies_client(s->proxies, peer, x.text, &client)) {
            serve_upload_set_client(&r->body, (const struct sockaddr *)&client);
            return;
        }
    }
    serve_upload_set_client(&r->body, peer);
}

enum MHD_Result serve_body_begin(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    serve_upload_init(&r->body, &s->uploads);
    set_client(c, r);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (!cl)
        return MHD_YES; /* chunked: charged as it arrives */
    r->declared = strtoull(cl, NULL, 10);
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
    int early = (expect && !strcasecmp(expect, "100-continue")) ||
                r->declared > 4 * (unsigned long long)s->opt.max_body_bytes + (64u << 20);
    if (r->declared > s->opt.max_body_bytes)
        return early ? send_413(c, r, r->declared) : (r->too_big = 1, MHD_YES);
    if (serve_upload_begin(&r->body, r->declared, &r->refusal)) {
        refuse(r);
        if (expect && !strcasecmp(expect, "100-continue"))
            return send_503(c, r);
    }
    return MHD_YES;
}

enum MHD_Result serve_body_append(http_req *r, const char *data, size_t n)
{
    enh_server *s = r->srv;
    r->len += n;
    if (r->too_big || r->refused || !r->body.b) /* dropped, or answered before the body */
        return MHD_YES;
    if (r->len > s->opt.max_body_bytes) {
        r->too_big = 1;
        serve_upload_release(&r->body);
        return MHD_YES;
    }
    if (serve_upload_write(&r->body, data, n, &r->refusal))
        refuse(r);
    return MHD_YES;
}
