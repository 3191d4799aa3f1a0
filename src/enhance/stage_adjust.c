/* stage_adjust.c - colour, exposure and tone: auto_color, auto_exposure, hdr and the manual
 * exposure / contrast / saturation / sharpness / temperature / tint sliders (-100..100).
 *
 * All lazy libvips arithmetic on a float copy of the colour bands (alpha untouched, 16-bit kept,
 * see restore_util.h). Order and methods:
 *  1. to linear light (sRGB transfer undone exactly, piecewise).
 *  2. channel gains in linear light, multiplied together:
 *     - auto_color: von Kries gains 1/e_c from the assessment's illuminant estimate
 *       (colour_estimate.h), normalised so a neutral keeps its luminance, raised to the power of
 *       the estimate's confidence (the estimators' agreement): partial when they disagree,
 *       full where the gain was measured on clipped highlights (colour_clip.c);
 *     - temperature (+ = warmer: R up, B down, up to x1.25 / x0.8) and tint (+ = magenta: G down to x0.8),
 *       normalised to keep luminance;
 *     - exposure: auto_exposure uses the assessment's EV (clamped to -1.5..+3), the slider adds
 *       -2..+2 EV.
 *     A highlight shoulder above 0.8 (exponential roll-off to 1) avoids hard clipping when the
 *     gain is above 1.
 *  3. saturation: linear-light mix with luminance, x(1 + s/100).
 *  4. back to sRGB coding; contrast: S-curve around mid-grey in the coded domain
 *     (see contrast_curve), monotonic for |k| <= 1.
 *  5. hdr: CLAHE (vips_hist_local) on L* only, blended with the original L* by strength; chroma
 *     (a*, b*) unchanged.
 *  6. sharpness: + = unsharp mask on luma, - = blend towards a Gaussian blur.
 * Thread-safety: reentrant. Errors: ENH_EINTERNAL (libvips).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enhance/assess.h"
#include "enhance/restore_util.h"
#include "enhance/stages.h"

typedef struct {
    VipsImage *objs[256];
    int n;
} arena;

/* Keeps every intermediate alive until the end (they are lazy views of one another). */
static VipsImage *keep(arena *a, VipsImage *im)
{
    if (im && a->n < 256)
        a->objs[a->n++] = im;
    return im;
}

static void arena_free(arena *a)
{
    for (int i = 0; i < a->n; i++)
        g_object_unref(a->objs[i]);
    a->n = 0;
}

#define V(call, out_var)           \
    do {                           \
        if (call)                  \
            return NULL;           \
        keep(ar, out_var);         \
    } while (0)

static VipsImage *lin1(arena *ar, VipsImage *x, double a, double b)
{
    VipsImage *o = NULL;
    V(vips_linear1(x, &o, a, b, NULL), o);
    return o;
}

static VipsImage *powc(arena *ar, VipsImage *x, double e)
{
    VipsImage *o = NULL, *c = NULL;
    /* clamp at 0 first: pow of a negative is NaN */
    V(vips_relational_const1(x, &c, VIPS_OPERATION_RELATIONAL_LESS, 0.0, NULL), c);
    VipsImage *z = NULL;
    V(vips_ifthenelse(c, lin1(ar, x, 0, 0), x, &z, NULL), z);
    V(vips_math2_const1(z, &o, VIPS_OPERATION_MATH2_POW, e, NULL), o);
    return o;
}

static VipsImage *select_gt(arena *ar, VipsImage *x, double thr, VipsImage *hi, VipsImage *lo)
{
    VipsImage *c = NULL, *o = NULL;
    if (!hi || !lo)
        return NULL;
    V(vips_relational_const1(x, &c, VIPS_OPERATION_RELATIONAL_MORE, thr, NULL), c);
    V(vips_ifthenelse(c, hi, lo, &o, NULL), o);
    return o;
}

/* 0..255 sRGB-coded -> linear 0..1 */
static VipsImage *to_linear(arena *ar, VipsImage *x)
{
    VipsImage *s = lin1(ar, x, 1.0 / 255, 0);
    if (!s)
        return NULL;
    VipsImage *lo = lin1(ar, s, 1 / 12.92, 0);
    VipsImage *hi = powc(ar, lin1(ar, s, 1 / 1.055, 0.055 / 1.055), 2.4);
    return select_gt(ar, s, 0.04045, hi, lo);
}

/* linear 0..1 -> 0..255 sRGB-coded */
static VipsImage *from_linear(arena *ar, VipsImage *l)
{
    VipsImage *lo = lin1(ar, l, 12.92 * 255, 0);
    VipsImage *p = powc(ar, l, 1 / 2.4);
    VipsImage *hi = p ? lin1(ar, p, 1.055 * 255, -0.055 * 255) : NULL;
    return select_gt(ar, l, 0.0031308, hi, lo);
}

/* Per-band gains (3 bands) or a single gain. */
static VipsImage *gains(arena *ar, VipsImage *x, const double g[3], int bands)
{
    VipsImage *o = NULL;
    double b[3] = {0, 0, 0};
    V(vips_linear(x, &o, (double *)g, b, bands, NULL), o);
    return o;
}

