/* model_cache.h - process-wide cache of loaded models, shared by the pipeline and the
 * server. A model is loaded once per (name, models folder, runtime options), after a full sha256 check of
 * its files against the manifest, and handed out by reference; concurrent requests for a
 * model being loaded wait for that one load. Unreferenced models beyond the first
 * ENH_MODEL_CACHE_KEEP (least recently used first) are freed. The runtime options
 * (nn_options.h: precision, kernel path, ...) are part of the key, so the same model can be held
 * in fp32 and in bf16 side by side; options that describe alike (enh_nn_options_describe:
 * DEFAULT precision = fp32) share one model.
 *
 * NAME is a manifest name ("realesrgan-x4fast") or a path to an ncnn .param file whose
 * .bin sits beside it (custom models: loaded without a checksum).
 * Thread-safety: all functions are thread-safe. Every successful get needs one release.
 * Errors: ENH_ENOTFOUND (unknown / not installed: the message says how to fetch it),
 * ENH_EINVAL (corrupt files), or the loader's error.
 */
#ifndef ENH_NN_MODEL_CACHE_H
#define ENH_NN_MODEL_CACHE_H

#include "core/error.h"
#include "nn/nn.h"

#define ENH_MODEL_CACHE_KEEP 3

/* models_dir NULL = enh_models_default_dir(); opt NULL = the process default options. */
enh_status enh_model_cache_get(const char *name, const char *models_dir, const enh_nn_options *opt, enh_model **out,
                               enh_error *err);
void enh_model_cache_release(enh_model *m);
/* Frees every unreferenced model (tests, shutdown). Returns how many are still referenced. */
int enh_model_cache_clear(void);

#endif
