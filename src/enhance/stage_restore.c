/* stage_restore.c - restorations: decompress (JPEG artifact removal), denoise, deblur/sharpen.
 *
 * Order: decompress -> denoise -> deblur -> sharpen. "auto" strengths are resolved from a
 * quality assessment of the input (assess.h) with the mappings of strength.h.
 *  - decompress: re-application of JPEG with the (estimated) quantisation tables at all 64 grid
 *    shifts, averaged (dct_filter.h), on JFIF YCbCr: Y with the luminance table, Cb/Cr with the
 *    chrominance table. Removes blocking and ringing; needs the pixels in memory.
 *  - denoise: sliding 8x8 DCT hard thresholding at 2.7 sigma (dct_filter.h) in an orthonormal
 *    opponent colour space (Y = (R+G+B)/sqrt3, U = (R-B)/sqrt2, V = (R-2G+B)/sqrt6), which keeps
 *    the noise sigma per channel. Images above 4 MP use every second grid shift (4x faster).
 *  - deblur / sharpen: unsharp mask on gamma-coded luma only (the same detail is added to R, G
 *    and B, so hue and saturation do not change), lazy libvips (gaussblur + arithmetic).
 * Alpha is split off and re-attached untouched; 16-bit images are processed in float and
 * written back as 16-bit (no 8-bit round trip). Thread-safety: reentrant; heavy loops run on
 * the pipeline's pool. Errors: ENH_ENOMEM, ENH_EINTERNAL (libvips).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "enhance/assess.h"
#include "enhance/dct_filter.h"
#include "enhance/stages.h"
#include "enhance/strength.h"
#include "enhance/restore_util.h"


/* JFIF RGB <-> YCbCr on planes (0..255 scale). */
static void rgb_to_ycc(float *r, float *g, float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float R = r[i], G = g[i], B = b[i];
        r[i] = 0.299f * R + 0.587f * G + 0.114f * B;
        g[i] = -0.168736f * R - 0.331264f * G + 0.5f * B + 128;
        b[i] = 0.5f * R - 0.418688f * G - 0.081312f * B + 128;
    }
}

static void ycc_to_rgb(float *y, float *cb, float *cr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float Y = y[i], U = cb[i] - 128, V = cr[i] - 128;
        y[i] = Y + 1.402f * V;
        cb[i] = Y - 0.344136f * U - 0.714136f * V;
        cr[i] = Y + 1.772f * U;
    }
}

static void rgb_to_opp(float *r, float *g, float *b, size_t n, int inverse)
{
    const float a = 0.57735027f, c = 0.70710678f, d = 0.40824829f;
    for (size_t i = 0; i < n; i++) {
        float x = r[i], y = g[i], z = b[i];
        if (!inverse) {
            r[i] = a * (x + y + z);
            g[i] = c * (x - z);
            b[i] = d * (x - 2 * y + z);
        } else {
            r[i] = a * x + c * y + d * z;
            g[i] = a * x - 2 * d * z;
            b[i] = a * x - c * y + d * z;
        }
    }
}

static enh_status run_dct(enh_planes *p, int quality, double sigma, enh_pool *pool, enh_error *err)
{
    size_t n = (size_t)p->w * p->h;
    enh_status st = ENH_OK;
    if (quality > 0) {
        enh_dct_filter f = {.rule = ENH_DCT_REQUANTISE, .step = 1};
        if (p->bands == 3)
            rgb_to_ycc(p->plane[0], p->plane[1], p->plane[2], n);
        for (int c = 0; c < p->bands && !st; c++) {
            enh_jpeg_table(quality, c > 0, f.table);
            st = enh_dct_filter_plane(p->plane[c], p->w, p->h, &f, pool, err);
        }
        if (p->bands == 3)
            ycc_to_rgb(p->plane[0], p->plane[1], p->plane[2], n);
    }
    if (!st && sigma > 0) {
        enh_dct_filter f = {.rule = ENH_DCT_HARD_THRESHOLD, .threshold = (float)(2.7 * sigma),
                            .step = n > 4000000 ? 2 : 1};
        if (p->bands == 3)
            rgb_to_opp(p->plane[0], p->plane[1], p->plane[2], n, 0);
        for (int c = 0; c < p->bands && !st; c++)
            st = enh_dct_filter_plane(p->plane[c], p->w, p->h, &f, pool, err);
        if (p->bands == 3)
            rgb_to_opp(p->plane[0], p->plane[1], p->plane[2], n, 1);
    }
    return st;
}

