/* brisque_features.c - the 36 BRISQUE features, computed as OpenCV 4.6's quality module does
 * (opencv_contrib modules/quality/src/qualitybrisque.cpp, Debian libopencv-contrib406), so that
 * the scores agree with cv::quality::QualityBRISQUE (bench/quality/brisque.py measures it).
 *
 * What OpenCV does, step by step, and how this file reproduces it:
 *  - grey: cvtColor BGR2GRAY on 8-bit (fixed point, brisque.c), then float g * (float)(1/255).
 *  - two scales: the image itself, then cv::resize to (w/2, h/2) with INTER_CUBIC on float32
 *    (Keys a = -0.75, pixel centres aligned, replicated borders, no antialiasing).
 *  - MSCN: mu = GaussianBlur(I, 7x7, sigma 7/6, BORDER_REPLICATE); sd = sqrt(blur(I*I) - mu*mu)
 *    + 1/255; mscn = (I - mu) / sd, all in float32. Where rounding makes blur(I*I) - mu^2
 *    negative (flat areas), sqrt gives NaN and so does the MSCN value: OpenCV's fits then skip
 *    those pixels while still counting them in the total. Flat areas (synthetic images, clipped
 *    skies) decide whole regions this way, so the float operations follow OpenCV's order
 *    exactly, as its x86-64 build runs on an AVX2 CPU: the separable blur in fused multiply-adds
 *    (brisque_blur.h, with an AVX2 twin);
 *    the cubic resize's vertical pass (baseline SSE2, no FMA) adds S0*b0 + (S1*b1 + (S2*b2 +
 *    S3*b3)) for the first w - w % 4 outputs of a row and left to right for the rest. fmaf() is
 *    correctly rounded on every CPU, so our result does not depend on the machine. The grey
 *    planes, blurs and MSCN fields of bench images match OpenCV's bit for bit (brisque.py).
 *  - AGGD fit (used for the MSCN field too) over pixels > 0 and < 0 in row-major order, in
 *    double; the shape is the first gamma of 0.2, 0.201, ... where |r(gamma) - r_hat| stops
 *    falling. Products with a neighbour outside the image are 0 (counted, never fitted).
 * Memory: the float image, its half-scale copy and rings of 7 filtered rows (about 5 bytes per
 * pixel). */
#include "enhance/brisque_blur.h"
#include "enhance/brisque_internal.h"
#include "nn/cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KS 7 /* Gaussian window */
#define KR 3 /* its radius */

/* getGaussianKernel(7, 7/6, CV_32F): exp(-x^2 / (2 sigma^2)) normalised in double, then float
 * (OpenCV's bit-exact version rounds the same; the peer's --kernel prints it). */
static void gauss_kernel(float k[KS])
{
    double s = 7.0 / 6.0, e[KS], sum = 0;
    for (int i = 0; i < KS; i++) {
        double x = i - KR;
        e[i] = exp(-(x * x) / (2 * s * s));
    }
    sum = 1 + 2 * (e[0] + e[1] + e[2]);
    for (int i = 0; i < KS; i++)
        k[i] = (float)(e[i] * (1.0 / sum));
}

/* The AVX2 pair when this CPU has AVX2 and FMA and the process default kernel path
 * (nn/cpu.h: enh_cpu_requested_isa, ENHANCE_KERNELS in the CLI) is not ref/portable. */
