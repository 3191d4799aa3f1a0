/* assess.c - no-reference quality measures and the verdict (see assess.h for the contract).
 *
 * The image is reduced to 8-bit sRGB (alpha dropped, grey expanded) and measured in C:
 *  - Blur: assess_blur.c (Crete-Roffet re-blur ratio per 64x64 block on the gamma-coded luma;
 *    not judged on fewer than 4 blocks with edges; judged after auto exposure's gain on an
 *    under-exposed photo).
 *  - Blockiness: mean |Y'(x+1) - Y'(x)| for each column phase x mod 8 (and rows); the ratio of
 *    the strongest phase to the mean of the other seven, minus 1, averaged over both directions.
 *    The strongest phase gives the JPEG grid origin used by the quality estimate.
 *  - Noise sigma (Immerkaer, "Fast noise variance estimation", CVIU 1996): per 16x16 block and
 *    channel, sigma = sqrt(pi/2) / (6 n) * sum |I * M|, M = [1 -2 1; -2 4 -2; 1 -2 1], which
 *    cancels planar and linear structure. Texture inflates blocks, so the image's sigma is the
 *    20th percentile of block sigmas (blocks with clipped means skipped), scaled by 1.08 to undo
 *    the percentile's low bias on pure noise (measured: tests/enhance/test_assess.c).
 *  - Noise kind: on the flattest 30% of those blocks, the mean Immerkaer response of the opponent
 *    chroma axes over that of the luma axis (orthonormal axes, so noise drawn independently per
 *    R, G, B channel gives 1). Noise that went through a camera's processing is luma noise: the
 *    4:2:0 JPEG (and the chroma denoising of phone pipelines) removes pixel-level chroma. Measured
 *    on 256x256 crops (bench/quality/README.md, "noise kinds"): Gaussian noise sigma 15/25 on
 *    the sRGB values 0.77-1.04 (48 crops of Kodak24 + the photos, 16 of CBSD68), degrade.py
 *    --sensor-noise 0.012,0.0004 --jpeg 92 0.04-0.15 (40 crops), the same sensor noise saved as
 *    PNG 0.80-1.01, Gaussian sigma 15 then JPEG q92 0.04-0.17: the cue is how the noise was
 *    stored, not its brightness law (the sigma of the darker half of the flat blocks over the
 *    brighter half is 0.92-1.37 for Gaussian noise and 1.01-1.41 for sensor noise: no use).
 *    -1 when it cannot be told: no flat blocks, or a grey image.
 *  - Exposure: sRGB transfer undone per channel (IEC 61966-2-1), Y = 0.2126 R + 0.7152 G +
 *    0.0722 B, L* = CIE 1976 lightness of Y; mean, percentiles from a 0.1 L* histogram,
 *    clipping fractions. Under-exposure is judged on the highlights (ev_hi below)
 *    when the mid-tones are dark too (ev_mid = log2(0.18 / Y_p50) > 0). Highlights are the
 *    brightest channel's (max of R, G, B, linear) 99.99th percentile, at least the 20 brightest
 *    pixels: sensors clip per channel, so a saturated yellow or red highlight is as full an
 *    exposure as a white one, which the luminance misses (Y_p99.9 put a clean yellow-flower photo
 *    0.77 EV low, and its x0.25 copy was pushed 18% too bright in L*). Clean Kodak24 09-24 + B100
 *    first 40: log2 of it = -0.02 +- 0.09 EV (Y_p99.9: -0.11 +- 0.20; the median's spread is
 *    1 EV), so ev_hi = log2(0.98 / maxRGB_p99.99) is the correction, capped at ev_mid + 1 so a flat, dim-highlight
 *    scene does not get its mid-tones pushed past twice the mid-grey key. A low-key scene keeps
 *    its key (no mid-tone target that would overshoot it). Over-exposure: mid-tones bright with
 *    bright clipping and no blacks; correction half of ev_mid.
 *  - Colour cast: colour_estimate.c (the learned estimator of colour_learned.c; the classical
 *    estimators as a second opinion); a mid-grey (Y = 0.18) lit by the estimate is converted to
 *    CIELAB (D65); its a*, b* and chroma are the cast. Severity: the stronger of (a) the learned
 *    estimate's angle to neutral (half at 6 degrees, chosen on the trainer's images) and (b) the
 *    classical combination's angle (half at 12 degrees) while the classical estimators agree
 *    (half at an 18-degree spread); both only while the angle is plausible for a light (half at
 *    30 degrees). Limitation (measured): the learned estimate underrates casts on colourful
 *    close-ups (shared/photos), the classical one sees scene colour as cast on generic photos.
 *    Where the gain was measured on clipped highlights (colour_clip.c) the severity is half at
 *    4 degrees instead (half the smallest test cast; 0 of 56 clean tuning images trigger it).
 *  - Local measures on huge images (> 12 MP) use the centre 3456x3456 crop (grid-aligned);
 *    global ones a box-shrunk copy of the whole image.
 */
