/* config.c - model repository / config file parsing (see config.h). */
#include "serve/config.h"

#include <dirent.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/json_mem.h"
#include "nn/manifest.h"

/* snprintf for paths; long paths are truncated (and then simply not found). */
__attribute__((format(printf, 3, 4))) static void fmt_path(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

static void default_settings(serve_model_cfg *m)
{
    memset(m, 0, sizeof *m);
    m->instances = 1;
    m->tile_size = 0;
    m->max_batch = 4;
    m->max_queue = 32;
    m->max_queue_delay_ms = 2;
    m->default_deadline_ms = 60000;
}

static void default_models_dir(char *out, size_t n) { fmt_path(out, n, "%s", enh_models_default_dir()); }

void serve_models_config_init(serve_models_config *c)
{
    memset(c, 0, sizeof *c);
    default_models_dir(c->models_dir, sizeof c->models_dir);
    default_settings(&c->resample);
    fmt_path(c->resample.name, sizeof c->resample.name, "none");
    c->resample.max_queue = 64;
}

void serve_models_config_free(serve_models_config *c)
{
    free(c->models);
    c->models = NULL;
    c->nmodels = 0;
}

const serve_model_cfg *serve_models_config_find(const serve_models_config *c, const char *name)
{
    for (int i = 0; i < c->nmodels; i++)
        if (!strcmp(c->models[i].name, name))
            return &c->models[i];
    return NULL;
}

static int name_ok(const char *s)
{
    if (!*s || strlen(s) >= 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static void join(char *out, size_t n, const char *dir, const char *p)
{
    if (p[0] == '/' || !dir[0])
        fmt_path(out, n, "%s", p);
    else
        fmt_path(out, n, "%s/%s", dir, p);
}

static enh_status get_int(json_t *v, const char *where, const char *key, int lo, int hi, int *out, enh_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return enh_fail(err, ENH_EINVAL, "%s.%s must be an integer in %d..%d", where, key, lo, hi);
    *out = (int)json_integer_value(v);
    return ENH_OK;
}

static enh_status get_num(json_t *v, const char *where, const char *key, double lo, double hi, double *out,
                          enh_error *err)
{
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
        return enh_fail(err, ENH_EINVAL, "%s.%s must be a number in %g..%g", where, key, lo, hi);
    *out = json_number_value(v);
    return ENH_OK;
}

/* Applies the MODEL SETTINGS keys; `extra` lists further keys the caller handles itself. */
static enh_status apply_settings(json_t *obj, const char *where, serve_model_cfg *m, const char *const *extra,
                                 enh_error *err)
{
    if (!json_is_object(obj))
        return enh_fail(err, ENH_EINVAL, "%s must be a JSON object", where);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        enh_status st = ENH_OK;
        if (!strcmp(key, "instances"))
            st = get_int(v, where, key, 1, 64, &m->instances, err);
        else if (!strcmp(key, "tile_size"))
            st = get_int(v, where, key, 0, 2048, &m->tile_size, err);
        else if (!strcmp(key, "max_batch"))
            st = get_int(v, where, key, 1, 64, &m->max_batch, err);
        else if (!strcmp(key, "max_queue"))
            st = get_int(v, where, key, 0, 100000, &m->max_queue, err);
        else if (!strcmp(key, "max_queue_delay_ms"))
            st = get_num(v, where, key, 0, 10000, &m->max_queue_delay_ms, err);
        else if (!strcmp(key, "default_deadline_ms"))
            st = get_num(v, where, key, 1, 86400000, &m->default_deadline_ms, err);
        else if (!strcmp(key, "precision")) {
            enh_precision p;
            if (!json_is_string(v) || enh_precision_parse(json_string_value(v), &p) != 0)
                st = enh_fail(err, ENH_EINVAL, "%s.precision must be \"fp32\" or \"bf16\" (or \"auto\": the "
                              "server's default)", where);
            else
                m->precision = p;
        } else {
            int known = 0;
            for (const char *const *e = extra; e && *e; e++)
                known |= !strcmp(*e, key);
            if (!known)
                st = enh_fail(err, ENH_EINVAL,
                              "%s: unknown key '%s' (known: instances, tile_size, max_batch, max_queue, "
                              "max_queue_delay_ms, default_deadline_ms, precision%s)",
                              where, key, extra ? ", and name, param, purpose for a model" : "");
        }
        if (st)
            return st;
    }
    return ENH_OK;
}

static enh_status get_str(json_t *v, const char *where, const char *key, char *out, size_t n, enh_error *err)
{
    if (!json_is_string(v) || json_string_length(v) >= n || json_string_length(v) == 0)
        return enh_fail(err, ENH_EINVAL, "%s.%s must be a non-empty string (< %zu chars)", where, key, n);
    fmt_path(out, n, "%s", json_string_value(v));
    return ENH_OK;
}

enh_status serve_models_config_parse(const char *json, const char *base_dir, serve_models_config *c,
                                     enh_error *err)
{
    serve_models_config_init(c);
    json_error_t je;
    json_t *root;
    if (enh_json_parse(json, strlen(json), JSON_REJECT_DUPLICATES, "the model configuration", &root, &je, err))
        return ENH_ENOMEM;
    if (!root)
        return enh_fail(err, ENH_EINVAL, "line %d column %d: %s", je.line, je.column, je.text);
    enh_status st = ENH_OK;
    serve_model_cfg defaults;
    default_settings(&defaults);
    if (base_dir && *base_dir)
        fmt_path(c->models_dir, sizeof c->models_dir, "%s", base_dir);
    if (!json_is_object(root)) {
        st = enh_fail(err, ENH_EINVAL, "the configuration must be a JSON object");
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "models_dir") && strcmp(key, "defaults") && strcmp(key, "models") && strcmp(key, "resample")) {
            st = enh_fail(err, ENH_EINVAL, "unknown key '%s' (known: models_dir, defaults, resample, models)", key);
            goto done;
        }
    }
    json_t *md = json_object_get(root, "models_dir");
    if (md) {
        char tmp[1024];
        if ((st = get_str(md, "config", "models_dir", tmp, sizeof tmp, err)))
            goto done;
        join(c->models_dir, sizeof c->models_dir, base_dir ? base_dir : "", tmp);
    }
    json_t *def = json_object_get(root, "defaults");
    if (def && (st = apply_settings(def, "defaults", &defaults, NULL, err)))
        goto done;
    c->resample.max_queue = defaults.max_queue > 64 ? defaults.max_queue : 64;
    c->resample.default_deadline_ms = defaults.default_deadline_ms;
    json_t *rs = json_object_get(root, "resample");
    if (rs && (st = apply_settings(rs, "resample", &c->resample, NULL, err)))
        goto done;
    json_t *models = json_object_get(root, "models");
    if (models && !json_is_array(models)) {
        st = enh_fail(err, ENH_EINVAL, "models must be an array of objects");
        goto done;
    }
    size_t n = models ? json_array_size(models) : 0;
    if (n) {
        c->models = calloc(n, sizeof *c->models);
        if (!c->models) {
            st = enh_fail(err, ENH_ENOMEM, "out of memory");
            goto done;
        }
    }
    static const char *const model_keys[] = {"name", "param", "purpose", NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *mo = json_array_get(models, i);
        char where[48];
        fmt_path(where, sizeof where, "models[%zu]", i);
        serve_model_cfg *m = &c->models[i];
        *m = defaults;
        if ((st = apply_settings(mo, where, m, model_keys, err)))
            goto done;
        if ((st = get_str(json_object_get(mo, "name"), where, "name", m->name, sizeof m->name, err)))
            goto done;
        if (!name_ok(m->name)) {
            st = enh_fail(err, ENH_EINVAL, "%s.name '%s' may only use letters, digits, '-', '_' and '.'", where,
                          m->name);
            goto done;
        }
        if (serve_models_config_find(c, m->name)) {
            st = enh_fail(err, ENH_EINVAL, "%s: model '%s' is listed twice", where, m->name);
            goto done;
        }
        char rel[1024];
        json_t *pv = json_object_get(mo, "param");
        if (pv) {
            if ((st = get_str(pv, where, "param", rel, sizeof rel, err)))
                goto done;
            size_t L = strlen(rel);
            if (L <= 6 || strcmp(rel + L - 6, ".param")) {
                st = enh_fail(err, ENH_EINVAL, "%s.param must name an ncnn .param file (its .bin beside it)", where);
                goto done;
            }
            join(m->param_path, sizeof m->param_path, c->models_dir, rel);
            m->custom = 1;
        } else {
            fmt_path(m->param_path, sizeof m->param_path, "%s/%s.param", c->models_dir, m->name);
        }
        fmt_path(m->bin_path, sizeof m->bin_path, "%.*s.bin", (int)strlen(m->param_path) - 6, m->param_path);
        json_t *pu = json_object_get(mo, "purpose");
        if (pu && (st = get_str(pu, where, "purpose", m->purpose, sizeof m->purpose, err)))
            goto done;
        c->nmodels++;
    }
done:
    json_decref(root);
    if (st)
        serve_models_config_free(c);
    return st;
}

