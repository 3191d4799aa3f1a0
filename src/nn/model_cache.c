/* model_cache.c - shared, reference-counted model cache (see model_cache.h): the ncnn
 * loader behind the generic cache of core/shared_cache.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/shared_cache.h"
#include "nn/manifest.h"
#include "nn/model_cache.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static enh_status load(const char *name, const char *dir, const enh_nn_options *opt, enh_model **out,
                       enh_error *err)
{
    char param[4352], bin[4352];
    if (ends_with(name, ".param")) {
        if (strlen(name) >= sizeof param)
            return enh_fail(err, ENH_EINVAL, "model path too long");
        snprintf(param, sizeof param, "%s", name);
        snprintf(bin, sizeof bin, "%.*s.bin", (int)(strlen(name) - 6), name);
        return enh_model_load_ncnn_ex(param, bin, opt, out, err);
    }
    const enh_model_entry *e = enh_manifest_find(name);
    if (!e) {
        char list[1024];
        enh_status st = enh_manifest_names(-1, list, sizeof list, err);
        if (st != ENH_OK)
            return st;
        return enh_fail(err, ENH_ENOTFOUND, "unknown model '%s' (known: %s; or a path to an ncnn .param file)", name, list);
    }
    enh_status st = enh_model_verify(e, dir, err);
    if (st == ENH_OK)
        st = enh_model_files(e, dir, param, bin, sizeof param, err);
    if (st != ENH_OK)
        return st;
    double t0 = enh_now();
    st = enh_model_load_ncnn_ex(param, bin, opt, out, err);
    if (st == ENH_OK) {
        char desc[256];
        enh_nn_options_describe(opt, desc, sizeof desc);
        ENH_LOGI("loaded model %s (%s) in %.2f s", name, desc, enh_now() - t0);
    }
    return st;
}

static void free_model(void *m) { enh_model_free(m); }
static enh_shared_cache cache = ENH_SHARED_CACHE_INIT(ENH_MODEL_CACHE_KEEP, free_model);

typedef struct {
    const char *name, *dir;
    const enh_nn_options *opt;
} load_args;

static enh_status load_cb(void *ctx, void **obj, enh_error *err)
{
    load_args *a = ctx;
    enh_model *m = NULL;
    enh_status st = load(a->name, a->dir, a->opt, &m, err);
    *obj = m;
    return st;
}

enh_status enh_model_cache_get(const char *name, const char *models_dir, const enh_nn_options *opt, enh_model **out,
                               enh_error *err)
{
    *out = NULL;
    if (!name || !*name)
        return enh_fail(err, ENH_EINVAL, "no model name given");
    load_args a = {name, models_dir ? models_dir : enh_models_default_dir(), enh_nn_options_or_default(opt)};
    char key[4608], desc[256];
    enh_nn_options_describe(a.opt, desc, sizeof desc);
    snprintf(key, sizeof key, "%s\n%s\n%s", name, a.dir, desc);
    void *obj = NULL;
    enh_status st = enh_shared_cache_get(&cache, key, load_cb, &a, &obj, err);
    *out = obj;
    return st;
}

void enh_model_cache_release(enh_model *m) { enh_shared_cache_release(&cache, m); }

int enh_model_cache_clear(void) { return enh_shared_cache_clear(&cache); }