static void blur_pick(enh_brisque_row_fn *row, enh_brisque_col_fn *col)
{
    enh_isa isa = ENH_ISA_AUTO;
    enh_cpu_requested_isa(&isa);
    const enh_cpu_features *f = enh_cpu_get();
    int fast = f->avx2 && f->fma && isa != ENH_ISA_REF && isa != ENH_ISA_PORTABLE;
    *row = fast ? enh_brisque_row_avx2 : enh_brisque_row_ref;
    *col = fast ? enh_brisque_col_avx2 : enh_brisque_col_ref;
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- AGGD statistics ---- */
typedef struct {
    long pos, neg;
    double possq, negsq, abs;
} agg;

static inline void agg_add(agg *a, float v)
{
    double pt = v;
    if (pt > 0) {
        a->pos++;
        a->possq += pt * pt;
        a->abs += pt;
    } else if (pt < 0) {
        a->neg++;
        a->negsq += pt * pt;
        a->abs -= pt;
    }
}

static void agg_fit(const agg *a, double total, double *lsigma, double *rsigma, double *gamma)
{
    *lsigma = pow(a->negsq / (double)a->neg, 0.5);
    *rsigma = pow(a->possq / (double)a->pos, 0.5);
    double gh = *lsigma / *rsigma;
    double rhat = pow(a->abs / total, 2.0) / ((a->negsq + a->possq) / total);
    double rn = rhat * (pow(gh, 3) + 1) * (gh + 1) / pow(pow(gh, 2) + 1, 2);
    double prevgamma = 0, prevdiff = 1e10;
    /* the accumulated step and the stop rule are OpenCV's (a NaN r_hat runs to the end) */
    for (double g = 0.2; g < 10; g += 0.001) {
        double r = tgamma(2 / g) * tgamma(2 / g) / (tgamma(1 / g) * tgamma(3 / g));
        double diff = fabs(r - rn);
        if (diff > prevdiff)
            break;
        prevdiff = diff;
        prevgamma = g;
    }
    *gamma = prevgamma;
}

/* Products of row i of the MSCN field with its right, lower, lower-right and upper-right
 * neighbours (OpenCV's shifts {0,1}, {1,0}, {1,1}, {-1,1}); up/down may be NULL at the edges. */
static void products_row(const float *up, const float *row, const float *down, int w, agg pr[4])
{
    for (int x = 0; x < w; x++) {
        float s = row[x];
        if (x + 1 < w)
            agg_add(&pr[0], s * row[x + 1]);
        if (down)
            agg_add(&pr[1], s * down[x]);
        if (down && x + 1 < w)
            agg_add(&pr[2], s * down[x + 1]);
        if (up && x + 1 < w)
            agg_add(&pr[3], s * up[x + 1]);
    }
}

/* The 18 features of one scale. */
static enh_status scale_features(const float *img, int w, int h, float *f, enh_error *err)
{
    float k[KS];
    gauss_kernel(k);
    enh_brisque_row_fn row_filter;
    enh_brisque_col_fn col_filter;
    blur_pick(&row_filter, &col_filter);
    size_t ws = (size_t)w;
    /* rings: horizontally filtered I and I*I for 7 source rows; MSCN rows i-1, i, i+1 */
    float *mem = malloc(sizeof(float) * ws * (2 * KS + 3 + 3));
    if (!mem)
        return enh_fail(err, ENH_ENOMEM, "out of memory for BRISQUE (%dx%d)", w, h);
    float *hI = mem, *hI2 = hI + KS * ws, *ms = hI2 + KS * ws, *sq = ms + 3 * ws, *mu = sq + ws, *s2 = mu + ws;
    const float c255 = (float)(1.0 / 255.0);
    agg am = {0}, pr[4] = {{0}};
    int filtered = 0; /* source rows filtered so far */
    for (int y = 0; y < h; y++) {
        for (; filtered <= y + KR && filtered < h; filtered++) {
            const float *src = img + (size_t)filtered * ws;
            for (int x = 0; x < w; x++)
                sq[x] = src[x] * src[x];
            row_filter(src, w, k, hI + (size_t)(filtered % KS) * ws, 0, w);
            row_filter(sq, w, k, hI2 + (size_t)(filtered % KS) * ws, 0, w);
        }
        const float *r1[KS], *r2[KS];
        for (int j = 0; j < KS; j++) {
            int r = clampi(y + j - KR, 0, h - 1) % KS;
            r1[j] = hI + (size_t)r * ws;
            r2[j] = hI2 + (size_t)r * ws;
        }
        col_filter(r1, k, mu, 0, w);
        col_filter(r2, k, s2, 0, w);
        const float *src = img + (size_t)y * ws;
        float *out = ms + (size_t)(y % 3) * ws;
        for (int x = 0; x < w; x++) {
            float musq = mu[x] * mu[x];
            float var = s2[x] - musq;
            float sd = sqrtf(var) + c255; /* NaN where var < 0, as in OpenCV */
            out[x] = (src[x] - mu[x]) / sd;
            agg_add(&am, out[x]);
        }
        if (y >= 1) {
            int i = y - 1;
            products_row(i >= 1 ? ms + (size_t)((i - 1) % 3) * ws : NULL, ms + (size_t)(i % 3) * ws, out, w, pr);
        }
    }
    int i = h - 1;
    products_row(i >= 1 ? ms + (size_t)((i - 1) % 3) * ws : NULL, ms + (size_t)(i % 3) * ws, NULL, w, pr);
    free(mem);

    double total = (double)w * h, l, r, g;
    agg_fit(&am, total, &l, &r, &g);
    f[0] = (float)g;
    f[1] = (float)(l * l + r * r) / 2;
    for (int d = 0; d < 4; d++) {
        agg_fit(&pr[d], total, &l, &r, &g);
        double constant = sqrt(tgamma(1 / g)) / sqrt(tgamma(3 / g));
        double meanparam = (r - l) * (tgamma(2 / g) / tgamma(1 / g)) * constant;
        f[2 + 4 * d] = (float)g;
        f[3 + 4 * d] = (float)meanparam;
        f[4 + 4 * d] = (float)pow(l, 2);
        f[5 + 4 * d] = (float)pow(r, 2);
    }
    return ENH_OK;
}

/* interpolateCubic of OpenCV's resize, in float. */
static void cubic_coeffs(float x, float c[4])
{
    const float A = -0.75f;
    c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
    c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
    c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
    c[3] = 1.f - c[0] - c[1] - c[2];
}

/* Source position and weights of each output pixel along one axis (OpenCV's float arithmetic). */
static void cubic_axis(int sn, int dn, int *ofs, float *wts)
{
    double inv = (double)dn / sn, scale = 1. / inv;
    for (int d = 0; d < dn; d++) {
        float fx = (float)((d + 0.5) * scale - 0.5);
        int sx = (int)fx;
        sx -= sx > fx; /* cvFloor */
        fx -= (float)sx;
        ofs[d] = sx;
        cubic_coeffs(fx, wts + 4 * d);
    }
}

/* cv::resize(src, dst, (dw, dh), INTER_CUBIC) for float32, one channel. */
static enh_status resize_cubic(const float *src, int sw, int sh, float *dst, int dw, int dh, enh_error *err)
{
    int *xo = malloc(sizeof(int) * ((size_t)dw + dh));
    float *xa = malloc(sizeof(float) * 4 * ((size_t)dw + dh)), *rows = malloc(sizeof(float) * 4 * (size_t)dw);
    if (!xo || !xa || !rows) {
        free(xo), free(xa), free(rows);
        return enh_fail(err, ENH_ENOMEM, "out of memory for BRISQUE's half scale");
    }
    int *yo = xo + dw;
    float *ya = xa + 4 * (size_t)dw;
    cubic_axis(sw, dw, xo, xa);
    cubic_axis(sh, dh, yo, ya);
    int vec = dw - dw % 4;
    for (int dy = 0; dy < dh; dy++) {
        for (int k = 0; k < 4; k++) {
            const float *s = src + (size_t)clampi(yo[dy] - 1 + k, 0, sh - 1) * sw;
            float *d = rows + (size_t)k * dw;
            for (int dx = 0; dx < dw; dx++) {
                const float *a = xa + 4 * (size_t)dx;
                int sx = xo[dx];
                float v = s[clampi(sx - 1, 0, sw - 1)] * a[0];
                v = v + s[clampi(sx, 0, sw - 1)] * a[1];
                v = v + s[clampi(sx + 1, 0, sw - 1)] * a[2];
                v = v + s[clampi(sx + 2, 0, sw - 1)] * a[3];
                d[dx] = v;
            }
        }
        const float *b = ya + 4 * (size_t)dy, *S0 = rows, *S1 = rows + dw, *S2 = rows + 2 * (size_t)dw,
                    *S3 = rows + 3 * (size_t)dw;
        float *out = dst + (size_t)dy * dw;
        for (int x = 0; x < dw; x++) {
            if (x < vec) {
                float t = S2[x] * b[2] + S3[x] * b[3];
                t = S1[x] * b[1] + t;
                out[x] = S0[x] * b[0] + t;
            } else {
                float t = S0[x] * b[0] + S1[x] * b[1];
                t = t + S2[x] * b[2];
                out[x] = t + S3[x] * b[3];
            }
        }
    }
    free(xo), free(xa), free(rows);
    return ENH_OK;
}

enh_status enh_brisque_features_plane(const float *grey, int w, int h, float feat[ENH_BRISQUE_FEATURES],
                                      enh_error *err)
{
    if (w < ENH_BRISQUE_MIN_SIDE || h < ENH_BRISQUE_MIN_SIDE)
        return enh_fail(err, ENH_EINVAL, "image is %dx%d; BRISQUE needs at least %dx%d pixels", w, h,
                        ENH_BRISQUE_MIN_SIDE, ENH_BRISQUE_MIN_SIDE);
    enh_status st = scale_features(grey, w, h, feat, err);
    if (st)
        return st;
    int hw = w / 2, hh = h / 2;
    float *half = malloc(sizeof(float) * (size_t)hw * hh);
    if (!half)
        return enh_fail(err, ENH_ENOMEM, "out of memory for BRISQUE's half scale (%dx%d)", hw, hh);
    st = resize_cubic(grey, w, h, half, hw, hh, err);
    if (!st)
        st = scale_features(half, hw, hh, feat + 18, err);
    free(half);
    return st;
}
