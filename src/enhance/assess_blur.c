/* assess_blur.c - the blur measure of the assessment and its verdict (see assess.h).
 *
 * Measure (Crete-Roffet et al., "The blur effect", SPIE 2007): the gamma-coded luma Y' is
 * blurred again with a 9-tap box along x and along y; where the image was sharp, re-blurring
 * removes much of the neighbour difference, where it was already blurred little changes.
 * blur = max over directions of 1 - sum(max(0, |dF| - |dB|)) / sum(|dF|), 0..1, per 64x64
 * block; the image's blur is the 20th percentile over the blocks with enough edges to judge
 * (mean |dF| >= 1 level in both directions), i.e. its sharper parts, and blur_sharpest the 5th
 * percentile (the sharpest region: a shallow depth of field leaves the subject sharp, a blurred
 * photo has no sharp part).
 *
 * Not judged: an image with fewer than 4 such blocks has too little structure to tell blur from
 * a flat scene, and its blur severity is 0 (the whole-image ratio is still reported). The flat
 * ladybird crop (256x256, none of its 16 blocks has edges) measured 0.68 from the whole crop and
 * went through the deblurring network at radius-2 defocus: 47.25 -> 41.49 dB
 * (bench/quality/README.md, "auto mode's choices"); with the rule it is left as it is.
 *
 * Dark photos: the luma is judged as auto exposure would leave it (assess.c applies its gain when
 * the photo is under-exposed). A linear-light gain leaves the ratio unchanged in theory (the sRGB
 * curve is close to a power law), but an under-exposed 8-bit image has its fine, low-contrast
 * detail pushed below the 1-level floor, so only its smoother blocks were judged: on the 32
 * photo + Kodak24 crops darkened x0.25, 5 were called blurred (garden, freshflower, ladybird and
 * yellowflower from the whole-crop fallback: 0-3 blocks left; raindrops on 4 of its 16 blocks:
 * 0.376 against 0.311 clean). The blocks
 * are counted in both the stored and the brightened luma (the gain turns the quantisation steps
 * of a flat dark area into edges: ladybird went from 0 to 6 blocks) and measured on the
 * brightened one: 1 dark crop is called blurred, greenmeadow, whose clean crop is too (0.369 /
 * 0.372); 3 whose clean crops are called blurred (freshflower, garden, yellowflower) are not
 * judged dark (bench/quality/README.md, "auto's guards").
 *
 * Thread-safe (reentrant); the measure allocates O(w) + O(blocks) scratch.
 */
#include <math.h>
#include <stdlib.h>

#include "enhance/assess.h"
#include "enhance/colour.h"

#define BB 64
#define MIN_BLOCKS 4

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void enh_blur_luma(const unsigned char *rgb, size_t n, double gain, float *y)
{
    float lut[256];
    for (int i = 0; i < 256; i++) {
        double l = enh_srgb_to_linear(i / 255.0) * gain;
        lut[i] = (float)(gain == 1 ? i : 255 * enh_linear_to_srgb(l > 1 ? 1 : l));
    }
    for (size_t i = 0; i < n; i++)
        y[i] = 0.299f * lut[rgb[3 * i]] + 0.587f * lut[rgb[3 * i + 1]] + 0.114f * lut[rgb[3 * i + 2]];
}

