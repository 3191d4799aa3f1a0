/* brisque_internal.h - what the BRISQUE files share: the loaded model and the feature
 * extractor on a grey plane (brisque_features.c), for brisque.c, brisque_model.c and the tests.
 *
 * Ownership: planes are borrowed. Thread-safety: reentrant. Errors: ENH_EINVAL (image too small),
 * ENH_ENOMEM. */
#ifndef ENH_ENHANCE_BRISQUE_INTERNAL_H
#define ENH_ENHANCE_BRISQUE_INTERNAL_H

#include "enhance/brisque.h"

/* The smallest side the features are defined for (the half scale must keep a 4x4 MSCN field). */
#define ENH_BRISQUE_MIN_SIDE 8

struct enh_brisque {
    int nsv;         /* support vectors used by the decision function */
    float *sv;       /* nsv x ENH_BRISQUE_FEATURES, in the decision function's order */
    double *alpha;   /* nsv coefficients */
    double rho;      /* prediction = sum alpha_i exp(-gamma |sv_i - x|^2) - rho */
    double gamma;
    float range_min[ENH_BRISQUE_FEATURES], range_max[ENH_BRISQUE_FEATURES];
};

/* Features of a w x h plane of grey values already scaled to 0..1 as OpenCV does
 * (g * (float)(1/255)); grey is borrowed. */
enh_status enh_brisque_features_plane(const float *grey, int w, int h, float feat[ENH_BRISQUE_FEATURES],
                                      enh_error *err);

#endif