#include "enhance/assess.h"
#include "enhance/colour.h"
#include "enhance/colour_estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_MAX_SIDE 3456
#define LOCAL_MAX_PIXELS (12.0 * 1024 * 1024)

const char *enh_degradation_name(enh_degradation d)
{
    static const char *const names[ENH_DEG_COUNT] = {"none",        "blur",        "jpeg",          "noise",
                                                     "underexposed", "overexposed", "colour_cast", "low_resolution"};
    return (unsigned)d < ENH_DEG_COUNT ? names[d] : "unknown";
}

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* 8-bit sRGB, 3 bands, no alpha. */
static enh_status to_srgb8(VipsImage *in, VipsImage **out, enh_error *err)
{
    VipsImage *x = in, *t = NULL;
    g_object_ref(x);
    VipsInterpretation it = vips_image_guess_interpretation(in);
    if (it != VIPS_INTERPRETATION_sRGB && it != VIPS_INTERPRETATION_MULTIBAND && vips_colourspace_issupported(x)) {
        if (vips_colourspace(x, &t, VIPS_INTERPRETATION_sRGB, NULL))
            goto fail;
        g_object_unref(x);
        x = t;
    }
    int bands = vips_image_get_bands(x);
    int colour = bands >= 3;
    if (bands != (colour ? 3 : 1)) {
        if (vips_extract_band(x, &t, 0, "n", colour ? 3 : 1, NULL))
            goto fail;
        g_object_unref(x);
        x = t;
    }
    if (vips_image_get_format(x) != VIPS_FORMAT_UCHAR) {
        double scale = vips_image_get_format(x) == VIPS_FORMAT_USHORT ? 1.0 / 257.0
                       : vips_band_format_isfloat(vips_image_get_format(x)) ? 255.0
                                                                             : 1.0;
        if (vips_linear1(x, &t, scale, 0.0, "uchar", TRUE, NULL))
            goto fail;
        g_object_unref(x);
        x = t;
    }
    if (!colour) {
        VipsImage *arr[3] = {x, x, x};
        if (vips_bandjoin(arr, &t, 3, NULL))
            goto fail;
        g_object_unref(x);
        x = t;
    }
    *out = x;
    return ENH_OK;
fail:
    g_object_unref(x);
    enh_status st = enh_fail(err, ENH_EINTERNAL, "cannot convert the image for assessment: %s", vips_error_buffer());
    vips_error_clear();
    return st;
}

static enh_status fetch(VipsImage *img, int left, int top, int w, int h, unsigned char **buf, enh_error *err)
{
    VipsImage *c = NULL;
    if (vips_crop(img, &c, left, top, w, h, NULL)) {
        enh_status st = enh_fail(err, ENH_EINTERNAL, "crop failed: %s", vips_error_buffer());
        vips_error_clear();
        return st;
    }
    size_t size = 0;
    *buf = vips_image_write_to_memory(c, &size);
    g_object_unref(c);
    if (!*buf) {
        enh_status st = enh_fail(err, ENH_EINVAL, "cannot decode the image pixels: %s", vips_error_buffer());
        vips_error_clear();
        return st;
    }
    return ENH_OK;
}

