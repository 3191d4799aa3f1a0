/* model_cache.c - shared, reference-counted model cache (see model_cache.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "nn/manifest.h"
#include "nn/model_cache.h"

typedef struct entry {
    char key[4608];
    enh_model *model;  /* NULL while loading */
    int loading;
    int refs;
    unsigned long long used;
    struct entry *next;
} entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static entry *head;
static unsigned long long tick;

static void unlink_entry(entry *e)
{
    for (entry **p = &head; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            return;
        }
}

/* frees unreferenced entries beyond `keep` (LRU first); called with mu held */
static void trim(int keep)
{
    for (;;) {
        int idle = 0;
        entry *lru = NULL;
        for (entry *e = head; e; e = e->next)
            if (!e->loading && e->refs == 0) {
                idle++;
                if (!lru || e->used < lru->used)
                    lru = e;
            }
        if (idle <= keep || !lru)
            return;
        unlink_entry(lru);
        enh_model_free(lru->model);
        free(lru);
    }
}

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
        int n;
        const enh_model_entry *all = enh_manifest_models(&n, NULL);
        char list[1024] = "";
        for (int i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", all[i].name);
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

enh_status enh_model_cache_get(const char *name, const char *models_dir, const enh_nn_options *opt, enh_model **out,
                               enh_error *err)
{
    *out = NULL;
    if (!name || !*name)
        return enh_fail(err, ENH_EINVAL, "no model name given");
    const char *dir = models_dir ? models_dir : enh_models_default_dir();
    opt = enh_nn_options_or_default(opt);
    char key[4608], desc[256];
    enh_nn_options_describe(opt, desc, sizeof desc);
    snprintf(key, sizeof key, "%s\n%s\n%s", name, dir, desc);
    pthread_mutex_lock(&mu);
    for (;;) {
        entry *e = head;
        while (e && strcmp(e->key, key))
            e = e->next;
        if (!e)
            break;
        if (e->loading) {
            pthread_cond_wait(&cv, &mu);
            continue; /* re-scan: the entry may be gone after a failed load */
        }
        e->refs++;
        e->used = ++tick;
        *out = e->model;
        pthread_mutex_unlock(&mu);
        return ENH_OK;
    }
    entry *e = calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&mu);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    snprintf(e->key, sizeof e->key, "%s", key);
    e->loading = 1;
    e->next = head;
    head = e;
    pthread_mutex_unlock(&mu);

    enh_model *m = NULL;
    enh_status st = load(name, dir, opt, &m, err);

    pthread_mutex_lock(&mu);
    e->loading = 0;
    if (st != ENH_OK) {
        unlink_entry(e);
        free(e);
    } else {
        e->model = m;
        e->refs = 1;
        e->used = ++tick;
        *out = m;
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return st;
}

void enh_model_cache_release(enh_model *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&mu);
    for (entry *e = head; e; e = e->next)
        if (e->model == m && e->refs > 0) {
            e->refs--;
            break;
        }
    trim(ENH_MODEL_CACHE_KEEP);
    pthread_mutex_unlock(&mu);
}

int enh_model_cache_clear(void)
{
    pthread_mutex_lock(&mu);
    trim(0);
    int left = 0;
    for (entry *e = head; e; e = e->next)
        left++;
    pthread_mutex_unlock(&mu);
    return left;
}
