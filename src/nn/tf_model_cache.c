/* tf_model_cache.c - shared, reference-counted cache of TF.js graph models (see
 * tf_model_cache.h): the TF.js loader behind the generic cache of core/shared_cache.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/shared_cache.h"
#include "nn/manifest.h"
#include "nn/tf_model_cache.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static enh_status load(const char *name, const char *dir, enh_tf_model **out, enh_error *err)
{
    if (ends_with(name, ".json"))
        return enh_tf_model_load(name, out, err);
    const enh_model_entry *e = enh_manifest_find(name);
    if (!e || e->format != ENH_MODEL_TFJS) {
        char list[1024];
        enh_status st = enh_manifest_names(ENH_MODEL_TFJS, list, sizeof list, err);
        if (st != ENH_OK)
            return st;
        if (e)
            return enh_fail(err, ENH_EUNSUPPORTED, "model '%s' is an %s model, not a TF.js graph model (those are: %s)",
                            name, enh_model_format_name(e->format), list);
        return enh_fail(err, ENH_ENOTFOUND, "unknown TF.js model '%s' (known: %s; or a path to a model.json)", name,
                        list);
    }
    char path[4352];
    double t0 = enh_now();
    enh_status st = enh_model_verify(e, dir, err);
    if (st == ENH_OK)
        st = enh_model_tfjs_path(e, dir, path, sizeof path, err);
    if (st != ENH_OK)
        return st;
    double t1 = enh_now();
    st = enh_tf_model_load(path, out, err);
    if (st == ENH_OK)
        ENH_LOGI("loaded model %s in %.2f s (sha256 check %.2f s)", name, enh_now() - t0, t1 - t0);
    return st;
}

static void free_model(void *m) { enh_tf_model_free(m); }
static enh_shared_cache cache = ENH_SHARED_CACHE_INIT(ENH_TF_MODEL_CACHE_KEEP, free_model);

typedef struct {
    const char *name, *dir;
} load_args;

static enh_status load_cb(void *ctx, void **obj, enh_error *err)
{
    load_args *a = ctx;
    enh_tf_model *m = NULL;
    enh_status st = load(a->name, a->dir, &m, err);
    *obj = m;
    return st;
}

enh_status enh_tf_model_cache_get(const char *name, const char *models_dir, enh_tf_model **out, enh_error *err)
{
    *out = NULL;
    if (!name || !*name)
        return enh_fail(err, ENH_EINVAL, "no model name given");
    load_args a = {name, models_dir ? models_dir : enh_models_default_dir()};
    char key[4352];
    snprintf(key, sizeof key, "%s\n%s", name, a.dir);
    void *obj = NULL;
    enh_status st = enh_shared_cache_get(&cache, key, load_cb, &a, &obj, err);
    *out = obj;
    return st;
}

void enh_tf_model_cache_release(enh_tf_model *m) { enh_shared_cache_release(&cache, m); }

int enh_tf_model_cache_clear(void) { return enh_shared_cache_clear(&cache); }
