/* assess.h - no-reference quality assessment of a photo: what is wrong with it, how badly.
 *
 * Every measure is documented with its method in assess.c / assess_jpeg.c. Summary:
 *   blur          perceptual blur (Crete-Roffet 2007 re-blur ratio) on gamma-coded luma, 0..1, of
 *                 the sharper blocks (20th percentile) and of the sharpest region (5th)
 *   blockiness    8x8 boundary discontinuity ratio on luma at the best grid phase, >= 0
 *   jpeg_quality  IJG quality from the file's DQT table when the file is a JPEG, otherwise
 *                 estimated from the periodicity of the 8x8 DCT coefficient histograms; -1 = no
 *                 JPEG quantisation found (not a JPEG, or quality >= ~95)
 *   noise_sigma   Immerkaer (1996) fast noise estimate on flat 16x16 blocks, per RGB channel,
 *                 in 0..255 units (the sigma of Gaussian noise added to each channel)
 *   noise kind    chroma/luma ratio of that noise: per-channel (synthetic) vs luma-only (camera, JPEG)
 *   exposure      linear-light luminance Y (sRGB transfer undone), CIE L* percentiles, clipping
 *   colour cast   illuminant estimate in linear RGB (colour_estimate.h: white patch, shades of
 *                 grey, grey edge, grey pixels combined), expressed as the CIELAB a*, b* that a
 *                 neutral mid-grey takes under it (D65 white), its angle from neutral and the
 *                 estimators' agreement; where highlights clipped before a cast, the gain
 *                 measured from the clipped white (colour_clip.c) decides
 *   score         0..100 overall (100 = nothing to fix), from the per-degradation severities
 * The dominant degradation is the most severe one at or above 0.5, else low_resolution for small
 * images, else none.
 *
 * Ownership: `in` is borrowed and not modified. Thread-safety: reentrant (no globals).
 * Errors: ENH_EINVAL for an empty image, ENH_EINTERNAL/ENH_ENOMEM for libvips failures.
 */
#ifndef ENH_ENHANCE_ASSESS_H
#define ENH_ENHANCE_ASSESS_H

#include <vips/vips.h>

#include "core/error.h"

typedef enum {
    ENH_DEG_NONE = 0,
    ENH_DEG_BLUR,
    ENH_DEG_JPEG,
    ENH_DEG_NOISE,
    ENH_DEG_UNDEREXPOSED,
    ENH_DEG_OVEREXPOSED,
    ENH_DEG_COLOUR_CAST,
    ENH_DEG_LOW_RESOLUTION,
    ENH_DEG_COUNT
} enh_degradation;

typedef struct enh_assessment {
    int width, height;
    double megapixels;
    int analysed_width, analysed_height; /* local measures run on a centre crop of huge images */
    /* sharpness */
    double blur;          /* 0 (crisp) .. 1 (very blurry) */
    double sharpness;     /* 100 * (1 - blur) */
    double blur_sharpest; /* the same measure on the sharpest 5% of the blocks (a shallow depth of field
                           * keeps its subject sharp; a blurred photo has no sharp region) */
    int blur_blocks;      /* 64x64 blocks with enough edges to judge blur (fewer than 4: not judged) */
    /* compression */
    double blockiness;    /* 0 = no 8x8 grid; > 0.1 visible blocking */
    int jpeg_quality;     /* 1..100, -1 unknown */
    int jpeg_quality_from_file; /* 1 if read from the file's quantisation table */
    /* noise */
    double noise_sigma;   /* 0..255 units */
    double noise_chroma_ratio; /* pixel-level chroma noise over luma noise on flat blocks: ~1 for noise
                                * independent per R, G, B channel (synthetic Gaussian), < 0.3 for noise
                                * that went through a camera pipeline or a 4:2:0 JPEG; -1 unknown (grey) */
    /* exposure */
    double mean_luminance;   /* linear Y, 0..1 */
    double mean_lightness;   /* CIE L*, 0..100 */
    double l_p01, l_p50, l_p99, l_p999; /* L* percentiles */
    double clip_dark, clip_bright; /* fraction of pixels with all channels <= 2 / any channel >= 253 (of 255) */
    double exposure_ev;      /* correction to apply, EV (>0 under-, <0 over-exposed) */
    double highlight_ev;     /* EV that would bring the brightest channel's 99.99th percentile to 0.98 */
    /* colour */
    double cast_a, cast_b, cast_chroma; /* CIELAB of a mid-grey under the estimated illuminant */
    double illuminant[3];               /* linear RGB, normalised to G = 1 */
    double cast_angle;                  /* degrees between the estimate and neutral */
    double cast_spread;                 /* degrees: largest disagreement between the estimators */
    double cast_classical_angle;        /* degrees: the classical estimators' combination from neutral */
    double cast_disagree;               /* degrees between the learned and the classical estimate */
    double cast_confidence;             /* 0..1: share of the correction auto colour applies */
    int cast_clipped;                   /* 1: the estimate comes from clipped highlights (measured gain) */
    /* verdict */
    double severity[ENH_DEG_COUNT]; /* 0..1 per degradation (index by enh_degradation); 0.5 = present */
    enh_degradation dominant;
    double score;                   /* 0..100 */
} enh_assessment;

