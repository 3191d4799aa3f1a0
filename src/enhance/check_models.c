/* check_models.c - enh_checker: the classifier and the BRISQUE model of the checks, each
 * loaded once on first use under the checker's mutex and shared read-only afterwards
 * (see check.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enhance/brisque.h"
#include "enhance/check.h"

/* One lazily loaded model: loaded, or failed for good (a damaged file), or not yet / not
 * installed (tried again next time: installing it must not need a restart). */
typedef struct lazy {
    void *model;
    enh_status failed; /* sticky failure, ENH_OK when none */
    enh_error err;
} lazy;

struct enh_checker {
    pthread_mutex_t mu;
    char classifier[64];
    char *models_dir, *brisque_model, *brisque_range;
    enh_nn_options nn;
    int has_nn;
    lazy cls, brq;
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

enh_checker *enh_checker_new(const char *classifier, const char *models_dir, const enh_nn_options *opt,
                             const char *brisque_model, const char *brisque_range)
{
    enh_checker *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    pthread_mutex_init(&k->mu, NULL);
    snprintf(k->classifier, sizeof k->classifier, "%s", classifier && *classifier ? classifier : ENH_CLASSIFIER_DEFAULT);
    k->models_dir = dup_or_null(models_dir);
    k->brisque_model = dup_or_null(brisque_model);
    k->brisque_range = dup_or_null(brisque_range);
    if (opt) {
        k->nn = *opt;
        k->has_nn = 1;
    }
    if ((models_dir && !k->models_dir) || (brisque_model && !k->brisque_model) || (brisque_range && !k->brisque_range)) {
        enh_checker_free(k);
        return NULL;
    }
    return k;
}

void enh_checker_free(enh_checker *k)
{
    if (!k)
        return;
    enh_classifier_free(k->cls.model);
    enh_brisque_free(k->brq.model);
    free(k->models_dir);
    free(k->brisque_model);
    free(k->brisque_range);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

const char *enh_checker_classifier_name(const enh_checker *k) { return k->classifier; }

/* Failures that a later call may not repeat: the model is missing (it may be installed), or
 * memory ran out. Anything else (a damaged file, not built) stays. */
static int retry_later(enh_status st) { return st == ENH_ENOTFOUND || st == ENH_ENOMEM; }

enh_status enh_checker_classifier(enh_checker *k, const enh_classifier **out, enh_error *err)
{
    pthread_mutex_lock(&k->mu);
    enh_status st = ENH_OK;
    if (!k->cls.model && !k->cls.failed) {
        enh_classifier *c = NULL;
        st = enh_classifier_load(k->classifier, k->models_dir, k->has_nn ? &k->nn : NULL, &c, &k->cls.err);
        if (!st)
            k->cls.model = c;
        else if (!retry_later(st))
            k->cls.failed = st;
        if (st && err)
            *err = k->cls.err;
    } else if (k->cls.failed) {
        st = k->cls.failed;
        if (err)
            *err = k->cls.err;
    }
    *out = k->cls.model;
    pthread_mutex_unlock(&k->mu);
    return st;
}

enh_status enh_checker_brisque(enh_checker *k, const struct enh_brisque **out, enh_error *err)
{
    pthread_mutex_lock(&k->mu);
    enh_status st = ENH_OK;
    if (!k->brq.model && !k->brq.failed) {
        enh_brisque *b = NULL;
        st = enh_brisque_load(k->brisque_model, k->brisque_range, &b, &k->brq.err);
        if (!st)
            k->brq.model = b;
        else if (!retry_later(st))
            k->brq.failed = st;
        if (st && err)
            *err = k->brq.err;
    } else if (k->brq.failed) {
        st = k->brq.failed;
        if (err)
            *err = k->brq.err;
    }
    *out = k->brq.model;
    pthread_mutex_unlock(&k->mu);
    return st;
}
