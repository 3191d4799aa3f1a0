/* http_route.c - the HTTP front end's routes: one table of paths with what each needs (an image
 * body, the API key) and its handler; the checks made as soon as a request's headers are in
 * (method, API key, draining, the declared body size), before any body byte is kept; and the
 * dispatch once the body is in. A new endpoint is one row of the table and a handler in its
 * own file (route R_OTHER, or a value of its own in http_internal.h when other code must
 * recognise it). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "serve/http_internal.h"
#include "serve/server_internal.h"

static enum MHD_Result enhance_or_job(struct MHD_Connection *c, http_req *r) { return serve_enhance_handle(c, r); }

static const serve_route_def routes[] = {
    {"/v1/enhance", R_ENHANCE, RT_BODY, "use POST /v1/enhance with the image as body", enhance_or_job},
    {"/v1/jobs", R_JOBS, RT_BODY, "use POST /v1/jobs with the image as body (GET /v1/jobs/ID follows a job)",
     enhance_or_job},
    {"/v1/check", R_CHECK, RT_BODY, "use POST /v1/check with the image as body", enhance_or_job},
    {"/v1/models", R_MODELS, RT_AUTH, NULL, serve_ep_models},
    {"/v1/ops", R_OPS, 0, NULL, serve_ep_ops},
    {"/healthz", R_HEALTHZ, RT_PROBE, NULL, serve_ep_healthz},
    {"/readyz", R_READYZ, RT_PROBE, NULL, serve_ep_readyz},
    {"/metrics", R_METRICS, RT_PROBE, NULL, serve_ep_metrics},
    {"/", R_INDEX, 0, NULL, serve_ep_index},
    {"/index.html", R_INDEX, 0, NULL, serve_ep_index},
};

static int id_ok(const char *p, size_t n)
{
    if (!n || n >= 40)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

void serve_route_of(http_req *r, const char *url)
{
    r->def = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (!strcmp(url, routes[i].path)) {
            r->def = &routes[i];
            r->route = routes[i].route;
            return;
        }
    r->route = R_NOTFOUND;
    if (!strncmp(url, "/v1/jobs/", 9)) { /* /v1/jobs/ID and /v1/jobs/ID/result */
        const char *id = url + 9, *slash = strchr(id, '/');
        size_t n = slash ? (size_t)(slash - id) : strlen(id);
        if (!id_ok(id, n) || (slash && strcmp(slash, "/result")))
            return;
        memcpy(r->job_id, id, n);
        r->job_id[n] = 0;
        r->route = slash ? R_JOB_RESULT : R_JOB;
    }
}

int serve_authorized(struct MHD_Connection *c, const enh_server *s)
{
    const char *key = s->opt.api_key;
    if (!key[0])
        return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7))
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    return serve_secret_equal(h, strlen(h), key, strlen(key));
}

static enum MHD_Result unauthorized(struct MHD_Connection *c, http_req *r)
{
    return serve_send_error(c, r, 401, "unauthorized", "missing or wrong API key: send 'Authorization: Bearer <key>'",
                            NULL, 0);
}

enum MHD_Result serve_route_begin(struct MHD_Connection *c, http_req *r, const char *method)
{
    enh_server *s = r->srv;
    if ((r->route == R_JOB || r->route == R_JOB_RESULT) && !serve_authorized(c, s))
        return unauthorized(c, r);
    if (!takes_image(r))
        return MHD_YES;
    if (strcmp(method, "POST"))
        return serve_send_error(c, r, 405, "method_not_allowed", r->def->usage, NULL, 0);
    if (!serve_authorized(c, s))
        return unauthorized(c, r);
    if (atomic_load(&s->draining))
        return serve_send_error(c, r, 503, "unavailable",
                                "the server is draining (shutting down); retry on another replica", NULL, 1);
    return serve_body_begin(c, r);
}

enum MHD_Result serve_route_dispatch(struct MHD_Connection *c, http_req *r, const char *method, const char *url)
{
    if (takes_image(r)) {
        int answered;
        enum MHD_Result res = serve_body_refusal(c, r, &answered); /* 413 / 503 for a dropped body */
        return answered ? res : r->def->handler(c, r);
    }
    if (r->route == R_JOB) {
        if (!strcmp(method, "DELETE"))
            return serve_job_cancel(c, r);
        if (strcmp(method, "GET") && strcmp(method, "HEAD"))
            return serve_send_error(c, r, 405, "method_not_allowed", "GET follows a job, DELETE cancels it", NULL, 0);
        return serve_job_status(c, r);
    }
    if (r->route == R_NOTFOUND) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "no such endpoint %.200s (POST /v1/enhance, POST /v1/jobs, POST /v1/check, GET /v1/jobs/ID[/result], GET /v1/models, "
                 "/v1/ops, /healthz, /readyz, /metrics, /)",
                 url);
        return serve_send_error(c, r, 404, "not_found", msg, NULL, 0);
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return serve_send_error(c, r, 405, "method_not_allowed", "this endpoint only answers GET", NULL, 0);
    if (r->route == R_JOB_RESULT)
        return serve_job_result(c, r);
    if ((r->def->flags & RT_AUTH) && !serve_authorized(c, r->srv))
        return unauthorized(c, r);
    return r->def->handler(c, r);
}
