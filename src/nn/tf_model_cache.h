/* tf_model_cache.h - process-wide cache of loaded TF.js graph models (tfjs.h), shared by the
 * pipeline and the server, as model_cache.h is for ncnn models. A model is loaded once per
 * (name, models folder), after a full sha256 check of its files against the manifest, and
 * handed out by reference; concurrent requests for a model being loaded wait for that one load.
 * Unreferenced models beyond the first ENH_TF_MODEL_CACHE_KEEP (least recently used first) are
 * freed: a MAXIM model holds 60-90 MB of float weights plus its per-size specialisations.
 *
 * NAME is a manifest name of format tfjs ("maxim-denoising") or a path to a model.json (custom
 * models: loaded without a checksum, shards beside it).
 * Thread-safety: all functions are thread-safe. Every successful get needs one release.
 * Errors: ENH_ENOTFOUND (unknown / not installed: the message says how to fetch it),
 * ENH_EUNSUPPORTED (a manifest model of another format), ENH_EINVAL (corrupt files), or the
 * loader's error.
 */
#ifndef ENH_NN_TF_MODEL_CACHE_H
#define ENH_NN_TF_MODEL_CACHE_H

#include "core/error.h"
#include "nn/tfjs.h"

#define ENH_TF_MODEL_CACHE_KEEP 2

/* models_dir NULL = enh_models_default_dir(). */
enh_status enh_tf_model_cache_get(const char *name, const char *models_dir, enh_tf_model **out, enh_error *err);
void enh_tf_model_cache_release(enh_tf_model *m);
/* Frees every unreferenced model (tests, shutdown). Returns how many are still referenced. */
int enh_tf_model_cache_clear(void);

#endif
