/* moderate.h - image moderation with the nsfwjs classifiers (TF.js models from npm, run by our
 * own runtime): five class probabilities in the package's fixed order. Preprocessing follows
 * nsfwjs exactly: RGB / 255 in float32, then a bilinear resize with align_corners (no
 * antialiasing) of the whole image to S x S (224, or 299 for InceptionV3).
 *
 * Ownership: enh_classifier_load returns an object freed with enh_classifier_free; images
 * are borrowed. Thread-safety: a loaded classifier is immutable; enh_classify is reentrant.
 * Errors: ENH_ENOTFOUND when the model is not installed (the message says
 * `enhance models fetch NAME`), ENH_EINVAL for a damaged model, ENH_ENOMEM. */
#ifndef ENH_ENHANCE_MODERATE_H
#define ENH_ENHANCE_MODERATE_H

#include <vips/vips.h>

#include "core/error.h"
#include "nn/nn_options.h"

#define ENH_NSFW_NCLASSES 5
typedef enum { ENH_NSFW_DRAWING = 0, ENH_NSFW_HENTAI, ENH_NSFW_NEUTRAL, ENH_NSFW_PORN, ENH_NSFW_SEXY } enh_nsfw_class;
/* "drawing", "hentai", "neutral", "porn", "sexy" */
const char *enh_nsfw_class_name(enh_nsfw_class c);

/* The manifest model used when none is named. */
#define ENH_CLASSIFIER_DEFAULT "nsfwjs-mobilenetv2"

typedef struct enh_classifier enh_classifier;

/* Loads manifest model `name` (NULL = ENH_CLASSIFIER_DEFAULT) from `models_dir` (NULL = the
 * default models folder), verifying it like every model. `opt` may be NULL. */
enh_status enh_classifier_load(const char *name, const char *models_dir, const enh_nn_options *opt,
                               enh_classifier **out, enh_error *err);
void enh_classifier_free(enh_classifier *c);
const char *enh_classifier_name(const enh_classifier *c);

/* Probabilities (softmax, sum 1) of an 8/16-bit image with 1-4 bands (alpha dropped, grey
 * expanded to RGB). */
enh_status enh_classify(const enh_classifier *c, VipsImage *in, float probs[ENH_NSFW_NCLASSES],
                        enh_error *err);

/* The pieces of enh_classify, for parity checks against TF.js stage by stage. */
/* Loads a TF.js layers classifier from a file (model.json or model.min.js, shards beside it),
 * unverified: for tests and benchmarks. It must take S x S x 3 and give 5 values. */
enh_status enh_classifier_load_path(const char *model_path, const enh_nn_options *opt, enh_classifier **out,
                                    enh_error *err);
/* S: the square input side (224 or 299). */
int enh_classifier_input_size(const enh_classifier *c);
/* nsfwjs's preprocessing of `in` into nhwc[S * S * 3] (float32 NHWC RGB in [0,1]: what
 * `node run_nsfw.mjs --dump-input` writes). 16-bit samples become 8-bit as pngjs makes them
 * (floor(v * 255 / 65535 + 0.5)); alpha is dropped without compositing, as nsfwjs does. */
enh_status enh_classify_prepare(const enh_classifier *c, VipsImage *in, float *nhwc, enh_error *err);
/* The network and the softmax on a prepared nhwc[S * S * 3]. */
enh_status enh_classify_input(const enh_classifier *c, const float *nhwc, float probs[ENH_NSFW_NCLASSES],
                              enh_error *err);

#endif
