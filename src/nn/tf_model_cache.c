/* tf_model_cache.c - shared, reference-counted cache of TF.js graph models (see tf_model_cache.h).
 * Same scheme as model_cache.c (the ncnn one): a list of entries under one mutex, a loading
 * entry that others wait on, LRU trimming of unreferenced models. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "nn/manifest.h"
#include "nn/tf_model_cache.h"

typedef struct entry {
    char key[4352];
    enh_tf_model *model; /* NULL while loading */
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
        enh_tf_model_free(lru->model);
        free(lru);
    }
}

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
        int n;
        const enh_model_entry *all = enh_manifest_models(&n, NULL);
        char list[1024] = "";
        for (int i = 0; i < n; i++)
            if (all[i].format == ENH_MODEL_TFJS)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", all[i].name);
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

enh_status enh_tf_model_cache_get(const char *name, const char *models_dir, enh_tf_model **out, enh_error *err)
{
    *out = NULL;
    if (!name || !*name)
        return enh_fail(err, ENH_EINVAL, "no model name given");
    const char *dir = models_dir ? models_dir : enh_models_default_dir();
    char key[4352];
    snprintf(key, sizeof key, "%s\n%s", name, dir);
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

    enh_tf_model *m = NULL;
    enh_status st = load(name, dir, &m, err);

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

void enh_tf_model_cache_release(enh_tf_model *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&mu);
    for (entry *e = head; e; e = e->next)
        if (e->model == m && e->refs > 0) {
            e->refs--;
            break;
        }
    trim(ENH_TF_MODEL_CACHE_KEEP);
    pthread_mutex_unlock(&mu);
}

int enh_tf_model_cache_clear(void)
{
    pthread_mutex_lock(&mu);
    trim(0);
    int left = 0;
    for (entry *e = head; e; e = e->next)
        left++;
    pthread_mutex_unlock(&mu);
    return left;
}