/* ---- global: exposure and colour ---- */
/* Set by a measurement whose scratch memory could not be allocated: the assessment then fails
 * with ENH_ENOMEM instead of reporting that measure as 0 (which auto mode would act on). The
 * measures run on the caller's thread, one assessment at a time per thread. */
static _Thread_local int t_oom;

static void measure_global(const unsigned char *p, int w, int h, enh_assessment *a)
{
    size_t n = (size_t)w * h;
    double lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = enh_srgb_to_linear(i / 255.0);
    enum { BINS = 1001 };
    int *hist = calloc(BINS, sizeof(int));
    if (!hist) {
        t_oom = 1;
        return;
    }
    size_t maxc_hist[256] = {0};
    double sum_y = 0, sum_l = 0;
    size_t dark = 0, bright = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *q = p + 3 * i;
        double r = lut[q[0]], g = lut[q[1]], b = lut[q[2]];
        double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        double l = enh_lightness(y);
        sum_y += y;
        sum_l += l;
        hist[(int)(l * 10 + 0.5)]++;
        if (q[0] <= 2 && q[1] <= 2 && q[2] <= 2)
            dark++;
        bright += q[0] >= 253 || q[1] >= 253 || q[2] >= 253;
        maxc_hist[q[0] > q[1] ? (q[0] > q[2] ? q[0] : q[2]) : (q[1] > q[2] ? q[1] : q[2])]++;
    }
    a->mean_luminance = sum_y / n;
    a->mean_lightness = sum_l / n;
    a->clip_dark = (double)dark / n;
    a->clip_bright = (double)bright / n;
    double pct[4] = {0.01, 0.5, 0.99, 0.999}, res[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        size_t target = (size_t)(pct[k] * n), acc = 0;
        int b = 0;
        for (; b < BINS - 1; b++) {
            acc += hist[b];
            if (acc > target)
                break;
        }
        res[k] = b / 10.0;
    }
    free(hist);
    a->l_p01 = res[0];
    a->l_p50 = res[1];
    a->l_p99 = res[2];
    a->l_p999 = res[3];
    /* highlights: the brightest channel's 99.99th percentile (at least the 20 brightest pixels) */
    size_t top = (size_t)(0.0001 * n) > 20 ? (size_t)(0.0001 * n) : 20, above = 0;
    int mc = 255;
    for (; mc > 0; mc--) {
        above += maxc_hist[mc];
        if (above >= top)
            break;
    }
    double m9999 = lut[mc] < 1e-4 ? 1e-4 : lut[mc];
    double y50 = enh_lightness_to_y(res[1]);
    y50 = y50 < 1e-4 ? 1e-4 : y50;
    double ev_hi = log2(0.98 / m9999), ev_mid = log2(0.18 / y50);
    a->highlight_ev = ev_hi;
    if (ev_hi > 0 && ev_mid > 0)
        a->exposure_ev = ev_hi < ev_mid + 1 ? ev_hi : ev_mid + 1;
    else if (ev_mid < 0 && a->clip_bright > 0.02 && a->l_p01 > 20)
        a->exposure_ev = ev_mid / 2;
    else
        a->exposure_ev = 0;

    enh_illuminant il;
    enh_error err = {0};
    a->illuminant[0] = a->illuminant[1] = a->illuminant[2] = 1;
    enh_status ist = enh_estimate_illuminant(p, w, h, &il, &err);
    if (ist == ENH_ENOMEM)
        t_oom = 1;
    if (ist == ENH_OK) {
        const double *e = il.e;
        double ey = 0.2126 * e[0] + 0.7152 * e[1] + 0.0722 * e[2];
        if (ey > 1e-6 && e[1] > 1e-6) {
            double grey[3], lab[3];
            for (int c = 0; c < 3; c++) {
                grey[c] = e[c] * 0.18 / ey;
                a->illuminant[c] = e[c] / e[1];
            }
            enh_linear_rgb_to_lab(grey, lab);
            a->cast_a = lab[1];
            a->cast_b = lab[2];
            a->cast_chroma = hypot(lab[1], lab[2]);
            a->cast_angle = il.neutral_deg;
            a->cast_spread = il.spread_deg;
            static const double neutral[3] = {1, 1, 1};
            a->cast_classical_angle = enh_rgb_angle_deg(il.classical, neutral);
            a->cast_disagree = il.disagree_deg;
            a->cast_confidence = il.confidence;
            a->cast_clipped = il.clip.found;
        }
    }
}

