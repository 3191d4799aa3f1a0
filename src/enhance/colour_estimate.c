/* colour_estimate.c - illuminant estimators and their combination (see colour_estimate.h). */
#include "enhance/colour_estimate.h"
#include "enhance/colour.h"
#include "enhance/colour_learned.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIXELS 250000.0
#define WP_BINS 4096

static void unit(double v[3])
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (n <= 1e-12) {
        v[0] = v[1] = v[2] = 1 / sqrt(3.0);
        return;
    }
    for (int c = 0; c < 3; c++)
        v[c] = v[c] / n;
}

double enh_rgb_angle_deg(const double a[3], const double b[3])
{
    double na = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]), nb = sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
    if (na <= 0 || nb <= 0)
        return 0;
    double c = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (na * nb);
    c = c > 1 ? 1 : c < -1 ? -1 : c;
    return acos(c) * 180 / M_PI;
}

/* Separable Gaussian (sigma 1, radius 3) of an n-channel float plane, reflect borders. */
static void gauss1(const float *in, float *out, float *tmp, int w, int h, int nc)
{
    static const float k[4] = {0.39905f, 0.24203f, 0.05400f, 0.00443f};
    float ks = k[0] + 2 * (k[1] + k[2] + k[3]);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < nc; c++) {
                float s = k[0] * in[((size_t)y * w + x) * nc + c];
                for (int d = 1; d <= 3; d++) {
                    int xl = x - d < 0 ? -(x - d) : x - d, xr = x + d >= w ? 2 * w - 2 - (x + d) : x + d;
                    xl = xl >= w ? w - 1 : xl, xr = xr < 0 ? 0 : xr;
                    s += k[d] * (in[((size_t)y * w + xl) * nc + c] + in[((size_t)y * w + xr) * nc + c]);
                }
                tmp[((size_t)y * w + x) * nc + c] = s / ks;
            }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < nc; c++) {
                float s = k[0] * tmp[((size_t)y * w + x) * nc + c];
                for (int d = 1; d <= 3; d++) {
                    int yu = y - d < 0 ? -(y - d) : y - d, yd = y + d >= h ? 2 * h - 2 - (y + d) : y + d;
                    yu = yu >= h ? h - 1 : yu, yd = yd < 0 ? 0 : yd;
                    s += k[d] * (tmp[((size_t)yu * w + x) * nc + c] + tmp[((size_t)yd * w + x) * nc + c]);
                }
                out[((size_t)y * w + x) * nc + c] = s / ks;
            }
}

/* how far to trust the learned estimate: fully up to 15 degrees from neutral, nothing beyond 25
 * (see colour_estimate.h) */