/* y = x for x <= k, k + (1-k)(1 - exp(-(x-k)/(1-k))) above: smooth roll-off to 1. */
static VipsImage *shoulder(arena *ar, VipsImage *x, double k)
{
    VipsImage *t = lin1(ar, x, -1.0 / (1 - k), k / (1 - k));
    if (!t)
        return NULL;
    VipsImage *e = NULL;
    V(vips_exp(t, &e, NULL), e);
    VipsImage *hi = lin1(ar, e, -(1 - k), 1.0);
    return select_gt(ar, x, k, hi, x);
}


static VipsImage *luminance(arena *ar, VipsImage *x, const double w[3])
{
    VipsImage *mat = keep(ar, vips_image_new_from_memory_copy(w, 3 * sizeof(double), 3, 1, 1, VIPS_FORMAT_DOUBLE));
    VipsImage *o = NULL;
    if (!mat)
        return NULL;
    V(vips_recomb(x, &o, mat, NULL), o);
    return o;
}

/* x in 0..255 coded: contrast S-curve with k in -1..1: y = x + k x(1-x)(2x-1) on the unit scale;
 * slope 1 + k/2 at mid-grey, 1 - k at the ends, so monotonic for |k| <= 1. */
static VipsImage *contrast_curve(arena *ar, VipsImage *x, double k)
{
    VipsImage *u = lin1(ar, x, 1.0 / 255, 0);
    if (!u)
        return NULL;
    VipsImage *one_minus = lin1(ar, u, -1, 1), *two_x = lin1(ar, u, 2, -1), *a = NULL, *b = NULL, *o = NULL;
    if (!one_minus || !two_x)
        return NULL;
    V(vips_multiply(u, one_minus, &a, NULL), a);
    V(vips_multiply(a, two_x, &b, NULL), b);
    VipsImage *d = lin1(ar, b, k, 0);
    if (!d)
        return NULL;
    V(vips_add(u, d, &o, NULL), o);
    return lin1(ar, o, 255, 0);
}

static VipsImage *local_contrast(arena *ar, VipsImage *coded, int strength, int bands)
{
    /* L* (float) via Lab; CLAHE on an 8-bit copy of L*; blend; back to sRGB coding. */
    if (bands != 3)
        return coded; /* grey: no Lab conversion needed, handled below */
    VipsImage *srgb = NULL, *labi = NULL, *L = NULL, *ab = NULL, *L8 = NULL, *eq = NULL, *eqf = NULL, *mix = NULL,
              *lab2 = NULL, *back = NULL;
    VipsImage *c = NULL;
    V(vips_copy(coded, &c, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), c);
    /* float sRGB 0..255 -> scRGB -> Lab */
    VipsImage *lin = to_linear(ar, c);
    if (!lin)
        return NULL;
    V(vips_copy(lin, &srgb, "interpretation", VIPS_INTERPRETATION_scRGB, NULL), srgb);
    V(vips_colourspace(srgb, &labi, VIPS_INTERPRETATION_LAB, NULL), labi);
    V(vips_extract_band(labi, &L, 0, NULL), L);
    V(vips_extract_band(labi, &ab, 1, "n", 2, NULL), ab);
    VipsImage *Ls = lin1(ar, L, 2.55, 0.5);
    if (!Ls)
        return NULL;
    V(vips_cast(Ls, &L8, VIPS_FORMAT_UCHAR, NULL), L8);
    int win = 2 * (int)(fmax(vips_image_get_width(c), vips_image_get_height(c)) / 16) + 1;
    if (win < 17)
        win = 17;
    V(vips_hist_local(L8, &eq, win, win, "max_slope", 3, NULL), eq);
    eqf = lin1(ar, eq, 1 / 2.55, 0);
    double s = strength / 100.0;
    VipsImage *a1 = lin1(ar, eqf, s, 0), *a2 = lin1(ar, L, 1 - s, 0);
    if (!a1 || !a2)
        return NULL;
    V(vips_add(a1, a2, &mix, NULL), mix);
    VipsImage *arr[2] = {mix, ab};
    VipsImage *j = NULL;
    V(vips_bandjoin(arr, &j, 2, NULL), j);
    V(vips_copy(j, &lab2, "interpretation", VIPS_INTERPRETATION_LAB, NULL), lab2);
    V(vips_colourspace(lab2, &back, VIPS_INTERPRETATION_scRGB, NULL), back);
    return from_linear(ar, back);
}