/* ---- local: blur, blocking, JPEG quality, noise ---- */

/* Returns blockiness; ox, oy receive the grid origin (0..7). */
static double blockiness(const float *y, int w, int h, int *ox, int *oy)
{
    double dx[8] = {0}, dy[8] = {0};
    long nx[8] = {0}, ny[8] = {0};
    for (int r = 0; r < h; r++)
        for (int x = 0; x + 1 < w; x++) {
            dx[x & 7] += fabsf(y[(size_t)r * w + x + 1] - y[(size_t)r * w + x]);
            nx[x & 7]++;
        }
    for (int r = 0; r + 1 < h; r++)
        for (int x = 0; x < w; x++) {
            dy[r & 7] += fabsf(y[(size_t)(r + 1) * w + x] - y[(size_t)r * w + x]);
            ny[r & 7]++;
        }
    double ratio[2];
    int best[2];
    for (int d = 0; d < 2; d++) {
        double *s = d ? dy : dx;
        long *n = d ? ny : nx;
        double m[8];
        int b = 0;
        for (int i = 0; i < 8; i++) {
            m[i] = n[i] ? s[i] / n[i] : 0;
            if (m[i] > m[b])
                b = i;
        }
        double rest = 0;
        for (int i = 0; i < 8; i++)
            if (i != b)
                rest += m[i];
        rest /= 7;
        ratio[d] = rest > 1e-9 ? m[b] / rest - 1 : 0;
        best[d] = b;
    }
    *ox = (best[0] + 1) & 7; /* the boundary lies between phase b and b+1 */
    *oy = (best[1] + 1) & 7;
    return (ratio[0] + ratio[1]) / 2;
}

/* One 16x16 block of the noise measure: its sigma (mean of the three channels) and the mean
 * Immerkaer response of the opponent luma and chroma channels. */
typedef struct {
    double sigma, luma, chroma, signal_chroma;
} noise_block;

static int cmp_noise_block(const void *a, const void *b)
{
    double x = ((const noise_block *)a)->sigma, y = ((const noise_block *)b)->sigma;
    return x < y ? -1 : x > y;
}

