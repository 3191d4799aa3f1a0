/* brisque.h - BRISQUE no-reference quality score (Mittal, Moorthy, Bovik 2012): MSCN
 * statistics at two scales, GGD/AGGD fits, then an RBF support-vector regression whose model
 * and feature ranges are read from OpenCV's files (Debian opencv-data:
 * /usr/share/opencv4/quality/brisque_model_live.yml, brisque_range_live.yml). Lower = better
 * (about 0..100 on LIVE).
 *
 * Ownership: enh_brisque_load returns a model freed with enh_brisque_free; images are borrowed.
 * Thread-safety: a loaded model is immutable; enh_brisque_score is reentrant.
 * Errors: ENH_ENOTFOUND when a file is missing (the message names the Debian package),
 * ENH_EINVAL for a malformed file, ENH_EUNSUPPORTED for an SVM that is not an RBF regression,
 * ENH_ENOMEM. enh_brisque_score: ENH_EINVAL for an image under 8x8 pixels. An image without
 * local contrast at one of its scales (flat) scores 100 with the LIVE model, as in OpenCV.
 * The scores match OpenCV 4.6's cv::quality::QualityBRISQUE (bench/quality/README.md, brisque). */
#ifndef ENH_ENHANCE_BRISQUE_H
#define ENH_ENHANCE_BRISQUE_H

#include <vips/vips.h>

#include "core/error.h"

#define ENH_BRISQUE_MODEL_DEFAULT "/usr/share/opencv4/quality/brisque_model_live.yml"
#define ENH_BRISQUE_RANGE_DEFAULT "/usr/share/opencv4/quality/brisque_range_live.yml"

/* Number of BRISQUE features: at two scales, the MSCN field's shape and variance and four
 * numbers for each of its four neighbour products. */
#define ENH_BRISQUE_FEATURES 36

typedef struct enh_brisque enh_brisque;

/* NULL paths mean the defaults above. */
enh_status enh_brisque_load(const char *model_yml, const char *range_yml, enh_brisque **out,
                            enh_error *err);
void enh_brisque_free(enh_brisque *b);

/* Score of an 8- or 16-bit image with 1-4 bands (alpha ignored). */
enh_status enh_brisque_score(const enh_brisque *b, VipsImage *in, double *score, enh_error *err);

/* The 36 features of an image before range scaling (needs no model; the benchmark compares them
 * with OpenCV's computeFeatures). */
enh_status enh_brisque_features(VipsImage *in, float features[ENH_BRISQUE_FEATURES], enh_error *err);

/* The score of a feature vector: range scaling to [-1, 1], the RBF SVR, clamped to [0, 100]. */
enh_status enh_brisque_predict(const enh_brisque *b, const float features[ENH_BRISQUE_FEATURES], double *score,
                               enh_error *err);

#endif
