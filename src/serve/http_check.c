/* http_check.c - POST /v1/check: the request is parsed, probed and admitted like an enhance
 * request (http_enhance.c: the same body limits, spooling, pixel cap, queues and deadline), but
 * its job runs the check (server_check.c) instead of the pipeline and answers the check's JSON
 * (enhance/check.h). Query keys: policy=SPEC (the compact or JSON form; only when the server
 * runs with --allow-policy-override), skip=moderation|brisque|assess[,...],
 * require=moderation|brisque|assess|all[,...]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/http_internal.h"
#include "serve/server_check.h"
#include "serve/server_internal.h"

static enh_status parts(const char *list, enh_check_opts *o, enh_check_part what, const char *key, enh_error *err)
{
    enh_status st = enh_check_parts_set(list, o, what, err);
    return st ? enh_error_prefix(err, "query key '%s'", key) : ENH_OK;
}

enh_status serve_check_query(http_req *r, serve_job *j, const char *key, const char *value, enh_error *err)
{
    serve_check *c = j->check;
    if (!strcmp(key, "policy")) {
        if (!r->srv->opt.allow_policy_override)
            return enh_fail(err, ENH_EINVAL,
                            "this server does not take a policy per request (it applies its own, shown in the answer's "
                            "moderation.policy; the operator allows overrides with --allow-policy-override)");
        const char *s = value ? value : "";
        while (*s == ' ')
            s++;
        enh_status st = *s == '{' || *s == '"' ? enh_check_policy_from_json(s, strlen(s), &c->opts.policy, err)
                                               : enh_check_policy_parse(s, &c->opts.policy, err);
        return st;
    }
    if (!strcmp(key, "skip"))
        return parts(value, &c->opts, ENH_CHECK_SKIP, key, err);
    if (!strcmp(key, "require"))
        return parts(value, &c->opts, ENH_CHECK_REQUIRE, key, err);
    if (!strcmp(key, "priority") || !strcmp(key, "deadline_ms"))
        return serve_query_apply(key, value, &j->ops, &j->params, err);
    return enh_fail(err, ENH_EINVAL, "unknown query key '%s' for /v1/check (policy, skip, require, priority, "
                                     "deadline_ms)",
                    key);
}

enum MHD_Result serve_check_respond(struct MHD_Connection *c, http_req *r)
{
    serve_job *j = r->job;
    if (j->status) {
        json_t *d = serve_check_details(j);
        return serve_send_error(c, r, serve_http_code(j->err_type), j->err_type, j->err.msg, d, 0);
    }
    char *text = j->check->json;
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    j->check->json = NULL;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    serve_check_add_headers(resp, j);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "queue;dur=%.1f, decode;dur=%.1f, compute;dur=%.1f", j->queue_s * 1000,
             j->decode_s * 1000, j->compute_s * 1000);
    MHD_add_response_header(resp, "Server-Timing", tmp);
    return serve_respond_len(c, r, 200, resp, len);
}