enh_status enh_stage_restore(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx, VipsImage **out,
                             enh_pipeline_report *report, enh_error *err)
{
    /* a restoration whose method is ai is the network stage's (stage_model.c) */
    int dq = ops->decompress, sh = ops->sharpen;
    int dn = ops->denoise_method == ENH_METHOD_AI ? 0 : ops->denoise;
    int db = ops->deblur_method == ENH_METHOD_AI ? 0 : ops->deblur;
    *out = NULL;
    if (!dq && !dn && !db && !sh) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    enh_status st;
    if (dq == ENH_AUTO || dn == ENH_AUTO || db == ENH_AUTO || sh == ENH_AUTO) {
        enh_assessment a;
        if ((st = enh_assess_image(in, &a, err)))
            return st;
        if (dq == ENH_AUTO) {
            dq = a.jpeg_quality > 0 && a.jpeg_quality < 90 ? enh_decompress_strength(a.jpeg_quality) : 0;
            enh_report_explain(report, "decompress auto: JPEG quality %d%s -> %s\n", a.jpeg_quality,
                    a.jpeg_quality > 0 ? "" : " (none found)", dq ? "re-apply its tables" : "nothing to do");
        }
        if (dn == ENH_AUTO) {
            dn = a.noise_sigma >= 2.0 ? enh_denoise_strength(a.noise_sigma) : 0;
            enh_report_explain(report, "denoise auto: noise sigma %.1f -> strength %d\n", a.noise_sigma, dn);
        }
        if (db == ENH_AUTO) {
            double s = a.severity[ENH_DEG_BLUR];
            db = s >= 0.5 ? (int)(40 + 60 * (s - 0.5) / 0.5) : 0;
            enh_report_explain(report, "deblur auto: blur %.2f (severity %.2f) -> strength %d\n", a.blur, s, db);
        }
        if (sh == ENH_AUTO) {
            double s = a.severity[ENH_DEG_BLUR];
            sh = s >= 0.25 && s < 0.5 ? 30 : 0;
            enh_report_explain(report, "sharpen auto: blur severity %.2f -> strength %d\n", s, sh);
        }
    }
    if (!dq && !dn && !db && !sh) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    enh_pool *pool = ctx && ctx->pool ? ctx->pool : enh_pool_default();
    enh_split split;
    if ((st = enh_split_colour(in, &split, err)))
        return st;
    VipsImage *cur = split.colour; /* float, 0..255 scale */
    g_object_ref(cur);
    if (dq || dn) {
        enh_planes p;
        if ((st = enh_planes_from_image(cur, &p, err)))
            goto fail;
        st = run_dct(&p, dq ? enh_decompress_quality(dq) : 0, dn ? enh_denoise_sigma(dn) : 0, pool, err);
        VipsImage *next = NULL;
        if (!st)
            st = enh_planes_to_image(&p, &next, err);
        enh_planes_free(&p);
        if (st)
            goto fail;
        g_object_unref(cur);
        cur = next;
    }
    if (db || sh) {
        double sigma = db ? enh_deblur_sigma(db) : enh_sharpen_sigma(sh);
        double amount = (db ? enh_deblur_amount(db) : 0) + (sh ? enh_sharpen_amount(sh) : 0);
        VipsImage *next = NULL;
        if ((st = enh_unsharp_luma(cur, sigma, amount, &next, err)))
            goto fail;
        g_object_unref(cur);
        cur = next;
    }
    st = enh_join_colour(&split, cur, out, err);
fail:
    g_object_unref(cur);
    enh_split_free(&split);
    return st;
}
