/* colour_estimate.h - illuminant (colour cast) estimation for auto white balance.
 *
 * Four classical estimators run in linear light (sRGB transfer undone) on a box-shrunk copy of
 * at most ~250k pixels; each gives the colour of the light as a linear RGB vector:
 *   white patch   each channel's 99.5th percentile (robust max-RGB)
 *   shades of grey  Minkowski p = 6 mean over unclipped, non-black pixels (Finlayson & Trezzi 2004)
 *   grey edge     Minkowski p = 6 mean of the 1st-order gradient magnitude after a Gaussian of
 *                 sigma 1 (van de Weijer et al. 2007), away from clipped pixels
 *   grey pixels   pixels whose local contrast (|Laplacian| of the Gaussian-smoothed log channels)
 *                 is equal across channels (Yang et al. 2015; Qian et al. 2019); the 0.1% greyest
 *                 pixels' chromaticities are averaged
 * The estimate is the geometric mean of the first three (unit vectors); grey pixels are reported
 * but not combined (measured: +1 point of cast cut, and not equivariant to channel gains on
 * shaded uniformly coloured surfaces). `spread` is the largest angle between two of the three
 * (degrees). When the estimators disagree the scene colour, not the light,
 * drives some of them; an estimate far from neutral (beyond the ~15 degrees of real casts) is
 * mostly scene colour. `confidence`, the exponent applied to the von Kries gains, is
 *   clamp((25 - spread) / 15) * clamp((25 - angle) / 10) * min(1, 12 / angle)
 * (the last factor caps the applied correction near 12 degrees). Tuned on Kodak24 09-24 + the
 * first 40 B100 images (bench/quality/cast_eval.py): the estimate of a clean, already
 * white-balanced photo lies 7 degrees from neutral (median; 17 at the 90th percentile), as far
 * as the casts (8..15 degrees), so a cast cannot be told from scene colour reliably on
 * generic photos; correction cuts the cast error by about a third there, not the 70% asked for
 * (correcting with the true gains would cut 91%).
 *
 * Thread-safety: reentrant (no globals). Errors: ENH_ENOMEM, ENH_EINVAL (image < 8x8).
 */
#ifndef ENH_ENHANCE_COLOUR_ESTIMATE_H
#define ENH_ENHANCE_COLOUR_ESTIMATE_H

#include <stddef.h>

#include "core/error.h"

typedef struct enh_illuminant {
    double e[3];            /* combined estimate, linear RGB, unit length */
    double white_patch[3];  /* the estimators, unit length */
    double shades_of_grey[3];
    double grey_edge[3];
    double grey_pixels[3];
    double spread_deg;      /* largest pairwise angle between the three combined, degrees */
    double neutral_deg;     /* angle between e and (1,1,1), degrees */
    double confidence;      /* 0..1 */
} enh_illuminant;

/* rgb: 8-bit sRGB, interleaved, w*h pixels. */
enh_status enh_estimate_illuminant(const unsigned char *rgb, int w, int h, enh_illuminant *out, enh_error *err);

/* Angle between two RGB vectors, degrees. */
double enh_rgb_angle_deg(const double a[3], const double b[3]);

#endif