enh_status enh_stage_adjust(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx, VipsImage **out,
                            enh_pipeline_report *report, enh_error *err)
{
    (void)ctx;
    *out = NULL;
    int any = ops->auto_color || ops->auto_exposure || ops->hdr || ops->exposure || ops->contrast ||
              ops->saturation || ops->sharpness || ops->temperature || ops->tint;
    if (!any) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    enh_status st;
    enh_assessment a;
    int need_assess = ops->auto_color || ops->auto_exposure;
    if (need_assess && (st = enh_assess_image(in, &a, err)))
        return st;
    enh_split sp;
    if ((st = enh_split_colour(in, &sp, err)))
        return st;
    arena ar_ = {.n = 0}, *ar = &ar_;
    int bands = vips_image_get_bands(sp.colour);
    VipsImage *cur = sp.colour;
    double g[3] = {1, 1, 1};
    const double wy[3] = {0.2126, 0.7152, 0.0722};
    int gain_used = 0;
    double ev = 0;

    if (ops->auto_color && bands == 3) {
        const double *e = a.illuminant;
        double ey = wy[0] * e[0] + wy[1] * e[1] + wy[2] * e[2];
        /* estimators that disagree see scene colour, not the light: correct partially */
        double w = a.cast_confidence;
        if (e[0] > 0 && e[1] > 0 && e[2] > 0 && ey > 0 && w > 0) {
            for (int c = 0; c < 3; c++)
                g[c] *= pow(ey / e[c], w);
            gain_used = 1;
        }
        enh_report_explain(report,
                "auto colour: cast a* %+.1f b* %+.1f (%.1f deg from neutral, estimators within %.1f deg) -> %.0f%% "
                "correction, gains R %.3f G %.3f B %.3f\n",
                a.cast_a, a.cast_b, a.cast_angle, a.cast_spread, 100 * w, g[0], g[1], g[2]);
    }
    if ((ops->temperature || ops->tint) && bands == 3) {
        double t = ops->temperature / 100.0, ti = ops->tint / 100.0;
        double m[3] = {1 + 0.25 * (t > 0 ? t : 0.8 * t), 1 - 0.2 * (ti > 0 ? ti : 0.8 * ti),
                       1 - 0.2 * (t > 0 ? t : 1.25 * t)};
        double my = wy[0] * m[0] + wy[1] * m[1] + wy[2] * m[2];
        for (int c = 0; c < 3; c++)
            g[c] *= m[c] / my;
        gain_used = 1;
    }
    if (ops->auto_exposure) {
        ev = a.exposure_ev < -1.5 ? -1.5 : a.exposure_ev > 3 ? 3 : a.exposure_ev;
        enh_report_explain(report, "auto exposure: mid-tone L* %.1f, highlights L* %.1f -> %+.2f EV\n", a.l_p50, a.l_p99, ev);
    }
    ev += ops->exposure / 50.0;
    if (ev != 0) {
        for (int c = 0; c < 3; c++)
            g[c] *= pow(2, ev);
        gain_used = 1;
    }
    double maxg = fmax(g[0], fmax(g[1], g[2]));
    if (gain_used || ops->saturation) {
        VipsImage *l = to_linear(ar, cur);
        if (!l)
            goto fail;
        if (gain_used) {
            if (!(l = gains(ar, l, g, bands)))
                goto fail;
            if (maxg > 1.0001 && !(l = shoulder(ar, l, 0.8)))
                goto fail;
        }
        if (ops->saturation && bands == 3) {
            VipsImage *y = luminance(ar, l, wy), *d = NULL, *o = NULL;
            if (!y || vips_subtract(l, y, &d, NULL))
                goto fail;
            keep(ar, d);
            VipsImage *ds = lin1(ar, d, 1 + ops->saturation / 100.0, 0);
            if (!ds || vips_add(y, ds, &o, NULL))
                goto fail;
            l = keep(ar, o);
        }
        if (!(cur = from_linear(ar, l)))
            goto fail;
    }
    if (ops->contrast && !(cur = contrast_curve(ar, cur, ops->contrast / 100.0)))
        goto fail;
    if (ops->hdr && bands == 3) {
        if (!(cur = local_contrast(ar, cur, ops->hdr, bands)))
            goto fail;
        enh_report_explain(report, "hdr: local contrast (CLAHE on L*) at %d%%\n", ops->hdr);
    }
    if (ops->sharpness > 0) {
        VipsImage *o = NULL;
        if ((st = enh_unsharp_luma(cur, 0.8, ops->sharpness / 100.0, &o, err)))
            goto done;
        cur = keep(ar, o);
    } else if (ops->sharpness < 0) {
        VipsImage *b = NULL, *o = NULL;
        double w = -ops->sharpness / 100.0;
        if (vips_gaussblur(cur, &b, 1.5, "precision", VIPS_PRECISION_FLOAT, NULL))
            goto fail;
        keep(ar, b);
        VipsImage *x1 = lin1(ar, b, w, 0), *x2 = lin1(ar, cur, 1 - w, 0);
        if (!x1 || !x2 || vips_add(x1, x2, &o, NULL))
            goto fail;
        cur = keep(ar, o);
    }
    st = enh_join_colour(&sp, cur, out, err);
    goto done;
fail:
    st = enh_rs_vips_fail(err, "adjustments failed");
done:
    arena_free(ar);
    enh_split_free(&sp);
    return st;
}
