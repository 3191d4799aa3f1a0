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

enum MHD_Result serve_body_begin(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    serve_upload_init(&r->body, &s->uploads);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    serve_upload_set_client(&r->body, ci ? ci->client_addr : NULL);
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