/* Noise sigma (Immerkaer) and the chroma/luma ratio of the noise (see measure_local). */
static void noise_measure(const unsigned char *p, int w, int h, enh_assessment *a)
{
    const int B = 16;
    int bx = w / B, by = h / B;
    a->noise_sigma = 0;
    a->noise_chroma_ratio = -1;
    if (bx < 1 || by < 1)
        return;
    noise_block *blk = malloc(sizeof *blk * (size_t)bx * by);
    if (!blk)
        return;
    int n = 0;
    const int cnt = (B - 2) * (B - 2);
    const size_t st = 3 * (size_t)w;
    for (int j = 0; j < by; j++)
        for (int i = 0; i < bx; i++) {
            double mean[3] = {0, 0, 0};
            for (int y = j * B + 1; y < (j + 1) * B - 1; y++)
                for (int x = i * B + 1; x < (i + 1) * B - 1; x++)
                    for (int c = 0; c < 3; c++)
                        mean[c] += p[3 * ((size_t)y * w + x) + c];
            int skip = 0;
            for (int c = 0; c < 3; c++) {
                mean[c] /= cnt;
                skip |= mean[c] < 6 || mean[c] > 249;
            }
            if (skip)
                continue;
            double s[3] = {0, 0, 0}, luma = 0, chroma = 0, sig_c = 0;
            for (int y = j * B + 1; y < (j + 1) * B - 1; y++)
                for (int x = i * B + 1; x < (i + 1) * B - 1; x++) {
                    int v[3];
                    for (int c = 0; c < 3; c++) {
                        const unsigned char *q = p + 3 * ((size_t)y * w + x) + c;
                        v[c] = q[-st - 3] - 2 * q[-st] + q[-st + 3] - 2 * q[-3] + 4 * q[0] - 2 * q[3] + q[st - 3] -
                               2 * q[st] + q[st + 3];
                        s[c] += abs(v[c]);
                    }
                    /* orthonormal opponent axes: (R+G+B)/sqrt3, (R-B)/sqrt2, (R-2G+B)/sqrt6 */
                    luma += abs(v[0] + v[1] + v[2]) * 0.57735027;
                    chroma += 0.5 * (abs(v[0] - v[2]) * 0.70710678 + abs(v[0] - 2 * v[1] + v[2]) * 0.40824829);
                    const unsigned char *q = p + 3 * ((size_t)y * w + x);
                    sig_c += abs(q[0] - q[2]) + abs(q[0] - 2 * q[1] + q[2]);
                }
            double total = 0;
            for (int c = 0; c < 3; c++)
                total += sqrt(M_PI / 2) * s[c] / (6.0 * cnt);
            blk[n++] = (noise_block){total / 3, luma, chroma, sig_c / cnt};
        }
    if (n > 0) {
        qsort(blk, (size_t)n, sizeof *blk, cmp_noise_block);
        a->noise_sigma = blk[(int)(0.2 * (n - 1))].sigma * 1.08;
        int k = (int)(0.3 * n) > 4 ? (int)(0.3 * n) : (n < 4 ? n : 4);
        double sl = 0, sc = 0, sig = 0;
        for (int i = 0; i < k; i++)
            sl += blk[i].luma, sc += blk[i].chroma, sig += blk[i].signal_chroma;
        /* a grey image (no chroma in its pixels) cannot show how its noise was made */
        if (sl > 0 && sig / k >= 0.5)
            a->noise_chroma_ratio = sc / sl;
    }
    free(blk);
}

/* Under-exposure severity from the global measures: highlights (brightest channel, 99.99th
 * percentile) 1 EV or more below where photos normally reach (bench/quality cast_eval.py
 * exposure: clean Kodak24 09-24 + B100 first 40: mean -0.02 EV, sd 0.09, lowest -0.48). The
 * verdict's value, and the blur measure's cue for judging on the brightened luma (>= 0.5). */
static double underexposed_severity(const enh_assessment *a)
{
    return a->exposure_ev > 0 ? clamp01((a->highlight_ev - 1.0) / 0.5 + 0.5) : 0;
}