enh_status enh_assess_image(VipsImage *in, enh_assessment *out, enh_error *err);
/* Same, reading the JPEG quality from the quantisation table of the file at jpeg_path (when it is
 * a JPEG; decoded images no longer carry their file). NULL path = enh_assess_image. */
enh_status enh_assess_image_path(VipsImage *in, const char *jpeg_path, enh_assessment *out, enh_error *err);

const char *enh_degradation_name(enh_degradation d);

/* The noise kind from noise_chroma_ratio: "luma" (below ENH_NOISE_LUMA_RATIO: camera-processed or
 * JPEG-stored noise, which the denoising network was trained on), "per-channel" (independent in
 * R, G, B: synthetic Gaussian, where the DCT filter measured better) or "unknown" (-1). The
 * threshold sits between the largest ratio of JPEG-stored noise (0.17) and the smallest of
 * per-channel noise (0.77) measured on the benchmark crops. */
#define ENH_NOISE_LUMA_RATIO 0.45
const char *enh_noise_kind(const enh_assessment *a);

/* Human-readable multi-line report into buf (always NUL-terminated). Returns chars written. */
size_t enh_assessment_format(const enh_assessment *a, char *buf, size_t size);
/* JSON object (malloc'd string, caller frees); NULL on OOM. */
char *enh_assessment_to_json(const enh_assessment *a);

/* --- the blur measure (assess_blur.c) --- */
/* BT.601 luma (0..255 floats) of n interleaved 8-bit sRGB pixels after a linear-light gain
 * (1 = the pixels as they are; above 1, clipped at white). */
void enh_blur_luma(const unsigned char *rgb, size_t n, double gain, float *y);
/* Blur of luma y: the 20th percentile of the 64x64 blocks with edges (0 crisp .. 1), the 5th in
 * *sharpest, the number of those blocks in *blocks (< 4: the whole image's ratio, not judged);
 * -1 when out of memory. A block has edges when its mean neighbour difference reaches 1 level;
 * `stored` is the luma as stored when y is a brightened copy (else y itself): then *blocks is
 * the smaller of the two images' counts. */
double enh_blur_measure(const float *y, const float *stored, int w, int h, double *sharpest, int *blocks);
/* Blur severity 0..1 from blur, blur_sharpest, blur_blocks and megapixels. */
double enh_blur_severity(const enh_assessment *a);

/* --- helpers shared by the restoration stages (assess_jpeg.c) --- */
/* IJG quality of a JPEG file's luminance quantisation table; -1 if none / not a JPEG. */
int enh_jpeg_file_quality(const char *path);
/* Estimates the JPEG quality of an 8-bit RGB image (interleaved) and its BT.601 luma (w*h floats,
 * 0..255) whose 8x8 grid starts at (ox, oy) from the periodicity of its DCT coefficients; -1 if
 * no quantisation is found, -2 when out of memory. */
int enh_jpeg_estimate_quality(const unsigned char *rgb, const float *luma, int w, int h, int ox, int oy);

#endif