static double learned_confidence(double angle)
{
    double plaus = (25 - angle) / 10;
    return plaus < 0 ? 0 : plaus > 1 ? 1 : plaus;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

enh_status enh_estimate_illuminant(const unsigned char *rgb, int w, int h, enh_illuminant *out, enh_error *err)
{
    memset(out, 0, sizeof *out);
    if (w < 8 || h < 8)
        return enh_fail(err, ENH_EINVAL, "colour estimate needs at least 8x8 pixels (got %dx%d)", w, h);
    int f = (int)ceil(sqrt((double)w * h / MAX_PIXELS));
    f = f < 1 ? 1 : f;
    int sw = w / f, sh = h / f;
    size_t n = (size_t)sw * sh;
    float *lin = malloc(n * 3 * sizeof(float)), *bl = malloc(n * 3 * sizeof(float)),
          *tmp = malloc(n * 3 * sizeof(float)), *gi = calloc(n, sizeof(float)), *sel = calloc(n, sizeof(float));
    unsigned char *clip = calloc(n, 1), *okm = calloc(n, 1);
    unsigned *hist = calloc(3 * WP_BINS, sizeof(unsigned));
    enh_status st = ENH_OK;
    if (!lin || !bl || !tmp || !gi || !sel || !clip || !okm || !hist) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory for the colour estimate (%dx%d)", sw, sh);
        goto done;
    }
    float lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = (float)enh_srgb_to_linear(i / 255.0);
    const float dark = lut[4];
    /* box shrink in linear light; a block with any channel >= 253 is clipped */
    for (int y = 0; y < sh; y++)
        for (int x = 0; x < sw; x++) {
            double s[3] = {0, 0, 0};
            int cl = 0;
            for (int j = 0; j < f; j++)
                for (int i = 0; i < f; i++) {
                    const unsigned char *q = rgb + 3 * ((size_t)(y * f + j) * w + (x * f + i));
                    cl |= q[0] >= 253 || q[1] >= 253 || q[2] >= 253;
                    s[0] += lut[q[0]], s[1] += lut[q[1]], s[2] += lut[q[2]];
                }
            size_t o = (size_t)y * sw + x;
            float *p = lin + 3 * o;
            for (int c = 0; c < 3; c++)
                p[c] = (float)(s[c] / (f * f));
            clip[o] = (unsigned char)cl;
            okm[o] = !cl && fmaxf(p[0], fmaxf(p[1], p[2])) >= dark;
        }
    /* white patch and shades of grey */
    double m6[3] = {0, 0, 0};
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        const float *p = lin + 3 * i;
        for (int c = 0; c < 3; c++) {
            int b = (int)(p[c] * (WP_BINS - 1) + 0.5f);
            hist[c * WP_BINS + (b < 0 ? 0 : b >= WP_BINS ? WP_BINS - 1 : b)]++;
        }
        if (okm[i]) {
            for (int c = 0; c < 3; c++) {
                double v2 = (double)p[c] * p[c];
                m6[c] += v2 * v2 * v2;
            }
            used++;
        }
    }
    for (int c = 0; c < 3; c++) {
        size_t target = (size_t)(0.995 * n), acc = 0;
        int b = 0;
        for (; b < WP_BINS - 1; b++) {
            acc += hist[c * WP_BINS + b];
            if (acc > target)
                break;
        }
        out->white_patch[c] = (b + 0.5) / (WP_BINS - 1);
        out->shades_of_grey[c] = used ? pow(m6[c] / used, 1.0 / 6) : 1;
    }
    /* grey edge: gradient of the sigma-1 Gaussian, away from clipped pixels (3 px) */
    gauss1(lin, bl, tmp, sw, sh, 3);
    double g6[3] = {0, 0, 0};
    size_t gused = 0;
    for (int y = 3; y < sh - 3; y++)
        for (int x = 3; x < sw - 3; x++) {
            size_t o = (size_t)y * sw + x;
            if (!okm[o])
                continue;
            int near = 0;
            for (int j = -3; j <= 3 && !near; j++)
                for (int i = -3; i <= 3; i++)
                    if (clip[o + (ptrdiff_t)j * sw + i]) {
                        near = 1;
                        break;
                    }
            if (near)
                continue;
            for (int c = 0; c < 3; c++) {
                double gx = (bl[3 * (o + 1) + c] - bl[3 * (o - 1) + c]) / 2;
                double gy = (bl[3 * (o + sw) + c] - bl[3 * (o - sw) + c]) / 2;
                double m2 = gx * gx + gy * gy;
                g6[c] += m2 * m2 * m2;
            }
            gused++;
        }
    for (int c = 0; c < 3; c++)
        out->grey_edge[c] = gused ? pow(g6[c] / gused, 1.0 / 6) : out->shades_of_grey[c];
    /* grey pixels: log channels, Gaussian sigma 1, |Laplacian| per channel; greyness index =
     * std / mean of the three contrasts, smoothed (sigma 1), the 0.1% lowest averaged */
    for (size_t i = 0; i < 3 * n; i++)
        bl[i] = logf(lin[i] + 1e-3f);
    gauss1(bl, bl, tmp, sw, sh, 3); /* in place: the first pass writes tmp only */
    for (size_t i = 0; i < n; i++)
        gi[i] = 10;
    for (int y = 2; y < sh - 2; y++)
        for (int x = 2; x < sw - 2; x++) {
            size_t o = (size_t)y * sw + x;
            const float *p = lin + 3 * o;
            if (!okm[o] || (p[0] + p[1] + p[2]) / 3 <= 0.02f)
                continue;
            float cv[3], m = 0;
            for (int c = 0; c < 3; c++) {
                float l = bl[3 * (o - sw) + c] + bl[3 * (o + sw) + c] + bl[3 * (o - 1) + c] + bl[3 * (o + 1) + c] -
                          4 * bl[3 * o + c];
                cv[c] = fabsf(l);
                m += cv[c] / 3;
            }
            if (m <= 0.01f)
                continue;
            float v = 0;
            for (int c = 0; c < 3; c++)
                v += (cv[c] - m) * (cv[c] - m) / 3;
            gi[o] = sqrtf(v) / (m + 1e-6f);
        }
    /* smooth the index (invalid pixels count as 10, i.e. not grey) and take the lowest 0.1% */
    {
        float *gs = sel;
        gauss1(gi, gs, tmp, sw, sh, 1);
        size_t nv = 0;
        for (size_t i = 0; i < n; i++)
            if (gi[i] < 10)
                tmp[nv++] = gs[i];
        double acc[3] = {0, 0, 0};
        if (nv >= 20) {
            size_t k = nv / 1000 > 20 ? nv / 1000 : 20;
            memcpy(bl, tmp, nv * sizeof(float));
            qsort(bl, nv, sizeof(float), cmp_float);
            float thr = bl[k - 1];
            size_t taken = 0;
            for (size_t i = 0; i < n && taken < k; i++)
                if (gi[i] < 10 && gs[i] <= thr) {
                    const float *p = lin + 3 * i;
                    double s = (double)p[0] + p[1] + p[2];
                    for (int c = 0; c < 3; c++)
                        acc[c] += p[c] / s;
                    taken++;
                }
            for (int c = 0; c < 3; c++)
                out->grey_pixels[c] = acc[c] / taken;
        } else {
            memcpy(out->grey_pixels, out->shades_of_grey, sizeof out->grey_pixels);
        }
    }
    /* grey pixels stay a diagnostic: on shaded, uniformly coloured surfaces they are not
     * equivariant to channel gains */
    unit(out->grey_pixels);
    double *est[3] = {out->white_patch, out->shades_of_grey, out->grey_edge};
    double lg[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        unit(est[k]);
        for (int c = 0; c < 3; c++)
            lg[c] += log(est[k][c] > 1e-6 ? est[k][c] : 1e-6) / 3;
    }
    for (int c = 0; c < 3; c++)
        out->classical[c] = exp(lg[c]);
    unit(out->classical);
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++) {
            double d = enh_rgb_angle_deg(est[a], est[b]);
            out->spread_deg = d > out->spread_deg ? d : out->spread_deg;
        }
    static const double neutral[3] = {1, 1, 1};
    /* the learned estimator (colour_learned.c) decides e */
    enh_learned_est le;
    if ((st = enh_learned_illuminant(lin, okm, sw, sh, &le, err)))
        goto done;
    memcpy(out->e, le.e, sizeof out->e);
    memcpy(out->learned_uv, le.uv, sizeof le.uv);
    out->learned_spread = le.spread;
    out->neutral_deg = enh_rgb_angle_deg(out->e, neutral);
    out->disagree_deg = enh_rgb_angle_deg(out->e, out->classical);
    out->confidence = learned_confidence(out->neutral_deg);
    /* clipped highlights (colour_clip.c): a lowered channel's ceiling is its gain, measured, not
     * guessed. The other channels are only bounded below (their ceiling's linear value): above
     * the bound they take the statistical estimate scaled to the lowered ones, trusted as far as
     * its own confidence (bound x ratio^confidence), as the statistical correction alone is. */
    enh_clip_white_point(rgb, (size_t)w * h, &out->clip);
    if (out->clip.found) {
        double g[3], ls = 0;
        int nk = 0;
        for (int c = 0; c < 3; c++)
            if (out->clip.lowered[c])
                ls += log(out->clip.gain[c] / out->e[c]), nk++;
        double s = exp(ls / nk);
        for (int c = 0; c < 3; c++) {
            double lb = out->clip.gain[c];
            g[c] = out->clip.lowered[c] || s * out->e[c] < lb ? lb : lb * pow(s * out->e[c] / lb, out->confidence);
        }
        memcpy(out->e, g, sizeof g);
        unit(out->e);
        out->neutral_deg = enh_rgb_angle_deg(out->e, neutral);
        out->confidence = 1;
    }
done:
    free(lin), free(bl), free(tmp), free(gi), free(sel), free(clip), free(okm), free(hist);
    return st;
}