double enh_blur_measure(const float *y, const float *stored, int w, int h, double *sharpest, int *blocks)
{
    int nbx = (w + BB - 1) / BB, nby = (h + BB - 1) / BB;
    size_t nb = (size_t)nbx * nby;
    double *acc = calloc(nb * 4, sizeof(double)); /* sf0, sv0, sf1, sv1 per block */
    double *bprev = calloc((size_t)w, sizeof(double));
    double *vals = malloc(nb * sizeof(double));
    double *edge = stored != y ? calloc(nb * 2, sizeof(double)) : NULL; /* sum |dF| of the stored luma */
    double result = -1;
    *blocks = 0;
    *sharpest = 0;
    if (!acc || !bprev || !vals || (stored != y && !edge))
        goto out;
    if (edge)
        for (int r = 1; r < h; r++)
            for (int x = 1; x < w; x++) {
                size_t o = (size_t)r * w + x, b = 2 * ((size_t)(r / BB) * nbx + x / BB);
                edge[b] += fabsf(stored[o] - stored[o - 1]);
                edge[b + 1] += fabsf(stored[o] - stored[o - w]);
            }
    for (int r = 0; r < h; r++) {
        const float *row = y + (size_t)r * w;
        double prev_b = 0;
        for (int x = 4; x < w - 4; x++) {
            double b = 0;
            for (int k = -4; k <= 4; k++)
                b += row[x + k];
            b /= 9;
            if (x > 4) {
                double df = fabs(row[x] - row[x - 1]), db = fabs(b - prev_b);
                double *A = acc + 4 * ((size_t)(r / BB) * nbx + x / BB);
                A[0] += df;
                A[1] += df > db ? df - db : 0;
            }
            prev_b = b;
        }
    }
    for (int r = 4; r < h - 4; r++) {
        for (int x = 0; x < w; x++) {
            double b = 0;
            for (int k = -4; k <= 4; k++)
                b += y[(size_t)(r + k) * w + x];
            b /= 9;
            if (r > 4) {
                double df = fabs(y[(size_t)r * w + x] - y[(size_t)(r - 1) * w + x]), db = fabs(b - bprev[x]);
                double *A = acc + 4 * ((size_t)(r / BB) * nbx + x / BB);
                A[2] += df;
                A[3] += df > db ? df - db : 0;
            }
            bprev[x] = b;
        }
    }
    int n = 0, n_stored = 0;
    double gsf[2] = {0, 0}, gsv[2] = {0, 0};
    for (size_t i = 0; i < nb; i++) {
        double *A = acc + 4 * i;
        n_stored += edge && edge[2 * i] >= 1.0 * BB * BB && edge[2 * i + 1] >= 1.0 * BB * BB;
        gsf[0] += A[0], gsv[0] += A[1], gsf[1] += A[2], gsv[1] += A[3];
        if (A[0] < 1.0 * BB * BB || A[2] < 1.0 * BB * BB)
            continue;

        double b0 = (A[0] - A[1]) / A[0], b1 = (A[2] - A[3]) / A[2];
        vals[n++] = b0 > b1 ? b0 : b1;
    }
    /* a brightened copy is judged on its own blocks with edges, but only where the stored image
     * has enough of them: the gain turns quantisation steps of a flat dark area into edges */
    *blocks = edge && n_stored < n ? n_stored : n;
    if (*blocks >= MIN_BLOCKS) {
        qsort(vals, (size_t)n, sizeof(double), cmp_double);
        result = vals[(int)(0.2 * (n - 1))];
        *sharpest = vals[(int)(0.05 * (n - 1))];
    } else {
        /* reported, never acted on (enh_blur_severity) */
        double b0 = gsf[0] > 0 ? (gsf[0] - gsv[0]) / gsf[0] : 1, b1 = gsf[1] > 0 ? (gsf[1] - gsv[1]) / gsf[1] : 1;
        result = *sharpest = b0 > b1 ? b0 : b1;
    }
out:
    free(acc);
    free(bprev);
    free(vals);
    free(edge);
    return result;
}

double enh_blur_severity(const enh_assessment *a)
{
    if (a->blur_blocks < MIN_BLOCKS)
        return 0;
    /* the expected pixel-level softness grows with resolution. Phone/camera photos of 1.3-4 MP
     * (shared/photos) measure 0.19..0.51 clean (one bokeh close-up 0.65) and >= 0.58 at Gaussian
     * sigma 1.5; scans at 0.15-0.4 MP (Kodak24 09-24 + B100 first 40, cast_eval.py blur) measure
     * <= 0.38 clean and >= 0.34 at sigma 1.5, Kodak alone <= 0.26 and >= 0.38. Half severity at 0.36
     * up to 0.5 MP, at 0.55 from 1.5 MP, linear in megapixels between (no data there).
     * A photo is blurred only if its sharpest region (blur_sharpest, the 5th percentile of the
     * blocks) is blurred too: the macro close-up yellowflower (4.1 MP, shallow depth of field:
     * blur 0.65) has a sharp fringe at 0.54. Whole photos and kodim01..08, clean against Gaussian
     * sigma 1.5, 9-px motion at 30 degrees and a radius-3 defocus (all in bench/quality/README.md,
     * "auto on clean photos"): at 0.39 MP clean <= 0.195, blurred >= 0.235; at 1.3-2.3 MP clean
     * <= 0.394, blurred >= 0.415; at 4.1 MP clean <= 0.538, blurred >= 0.628. Half severity at
     * 0.22 up to 0.5 MP, 0.45 at 1.5 MP, 0.58 from 4 MP, linear between; the three 4 MP photos are
     * the only data there, so that end is fitted to them. */
    double mp = a->megapixels, blur_half = mp <= 0.5 ? 0.36 : mp >= 1.5 ? 0.55 : 0.36 + 0.19 * (mp - 0.5);
    double sharp_half = mp <= 0.5 ? 0.22 : mp <= 1.5 ? 0.22 + 0.23 * (mp - 0.5) : mp >= 4 ? 0.58 : 0.45 + 0.052 * (mp - 1.5);
    double s_typical = clamp01((a->blur - blur_half) / 0.2 + 0.5),
           s_sharpest = clamp01((a->blur_sharpest - sharp_half) / 0.2 + 0.5);
    return s_typical < s_sharpest ? s_typical : s_sharpest;
}
