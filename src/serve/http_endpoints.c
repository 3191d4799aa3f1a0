/* http_endpoints.c - the small GET endpoints of the HTTP front end: /v1/ops, /healthz, /readyz,
 * /metrics, /v1/models and the web page at /. Each answers at once from the server's state
 * (no queueing), so probes stay fast while the workers are busy. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "nn/manifest.h"
#include "serve/http_internal.h"
#include "serve/server_internal.h"
#include "serve/web.h"

static enum MHD_Result send_text(struct MHD_Connection *c, http_req *r, int code, const char *ctype, char *text,
                                 size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", ctype);
    return serve_respond_len(c, r, code, resp, len);
}

/* GET /v1/ops: every operation from the operations table (the web page builds its form from
 * it). No API key: it is the public vocabulary, and the page reads it before a key is typed. */
enum MHD_Result serve_ep_ops(struct MHD_Connection *c, http_req *r)
{
    char *text = enh_ops_describe_json();
    if (!text)
        return serve_send_error(c, r, 503, "out_of_memory", "out of memory", NULL, 0);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return serve_respond_len(c, r, 200, resp, strlen(text));
}

enum MHD_Result serve_ep_healthz(struct MHD_Connection *c, http_req *r)
{
    return serve_send_json(c, r, 200, json_pack("{s:s}", "status", "alive"), NULL);
}

enum MHD_Result serve_ep_readyz(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    const char *status = atomic_load(&s->draining)      ? "draining"
                         : atomic_load(&s->load_failed) ? "failed"
                         : !atomic_load(&s->ready)      ? "loading"
                                                        : "ready";
    int ok = !strcmp(status, "ready");
    return serve_send_json(c, r, ok ? 200 : 503, json_pack("{s:s}", "status", status), ok ? NULL : "1");
}

enum MHD_Result serve_ep_metrics(struct MHD_Connection *c, http_req *r)
{
    char *text = serve_metrics_render(r->srv->metrics), *budgets = serve_budget_metrics(r->srv), *all = NULL;
    size_t nt = text ? strlen(text) : 0, nb = budgets ? strlen(budgets) : 0;
    if (text && budgets && (all = malloc(nt + nb + 1))) {
        memcpy(all, text, nt);
        memcpy(all + nt, budgets, nb + 1);
    }
    free(text);
    free(budgets);
    if (!all)
        return serve_send_error(c, r, 503, "out_of_memory", "out of memory rendering metrics", NULL, 0);
    return send_text(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", all, nt + nb);
}

enum MHD_Result serve_ep_models(struct MHD_Connection *c, http_req *r)
{
    enh_server *s = r->srv;
    json_t *arr = json_array();
    pthread_mutex_lock(&s->mu);
    serve_registry *reg = s->registry;
    for (int i = 0; i < s->config.nmodels; i++) {
        const serve_model_cfg *mc = &s->config.models[i];
        serve_model *m = reg ? serve_registry_find(reg, mc->name) : NULL;
        int ready = m && atomic_load(&m->ready);
        json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:i,s:i,s:i,s:i,s:f,s:f,s:i}", "name", mc->name, "purpose",
                              serve_purpose_of(mc), "loaded", m != NULL, "ready", ready, "instances", mc->instances,
                              "max_batch", mc->max_batch, "tile_size", mc->tile_size, "max_queue", mc->max_queue,
                              "max_queue_delay_ms", mc->max_queue_delay_ms, "default_deadline_ms",
                              mc->default_deadline_ms, "queue_depth",
                              serve_metrics_queue_depth(s->metrics, mc->name));
        json_object_set_new(o, "scale", m ? json_integer(m->scale) : json_null());
        json_array_append_new(arr, o);
    }
    /* the same-size TF.js restorers (maxim-*) the pipeline runs itself with model=NAME, when installed */
    json_t *rest = json_array();
    int nm = 0;
    enh_error merr;
    const enh_model_entry *all = enh_manifest_models(&nm, &merr);
    for (int i = 0; all && i < nm; i++)
        if (all[i].format == ENH_MODEL_TFJS && enh_model_installed(&all[i], s->config.models_dir))
            json_array_append_new(rest, json_pack("{s:s,s:s,s:s}", "name", all[i].name, "purpose", all[i].purpose,
                                                  "description", all[i].description));
    json_t *doc = json_pack("{s:o,s:o,s:b,s:b,s:i,s:s,s:{s:I,s:I,s:I}}", "models", arr, "restorers", rest, "ready",
                            atomic_load(&s->ready), "draining", atomic_load(&s->draining), "generation",
                            atomic_load(&s->generation), "config", s->config.source, "limits", "max_pixels",
                            (json_int_t)s->opt.max_pixels, "max_output_pixels", (json_int_t)s->opt.max_output_pixels,
                            "max_body_bytes", (json_int_t)s->opt.max_body_bytes);
    pthread_mutex_unlock(&s->mu);
    return serve_send_json(c, r, 200, doc, NULL);
}

enum MHD_Result serve_ep_index(struct MHD_Connection *c, http_req *r)
{
    const char *dir = r->srv->opt.web_dir;
    if (dir && *dir) {
        char path[1200];
        snprintf(path, sizeof path, "%s/index.html", dir);
        char *text = NULL;
        size_t len = 0;
        enh_error err;
        if (enh_read_file(path, 4u << 20, &text, &len, &err))
            return serve_send_error(c, r, 404, "not_found", err.msg, NULL, 0);
        return send_text(c, r, 200, "text/html; charset=utf-8", text, len);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        enh_serve_web_index_len, (void *)enh_serve_web_index, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
    return serve_respond_len(c, r, 200, resp, enh_serve_web_index_len);
}
