/* registry.c - the served models: load, warm up, share across reloads, route requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/mem.h"
#include "nn/manifest.h"
#include "nn/model_cache.h"
#include "nn/nn.h"
#include "serve/server_internal.h"

static enh_status run_model(void *model, const float *in, int n, int c, int h, int w, float *out, enh_pool *pool,
                            enh_error *err)
{
    (void)c;
    return enh_model_run((const enh_model *)model, in, n, h, w, out, pool, err);
}

static void on_batch(void *user, int tiles, double seconds)
{
    serve_model *m = user;
    if (!atomic_load(&m->ready)) { /* the warm-up tile is not traffic, but it makes the model's
                                     * series exist at 0: the HPA reads a new pod's queue metrics
                                     * from its first scrape, before any request */
        serve_metrics_queue_add(m->metrics, m->cfg.name, 0);
        return;
    }
    serve_metrics_batch(m->metrics, m->cfg.name, tiles, seconds);
}

static void model_free(serve_model *m)
{
    if (!m)
        return;
    serve_batcher_destroy(m->batcher);
    if (m->model)
        enh_model_cache_release(m->model);
    free(m);
}

static void model_unref(serve_model *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        model_free(m);
}

/* Settings that need a new instance set when they change. */
static int same_model(const serve_model_cfg *a, const serve_model_cfg *b)
{
    return !strcmp(a->name, b->name) && !strcmp(a->param_path, b->param_path) && a->custom == b->custom &&
           !strcmp(a->bin_path, b->bin_path) && a->instances == b->instances && a->max_batch == b->max_batch &&
           a->max_queue_delay_ms == b->max_queue_delay_ms && a->tile_size == b->tile_size &&
           a->precision == b->precision;
}

static enh_status model_load(const serve_model_cfg *cfg, const char *models_dir, enh_pool *pool,
                             serve_metrics *metrics, serve_model **out, enh_error *err)
{
    *out = NULL;
    serve_model *m = calloc(1, sizeof *m);
    if (!m)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    m->cfg = *cfg;
    m->metrics = metrics;
    atomic_init(&m->refs, 1);
    double t0 = enh_now();
    /* Through the process-wide cache, keyed like the upscale stage will ask for it (manifest
     * name + models folder, or the .param path; and the runtime options), so the stage's tiles carry this very model
     * pointer and the tile runner finds this model's batcher. */
    m->custom = cfg->custom || !enh_manifest_find(cfg->name);
    snprintf(m->cache_name, sizeof m->cache_name, "%s", m->custom ? cfg->param_path : cfg->name);
    if (m->custom && strlen(m->cache_name) >= sizeof(((enh_ops *)0)->model)) {
        free(m);
        return enh_fail(err, ENH_EINVAL,
                        "model '%s': the path %s is too long for a custom model (at most %zu characters; use a "
                        "shorter path or a symlink)",
                        cfg->name, cfg->param_path, sizeof(((enh_ops *)0)->model) - 1);
    }
    m->nn = *enh_nn_options_default();
    if (cfg->precision != ENH_PRECISION_DEFAULT)
        m->nn.precision = cfg->precision;
    enh_status st = enh_model_cache_get(m->cache_name, models_dir, &m->nn, &m->model, err);
    if (st) {
        free(m);
        return enh_error_prefix(err, "model '%s'", cfg->name);
    }
    const enh_model_info *info = enh_model_get_info(m->model);
    m->scale = info->scale;
    m->in_channels = info->in_channels;
    m->out_channels = info->out_channels;
    serve_batcher_config bc;
    memset(&bc, 0, sizeof bc);
    snprintf(bc.name, sizeof bc.name, "%s", cfg->name);
    bc.model = m->model;
    bc.run = run_model;
    bc.out_channels = m->out_channels;
    bc.scale = m->scale;
    bc.instances = cfg->instances;
    bc.max_batch = cfg->max_batch;
    bc.max_delay_s = cfg->max_queue_delay_ms / 1000.0;
    bc.pool = pool;
    bc.on_batch = on_batch;
    bc.on_batch_user = m;
    if ((st = serve_batcher_create(&bc, &m->batcher, err))) {
        model_free(m);
        return st;
    }
    /* warm-up: one small tile through the real run path (plans, workspaces, page faults) */
    int t = cfg->tile_size > 0 && cfg->tile_size < 32 ? cfg->tile_size : 32;
    size_t in_n = (size_t)m->in_channels * t * t;
    size_t out_n = (size_t)m->out_channels * (size_t)(t * m->scale) * (size_t)(t * m->scale);
    float *in = enh_calloc(in_n, sizeof(float));
    float *outb = enh_alloc(out_n * sizeof(float));
    if (!in || !outb) {
        enh_free(in);
        enh_free(outb);
        model_free(m);
        return enh_fail(err, ENH_ENOMEM, "model '%s': out of memory for the warm-up tile", cfg->name);
    }
    for (size_t i = 0; i < in_n; i++)
        in[i] = (float)(i % 97) / 96.0f;
    st = serve_batcher_submit(m->batcher, in, 1, m->in_channels, t, t, outb, SERVE_PRIO_HIGH, 0, NULL, NULL, err);
    enh_free(in);
    enh_free(outb);
    if (st) {
        model_free(m);
        return enh_error_prefix(err, "model '%s' warm-up", cfg->name);
    }
    atomic_store(&m->ready, 1);
    ENH_LOGI("serve: model %s loaded and warmed up in %.2f s (x%d, %s, %d instance(s), max batch %d)", cfg->name,
             enh_now() - t0, m->scale, enh_precision_name(m->nn.precision ? m->nn.precision : ENH_PRECISION_FP32),
             cfg->instances, cfg->max_batch);
    *out = m;
    return ENH_OK;
}