static void measure_local(const unsigned char *p, int w, int h, enh_assessment *a)
{
    float *y = malloc(sizeof(float) * (size_t)w * h);
    if (!y) {
        t_oom = 1;
        return;
    }
    enh_blur_luma(p, (size_t)w * h, 1, y);
    /* an under-exposed photo's blur is judged on the luma auto exposure would give it (its gain,
     * capped at 3 EV as stage_adjust caps it): darkening quantises away the fine detail and
     * weakens every edge below the measure's 1-level floor (assess_blur.c) */
    double gain = underexposed_severity(a) >= 0.5 ? pow(2, a->exposure_ev < 3 ? a->exposure_ev : 3) : 1;
    float *yb = y;
    if (gain != 1 && !(yb = malloc(sizeof(float) * (size_t)w * h))) {
        free(y);
        t_oom = 1;
        return;
    }
    if (yb != y)
        enh_blur_luma(p, (size_t)w * h, gain, yb);
    a->blur = enh_blur_measure(yb, y, w, h, &a->blur_sharpest, &a->blur_blocks);
    if (yb != y)
        free(yb);
    if (a->blur < 0) {
        free(y);
        t_oom = 1;
        return;
    }
    a->sharpness = 100 * (1 - a->blur);
    int ox = 0, oy = 0;
    a->blockiness = blockiness(y, w, h, &ox, &oy);
    if (a->jpeg_quality < 0) {
        a->jpeg_quality = enh_jpeg_estimate_quality(p, y, w, h, ox, oy);
        if (a->jpeg_quality == -2) {
            t_oom = 1;
            a->jpeg_quality = -1;
        }
    }
    free(y);
    noise_measure(p, w, h, a);
}

/* ---- verdict ---- */
static void verdict(enh_assessment *a)
{
    double *s = a->severity;
    s[ENH_DEG_BLUR] = enh_blur_severity(a);
    /* JPEG: from the quality (q <= 60 is a visible problem); blockiness alone only when no
     * quantisation was found (clean JPEG originals show 0.1..1.06) */
    double sq = a->jpeg_quality > 0 ? clamp01((80.0 - a->jpeg_quality) / 40.0) : 0;
    double sb = a->jpeg_quality > 0 ? 0 : clamp01((a->blockiness - 1.5) / 1.0 + 0.5);
    s[ENH_DEG_JPEG] = sq > sb ? sq : sb;
    s[ENH_DEG_NOISE] = clamp01((a->noise_sigma - 2.0) / 6.0);
    s[ENH_DEG_UNDEREXPOSED] = underexposed_severity(a);
    s[ENH_DEG_OVEREXPOSED] = a->exposure_ev < 0 ? clamp01(-a->exposure_ev / 1.0) : 0;
    /* two cues, the stronger decides:
     * - the learned estimate (colour_learned.c) away from neutral: half severity at 6 degrees, and
     *   not so far (half at 30 degrees) that it is scene colour. On the trainer's images
     *   (bench/quality/cast_learn.py, 2-fold cross-validated estimates) 6 degrees names 58% of
     *   the casts of >= 8 degrees and 14% of the originals;
     * - the classical estimators' combination far from neutral (half at 12 degrees) while they
     *   agree (half at an 18-degree spread), and not beyond 30 degrees, the weakest of the three
     *   (swept on Kodak24 09-24 + B100 first 40 with cast_eval.py: a cast that the learned
     *   estimate underrates on close-ups is still seen when the classical estimators agree). */
    double c_near = clamp01((a->cast_angle - 6) / 2 + 0.5), c_far = clamp01((30 - a->cast_angle) / 5 + 0.5);
    double k_near = clamp01((a->cast_classical_angle - 12) / 4 + 0.5), k_agree = clamp01((18 - a->cast_spread) / 6 + 0.5),
           k_far = clamp01((30 - a->cast_classical_angle) / 5 + 0.5);
    s[ENH_DEG_COLOUR_CAST] = fmax(fmin(c_near, c_far), fmin(k_near, fmin(k_agree, k_far)));
    /* a gain measured from clipped highlights: a cast from 4 degrees (half of the smallest test cast) */
    if (a->cast_clipped)
        s[ENH_DEG_COLOUR_CAST] = clamp01((a->cast_angle - 4) / 2 + 0.5);
    s[ENH_DEG_LOW_RESOLUTION] = clamp01((0.5 - a->megapixels) / 0.4);
    s[ENH_DEG_NONE] = 0;
    /* ties go to the earlier entry: compression explains blur, noise hides blur */
    static const enh_degradation order[] = {ENH_DEG_JPEG,        ENH_DEG_NOISE,       ENH_DEG_BLUR,
                                            ENH_DEG_UNDEREXPOSED, ENH_DEG_OVEREXPOSED, ENH_DEG_COLOUR_CAST};
    enh_degradation d = ENH_DEG_NONE;
    double best = 0.5 - 1e-9;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (s[order[i]] > best) {
            best = s[order[i]];
            d = order[i];
        }
    if (d == ENH_DEG_NONE && s[ENH_DEG_LOW_RESOLUTION] >= 0.5)
        d = ENH_DEG_LOW_RESOLUTION;
    a->dominant = d;
    double q = 1;
    for (int i = 1; i < ENH_DEG_COUNT; i++)
        q *= 1 - 0.6 * s[i];
    a->score = 100 * q;
}

