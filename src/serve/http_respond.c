/* http_respond.c - the responses of the HTTP front end (http_internal.h): common headers (request
 * id, no-store, opt-in CORS), JSON bodies and the JSON error body, and what the access log and
 * metrics record of each. A leaf under the other http_*.c files. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/json_mem.h"
#include "serve/http_internal.h"

static void add_cors(struct MHD_Response *resp, const enh_server *s)
{
    if (!s->opt.cors_origin[0])
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", s->opt.cors_origin);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                            "X-Request-Id, X-Image-Width, X-Image-Height, X-Model, X-Tiles, Server-Timing, "
                            "Content-Disposition, Location, Retry-After, X-Moderation, X-Moderation-Decision, "
                            "X-Moderation-Reasons, X-Moderation-Model");
    if (strcmp(s->opt.cors_origin, "*"))
        MHD_add_response_header(resp, "Vary", "Origin");
}

enum MHD_Result serve_respond_len(struct MHD_Connection *c, http_req *r, int code, struct MHD_Response *resp,
                                   size_t len)
{
    if (!resp)
        return MHD_NO;
    r->code = code;
    r->bytes = len;
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    add_cors(resp, r->srv);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)code, resp);
    MHD_destroy_response(resp);
    serve_metrics_http(r->srv->metrics, code);
    return ret;
}

struct MHD_Response *serve_oom_response(const char *request_id, size_t *len)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"error\":{\"code\":503,\"type\":\"out_of_memory\",\"message\":\"the server is out of "
                     "memory; retry later\",\"details\":{\"request_id\":\"%s\",\"retry_after_s\":2}}}\n",
                     request_id);
    *len = (size_t)n;
    struct MHD_Response *resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (resp) {
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Retry-After", "2");
    }
    return resp;
}

enum MHD_Result serve_send_json(struct MHD_Connection *c, http_req *r, int code, json_t *doc,
                                 const char *retry_after)
{
    /* enh_json_dumps: NULL where jansson's writer would return the text with bytes missing */
    char *text = doc ? enh_json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) { /* an answer was due: the fixed one rather than a connection closed unanswered */
        size_t n = 0;
        struct MHD_Response *oom = serve_oom_response(r->request_id, &n);
        return serve_respond_len(c, r, 503, oom, n);
    }
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (retry_after)
        MHD_add_response_header(resp, "Retry-After", retry_after);
    if (code == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"enhance\"");
    if (code == 405)
        MHD_add_response_header(resp, "Allow", takes_image(r) ? "POST" : r->route == R_JOB ? "GET, DELETE" : "GET");
    if (code == 202 && r->job_id[0]) {
        char loc[64];
        snprintf(loc, sizeof loc, "/v1/jobs/%s", r->job_id);
        MHD_add_response_header(resp, "Location", loc);
    }
    return serve_respond_len(c, r, code, resp, len);
}

/* {"error": {"code", "type", "message", "details"}}; details (stolen) may be NULL. */
enum MHD_Result serve_send_error(struct MHD_Connection *c, http_req *r, int code, const char *type,
                                  const char *message, json_t *details, double retry_after)
{
    if (!details)
        details = json_object();
    json_object_set_new(details, "request_id", json_string(r->request_id));
    char ra[32] = "";
    if (retry_after > 0) {
        snprintf(ra, sizeof ra, "%.0f", retry_after);
        json_object_set_new(details, "retry_after_s", json_real(retry_after));
    }
    /* messages may quote the client's bytes (a path, a job id): JSON needs UTF-8, and a message
     * json_pack refused was answered as a 503 out_of_memory (the http fuzzer: a job path with a
     * 0x8d byte) */
    char clean[1024];
    snprintf(clean, sizeof clean, "%s", message ? message : "");
    enh_utf8_clean(clean);
    json_t *doc = json_pack("{s:{s:i,s:s,s:s,s:o}}", "error", "code", code, "type", type, "message", clean,
                            "details", details);
    if (takes_image(r) && !r->admitted)
        serve_metrics_request_done(r->srv->metrics, r->job && r->job->route[0] ? r->job->route : "none", 0, type,
                                   -1, -1, enh_now() - r->t0);
    return serve_send_json(c, r, code, doc, ra[0] ? ra : NULL);
}

