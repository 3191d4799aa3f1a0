/* http_body.c - receiving a request's image body: the declared Content-Length checked against
 * --max-body when the headers are in, then the body's pieces gathered as libmicrohttpd hands
 * them over (a chunked body is counted as it arrives). A body over the limit is read and
 * dropped, so the client, still sending, sees the 413 instead of a reset connection. */
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

enum MHD_Result serve_body_too_big(struct MHD_Connection *c, http_req *r)
{
    return send_413(c, r, (unsigned long long)r->len);
}

enum MHD_Result serve_body_begin(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (!cl)
        return MHD_YES;
    r->declared = strtoull(cl, NULL, 10);
    /* Too big: answer before the upload when the client waits for "100 Continue" or the
     * body is huge; otherwise read and discard it, so the client (still sending) sees
     * the answer instead of a reset connection. */
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
    int early = (expect && !strcasecmp(expect, "100-continue")) ||
                r->declared > 4 * (unsigned long long)s->opt.max_body_bytes + (64u << 20);
    if (r->declared > s->opt.max_body_bytes && !early)
        r->too_big = 1;
    else if (r->declared > s->opt.max_body_bytes)
        return send_413(c, r, r->declared);
    return MHD_YES;
}

enum MHD_Result serve_body_append(http_req *r, const char *data, size_t n)
{
    enh_server *s = r->srv;
    if (r->too_big) {
        r->len += n;
        return MHD_YES;
    }
    if (r->len + n > s->opt.max_body_bytes) {
        r->too_big = 1;
        r->len += n;
        free(r->body);
        r->body = NULL;
        r->cap = 0;
        return MHD_YES;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap * 2
                            : (r->declared && r->declared <= s->opt.max_body_bytes ? (size_t)r->declared : 64 * 1024);
        while (cap < r->len + n)
            cap *= 2;
        char *nb = realloc(r->body, cap);
        if (!nb)
            return MHD_NO;
        r->body = nb;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    return MHD_YES;
}