enh_status enh_assess_image(VipsImage *in, enh_assessment *a, enh_error *err)
{
    return enh_assess_image_path(in, NULL, a, err);
}

enh_status enh_assess_image_path(VipsImage *in, const char *jpeg_path, enh_assessment *a, enh_error *err)
{
    memset(a, 0, sizeof *a);
    a->jpeg_quality = -1;
    a->width = vips_image_get_width(in);
    a->height = vips_image_get_height(in);
    a->megapixels = (double)a->width * a->height / 1e6;
    if (a->width < 16 || a->height < 16)
        return enh_fail(err, ENH_EINVAL, "image is %dx%d; assessment needs at least 16x16 pixels", a->width,
                        a->height);
    const char *loader = NULL;
    if (jpeg_path) {
        a->jpeg_quality = enh_jpeg_file_quality(jpeg_path);
    } else if (vips_image_get_typeof(in, VIPS_META_LOADER) && !vips_image_get_string(in, VIPS_META_LOADER, &loader) &&
               loader && !strncmp(loader, "jpeg", 4)) {
        a->jpeg_quality = enh_jpeg_file_quality(vips_image_get_filename(in));
    }
    a->jpeg_quality_from_file = a->jpeg_quality > 0;
    VipsImage *rgb = NULL;
    enh_status st = to_srgb8(in, &rgb, err);
    if (st)
        return st;
    t_oom = 0;
    int w = a->width, h = a->height;
    int lw = w, lh = h, left = 0, top = 0;
    if ((double)w * h > LOCAL_MAX_PIXELS) {
        lw = w < LOCAL_MAX_SIDE ? w : LOCAL_MAX_SIDE;
        lh = h < LOCAL_MAX_SIDE ? h : LOCAL_MAX_SIDE;
        left = ((w - lw) / 2) & ~15;
        top = ((h - lh) / 2) & ~15;
    }
    a->analysed_width = lw;
    a->analysed_height = lh;
    unsigned char *buf = NULL;
    if ((st = fetch(rgb, left, top, lw, lh, &buf, err)))
        goto done;
    /* global first: the blur measure reads the exposure verdict */
    if (lw == w && lh == h) {
        measure_global(buf, w, h, a);
    } else {
        int f = (int)ceil(sqrt((double)w * h / (2.0 * 1024 * 1024)));
        VipsImage *small = NULL;
        if (vips_shrink(rgb, &small, f, f, NULL)) {
            st = enh_fail(err, ENH_EINTERNAL, "shrink failed: %s", vips_error_buffer());
            vips_error_clear();
            goto done;
        }
        int sw = vips_image_get_width(small), sh = vips_image_get_height(small);
        unsigned char *gbuf = NULL;
        st = fetch(small, 0, 0, sw, sh, &gbuf, err);
        g_object_unref(small);
        if (st)
            goto done;
        measure_global(gbuf, sw, sh, a);
        g_free(gbuf);
    }
    measure_local(buf, lw, lh, a);
    if (t_oom) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory while assessing the image (%dx%d)", w, h);
        goto done;
    }
    verdict(a);
done:
    g_free(buf);
    g_object_unref(rgb);
    return st;
}