static enh_status load_folder(const char *dir, serve_models_config *c, enh_error *err)
{
    serve_models_config_init(c);
    fmt_path(c->models_dir, sizeof c->models_dir, "%s", dir);
    DIR *d = opendir(dir);
    if (!d)
        return enh_fail(err, ENH_ENOTFOUND, "cannot open model repository folder %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t L = strlen(e->d_name);
        if (L <= 6 || strcmp(e->d_name + L - 6, ".param") || L - 6 >= 64)
            continue;
        serve_model_cfg m;
        default_settings(&m);
        memcpy(m.name, e->d_name, L - 6);
        m.name[L - 6] = 0;
        if (!name_ok(m.name))
            continue;
        fmt_path(m.param_path, sizeof m.param_path, "%s/%s.param", dir, m.name);
        fmt_path(m.bin_path, sizeof m.bin_path, "%s/%s.bin", dir, m.name);
        if (!enh_is_file(m.bin_path))
            continue;
        serve_model_cfg *nm = realloc(c->models, (size_t)(c->nmodels + 1) * sizeof *nm);
        if (!nm) {
            closedir(d);
            serve_models_config_free(c);
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        }
        c->models = nm;
        c->models[c->nmodels++] = m;
    }
    closedir(d);
    fmt_path(c->source, sizeof c->source, "%s", dir);
    return ENH_OK;
}

enh_status serve_models_config_load(const char *path, serve_models_config *c, enh_error *err)
{
    char file[1100], base[1024];
    if (enh_is_dir(path)) {
        fmt_path(file, sizeof file, "%s/config.json", path);
        if (!enh_is_file(file))
            return load_folder(path, c, err);
        fmt_path(base, sizeof base, "%s", path);
    } else {
        fmt_path(file, sizeof file, "%s", path);
        fmt_path(base, sizeof base, "%s", path);
        char *slash = strrchr(base, '/');
        if (slash)
            *slash = 0;
        else
            fmt_path(base, sizeof base, ".");
    }
    char *text = NULL;
    size_t len = 0;
    enh_status st = enh_read_file(file, 1 << 20, &text, &len, err);
    if (st)
        return enh_error_prefix(err, "model config %s", file);
    st = serve_models_config_parse(text, base, c, err);
    free(text);
    if (st)
        return enh_error_prefix(err, "model config %s", file);
    fmt_path(c->source, sizeof c->source, "%s", path);
    return ENH_OK;
}