enh_status serve_registry_build(const serve_models_config *cfg, serve_registry *prev, enh_pool *pool,
                                serve_metrics *metrics, serve_registry **out, enh_error *err)
{
    *out = NULL;
    serve_registry *r = calloc(1, sizeof *r);
    if (!r)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    atomic_init(&r->refs, 1);
    r->resample = cfg->resample;
    snprintf(r->models_dir, sizeof r->models_dir, "%s", cfg->models_dir);
    snprintf(r->source, sizeof r->source, "%s", cfg->source);
    if (cfg->nmodels) {
        r->models = calloc((size_t)cfg->nmodels, sizeof *r->models);
        if (!r->models) {
            free(r);
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        }
    }
    for (int i = 0; i < cfg->nmodels; i++) {
        const serve_model_cfg *mc = &cfg->models[i];
        serve_model *old = prev ? serve_registry_find(prev, mc->name) : NULL;
        if (old && same_model(&old->cfg, mc) && atomic_load(&old->ready)) {
            atomic_fetch_add(&old->refs, 1);
            old->cfg.max_queue = mc->max_queue; /* admission settings apply at once */
            old->cfg.default_deadline_ms = mc->default_deadline_ms;
            snprintf(old->cfg.purpose, sizeof old->cfg.purpose, "%s", mc->purpose);
            r->models[r->n++] = old;
            continue;
        }
        int custom = mc->custom || !enh_manifest_find(mc->name);
        if (custom && (!enh_is_file(mc->param_path) || !enh_is_file(mc->bin_path))) {
            serve_registry_unref(r);
            return enh_fail(err, ENH_ENOTFOUND, "model '%s': %s or %s is missing", mc->name, mc->param_path,
                            mc->bin_path);
        }
        serve_model *m;
        enh_status st = model_load(mc, cfg->models_dir, pool, metrics, &m, err);
        if (st == ENH_ENOTFOUND && !custom && strcmp(cfg->models_dir, enh_models_default_dir())) {
            /* the manifest's hint (`enhance models fetch`) installs into the default folder, which is
             * not where this config looks (deploy/models.json: the container's /opt/enhance/models) */
            char def[1024];
            snprintf(def, sizeof def, "%s", enh_models_default_dir());
            enh_fail(err, ENH_ENOTFOUND,
                     "model '%s' is not installed in %s (the models_dir of %s): install it there with "
                     "`ENHANCE_MODELS_DIR=%s enhance models fetch %s`, or run `enhance serve` without "
                     "--models-config to serve the models installed in %s",
                     mc->name, cfg->models_dir, cfg->source[0] ? cfg->source : "the model config", cfg->models_dir,
                     mc->name, def);
        }
        if (st) {
            serve_registry_unref(r);
            return st;
        }
        r->models[r->n++] = m;
    }
    *out = r;
    return ENH_OK;
}

void serve_registry_ref(serve_registry *r) { atomic_fetch_add(&r->refs, 1); }

void serve_registry_unref(serve_registry *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    for (int i = 0; i < r->n; i++)
        model_unref(r->models[i]);
    free(r->models);
    free(r);
}

serve_model *serve_registry_find(serve_registry *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->models[i]->cfg.name, name))
            return r->models[i];
    return NULL;
}

serve_model *serve_registry_find_ptr(serve_registry *r, const struct enh_model *m)
{
    for (int i = 0; i < r->n; i++)
        if (r->models[i]->model == m)
            return r->models[i];
    return NULL;
}

int serve_registry_instances(const serve_models_config *cfg)
{
    int n = 0;
    for (int i = 0; i < cfg->nmodels; i++)
        n += cfg->models[i].instances;
    return n;
}

const char *serve_purpose_of(const serve_model_cfg *m)
{
    if (m->purpose[0])
        return m->purpose;
    if (strstr(m->name, "anime") || strstr(m->name, "cugan"))
        return "art";
    if (strstr(m->name, "x4plus"))
        return "quality";
    return "photo";
}

static const char *purpose_of_ops(const enh_ops *ops)
{
    switch (ops->upscale) {
    case ENH_UPSCALE_PHOTO: return "photo";
    case ENH_UPSCALE_QUALITY: return "quality";
    case ENH_UPSCALE_ART: return "art";
    default: return NULL;
    }
}

/* The model the upscale stage would pick for a purpose when every model were installed
 * (stage_upscale.c); only named in messages. */
