/* dct_filter.h - sliding-window 8x8 DCT filtering of float planes (internal to src/enhance).
 *
 * The plane is cut into 8x8 blocks at every grid shift in a set (all 64 shifts, or every
 * `step`-th shift in x and y), each block is transformed with the orthonormal 2-D DCT-II, its
 * coefficients are changed, it is transformed back, and the results of all shifts are averaged
 * (translation-invariant "cycle spinning"). Two coefficient rules:
 *  - ENH_DCT_REQUANTISE: c -> Q * round(c / Q) with a JPEG table: re-application of JPEG
 *    (Nosratinia, "Enhancement of JPEG-compressed images by re-application of JPEG", 2001),
 *    which removes blocking and ringing from decoded JPEG images.
 *  - ENH_DCT_HARD_THRESHOLD: AC coefficients with |c| < thr are zeroed: DCT denoising
 *    (Yu & Sapiro, IPOL 2011), thr = 3 sigma for Gaussian noise of std sigma.
 * Borders are handled by mirroring 8 pixels. Work is spread over the pool by block rows.
 * Thread-safety: reentrant. Errors: ENH_ENOMEM.
 */
#ifndef ENH_ENHANCE_DCT_FILTER_H
#define ENH_ENHANCE_DCT_FILTER_H

#include "core/error.h"
#include "core/pool.h"

typedef enum { ENH_DCT_REQUANTISE = 0, ENH_DCT_HARD_THRESHOLD } enh_dct_rule;

typedef struct enh_dct_filter {
    enh_dct_rule rule;
    float table[64];   /* REQUANTISE: steps in natural (row-major) order */
    float threshold;   /* HARD_THRESHOLD */
    int step;          /* grid shift step: 1 = all 64 shifts (best), 2 = 16 shifts, 4 = 4 shifts */
} enh_dct_filter;

/* Filters plane (w x h floats, row stride w) in place. pool NULL = enh_pool_default(). */
enh_status enh_dct_filter_plane(float *plane, int w, int h, const enh_dct_filter *f, enh_pool *pool,
                                enh_error *err);

/* IJG table for quality q (1..100), luminance (chroma = 0) or chrominance (chroma = 1). */
void enh_jpeg_table(int q, int chroma, float table[64]);

#endif
