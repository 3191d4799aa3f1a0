/* colour_estimate.h - illuminant (colour cast) estimation for auto white balance.
 *
 * Works in linear light (sRGB transfer undone) on a box-shrunk copy of at most ~250k pixels;
 * every estimate is the colour of the light as a linear RGB vector.
 *
 * The estimate e is the learned estimator's (colour_learned.h: a filter over log-chroma
 * histograms of the pixels and of their gradients, after Barron's CCC/FFCC, trained by
 * bench/quality/cast_learn.py on images disjoint from the quality benchmark). `confidence`, the
 * exponent applied to the von Kries gains, is clamp((25 - angle) / 10): full up to 15 degrees from
 * neutral (the casts are 7..13 degrees), nothing beyond 25 (scene colour). Measured
 * (cast_learn.py train, B100 last 40, random gains 0.7..1.4): angular error mean 5.3 deg on casts,
 * 3.7 on the originals; the learned estimate alone cuts the a*b* error of the cast suite's four
 * gains by 57% there (true gains: 92%).
 *
 * The classical estimators are kept as a second opinion for naming (assess.c) and as diagnostics:
 *   white patch   each channel's 99.5th percentile (robust max-RGB)
 *   shades of grey  Minkowski p = 6 mean over unclipped, non-black pixels (Finlayson & Trezzi 2004)
 *   grey edge     Minkowski p = 6 mean of the 1st-order gradient magnitude after a Gaussian of
 *                 sigma 1 (van de Weijer et al. 2007), away from clipped pixels
 *   grey pixels   pixels whose local contrast (|Laplacian| of the Gaussian-smoothed log channels)
 *                 is equal across channels (Yang et al. 2015; Qian et al. 2019); the 0.1% greyest
 *                 pixels' chromaticities are averaged (diagnostic only)
 * `classical` is the geometric mean of the first three (unit vectors), `spread_deg` the largest
 * angle between two of them. Alone they cut the cast error by about a quarter (26% on the
 * benchmark): the estimate of a clean, already white-balanced photo lies 7 degrees from neutral
 * (median; 17 at the 90th percentile), as far as the casts. Gating the learned estimate by its
 * disagreement with the classical one (10..20 degrees) was tried and lowered the cut on the
 * tuning split (55% -> 51%), so it is not used.
 *
 * Clipped highlights (colour_clip.c, enh_clip_white) override that where they can: highlights
 * that clipped at capture pile up at 255 in every channel; a per-channel linear gain g < 1 applied
 * afterwards moves a channel's pile-up to 255 * srgb(g), so its ceiling measures g directly
 * (1% in tests/enhance/test_colour.c). A channel whose gain is >= 1 keeps its pile-up at 255:
 * its gain is only bounded (>= its ceiling's linear value) and is taken from the learned
 * estimate scaled to the measured channels. When some channel is lowered (a pile-up of >= 4x the
 * levels below, >= 0.005% of the pixels, at 120..250) while another still reaches the top, e is
 * the measured gain vector and confidence 1. Measured on the tuning set with the four casts of
 * bench/quality/run.py: found on 101/224 cast images and 0/56 clean ones. Limits: it needs
 * highlights that clipped before the cast (the synthetic casts, filters and 8-bit edits; a camera
 * with the wrong white balance usually renders its clipped highlights neutral itself, so this cue
 * does not see in-camera casts), and a pure boost of one channel (e.g. green x1.3) leaves the
 * clipped white white, so it is not found.
 *
 * Thread-safety: reentrant (no globals). Errors: ENH_ENOMEM, ENH_EINVAL (image < 8x8).
 */
#ifndef ENH_ENHANCE_COLOUR_ESTIMATE_H
#define ENH_ENHANCE_COLOUR_ESTIMATE_H

#include <stddef.h>

#include "core/error.h"

/* White point from clipped highlights (colour_clip.c). */
typedef struct enh_clip_white {
    int ceiling[3];   /* highest 8-bit level with more than a stray few pixels, per channel */
    double spike[3];  /* count at the ceiling / (mean count 3..10 levels below + 1) */
    int piled[3];     /* the ceiling is a clipping pile-up */
    int lowered[3];   /* ... and lies at 120..250: a linear gain < 1 applied after clipping */
    double gain[3];   /* linear value of the ceiling: the gain where lowered, a lower bound elsewhere */
    int found;        /* some channel lowered while another still reaches the top (> 250) */
} enh_clip_white;

/* rgb: 8-bit sRGB, interleaved, n pixels (full resolution). Reentrant, cannot fail. */
void enh_clip_white_point(const unsigned char *rgb, size_t n, enh_clip_white *out);

typedef struct enh_illuminant {
    double e[3];            /* the estimate, linear RGB, unit length */
    double classical[3];    /* geometric mean of white patch, shades of grey, grey edge */
    double learned_uv[2];   /* the learned estimate as log(G/R), log(G/B) (colour_learned.h) */
    double learned_spread;  /* its uncertainty, log-chroma units */
    double disagree_deg;    /* angle between the learned and the classical estimate */
    double white_patch[3];  /* the estimators, unit length */
    double shades_of_grey[3];
    double grey_edge[3];
    double grey_pixels[3];
    double spread_deg;      /* largest pairwise angle between the three combined, degrees */
    double neutral_deg;     /* angle between e and (1,1,1), degrees */
    double confidence;      /* 0..1 */
    enh_clip_white clip;    /* the clipped-highlight white point; when found it decides e */
} enh_illuminant;

/* rgb: 8-bit sRGB, interleaved, w*h pixels. */
enh_status enh_estimate_illuminant(const unsigned char *rgb, int w, int h, enh_illuminant *out, enh_error *err);

/* Angle between two RGB vectors, degrees. */
double enh_rgb_angle_deg(const double a[3], const double b[3]);

#endif