static const char *default_model_of(const enh_ops *ops)
{
    switch (ops->upscale) {
    case ENH_UPSCALE_PHOTO: return "realesrgan-x4fast";
    case ENH_UPSCALE_QUALITY: return "realesrgan-x4plus";
    case ENH_UPSCALE_ART:
        if (ops->scale > 0 && ops->scale <= 2)
            return "realesr-animevideov3-x2";
        if (ops->scale > 2 && ops->scale <= 3)
            return "realesr-animevideov3-x3";
        return "realesr-animevideov3-x4";
    default: return NULL;
    }
}

/* Among the served models of the purpose: the smallest native scale that reaches the requested
 * one (0 = the purpose's largest), else the largest; ties go to the first configured. The
 * upscale stage brings the model's output to the requested scale, so art x2 runs on the x4
 * model when only that one is served, as photo x2 runs x4fast and reduces. */
static serve_model *nearest(serve_registry *r, const char *purpose, double scale)
{
    serve_model *best = NULL;
    for (int i = 0; i < r->n; i++) {
        serve_model *m = r->models[i];
        if (strcmp(serve_purpose_of(&m->cfg), purpose) || !atomic_load(&m->ready))
            continue;
        if (!best) {
            best = m;
            continue;
        }
        int reach_b = scale <= 0 ? 0 : best->scale >= scale, reach_m = scale <= 0 ? 0 : m->scale >= scale;
        if (scale <= 0 ? m->scale > best->scale
                       : (reach_m && (!reach_b || m->scale < best->scale)) || (!reach_b && !reach_m && m->scale > best->scale))
            best = m;
    }
    return best;
}

static void served_list(serve_registry *r, char *out, size_t n)
{
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < r->n && off < n - 80; i++)
        off += (size_t)snprintf(out + off, n - off, "%s%s (%s)", i ? ", " : "", r->models[i]->cfg.name,
                                serve_purpose_of(&r->models[i]->cfg));
    if (!r->n)
        snprintf(out, n, "none; only upscale=resample and non-AI operations work");
}

/* How to get a missing model served: install it, then serve it (zero-config serves every
 * installed model; a config file needs the model named in it). */
static enh_status not_served(serve_registry *r, const char *name, const char *asked, enh_error *err)
{
    char served[512];
    served_list(r, served, sizeof served);
    int zero = !strncmp(r->source, "installed models", 16);
    if (zero)
        return enh_fail(err, ENH_ENOTFOUND,
                        "%s needs model '%s', which is not installed in %s: install it with `enhance models fetch "
                        "%s`, then restart `enhance serve` or send it SIGHUP to serve it (served now: %s)",
                        asked, name, r->models_dir, name, served);
    return enh_fail(err, ENH_ENOTFOUND,
                    "%s needs model '%s', which is not served here: add {\"name\": \"%s\"} to the \"models\" of %s "
                    "(install it into %s with `ENHANCE_MODELS_DIR=%s enhance models fetch %s`) and send SIGHUP, or "
                    "run `enhance serve` without --models-config to serve every installed model (served now: %s)",
                    asked, name, name, r->source[0] ? r->source : "the --models-config file", r->models_dir,
                    r->models_dir, name, served);
}

enh_status serve_route(serve_registry *r, const enh_ops *ops, serve_model **model, char *route, size_t route_size,
                       enh_error *err)
{
    *model = NULL;
    snprintf(route, route_size, "none");
    if (ops->model[0] && enh_manifest_find_tfjs(ops->model) && ops->upscale == ENH_UPSCALE_NONE)
        return ENH_OK; /* a same-size TF.js restorer: the pipeline runs it itself */
    if (ops->scale > 0 && ops->upscale == ENH_UPSCALE_NONE && !ops->auto_mode && !ops->model[0])
        return enh_fail(err, ENH_EINVAL,
                        "scale=%g needs an upscale method: add upscale=photo (AI), upscale=art (drawings), "
                        "upscale=quality (AI, slower) or upscale=resample (no AI); resize=%g resizes without one",
                        ops->scale, ops->scale);
    if (ops->model[0] && !enh_manifest_find_tfjs(ops->model)) {
        serve_model *m = serve_registry_find(r, ops->model);
        if (!m) {
            char asked[96];
            snprintf(asked, sizeof asked, "model=%.63s", ops->model);
            /* the failure's metrics label: the requested model when it is a known one (client
             * text never becomes a label value: unbounded series) */
            snprintf(route, route_size, "%s", enh_manifest_find(ops->model) ? ops->model : "unknown");
            return not_served(r, ops->model, asked, err);
        }
        *model = m;
        snprintf(route, route_size, "%s", m->cfg.name);
        return ENH_OK;
    }
    const char *purpose = purpose_of_ops(ops);
    if (!purpose)
        return ENH_OK;
    serve_model *m = nearest(r, purpose, ops->scale);
    if (!m) {
        char asked[64];
        snprintf(asked, sizeof asked, "upscale=%s", purpose);
        snprintf(route, route_size, "%s", default_model_of(ops));
        return not_served(r, default_model_of(ops), asked, err);
    }
    *model = m;
    snprintf(route, route_size, "%s", m->cfg.name);
    return ENH_OK;
}
