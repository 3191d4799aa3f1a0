/* brisque.c - BRISQUE of a VipsImage (see brisque.h): the image to OpenCV's grey plane, then the
 * features (brisque_features.c) and the SVR (brisque_model.c).
 *
 * Grey as OpenCV 4.6's cvtColor(BGR2GRAY) on 8-bit pixels: 15-bit fixed point,
 * (9798 R + 19235 G + 3735 B + 16384) >> 15 (its vector code's coefficients; the 14-bit ones of
 * its scalar code differ on 164 of bikes.png's 393216 pixels), then float g * (float)(1/255). 16-bit samples are first rounded to 8 bits (v / 257): OpenCV
 * would divide 16-bit grey by 255 (a 0..257 range, which changes the MSCN's 1/255 guard), and
 * rounding makes a 16-bit copy of an 8-bit image score exactly as the original. Other
 * colourspaces go to sRGB first; alpha and extra bands are ignored. Pixels are read in strips of
 * rows, so a lazy or sequential image is decoded once, top to bottom. */
#include "enhance/brisque_internal.h"

#include <stdlib.h>

#define STRIP 64

static enh_status vips_fail(enh_error *err, const char *what)
{
    enh_status st = enh_fail(err, ENH_EINVAL, "%s: %s", what, vips_error_buffer());
    vips_error_clear();
    return st;
}

/* 1 or 3 bands of uchar or ushort. */
static enh_status prepare(VipsImage *in, VipsImage **out, enh_error *err)
{
    VipsImage *x = in, *t = NULL;
    g_object_ref(x);
    VipsInterpretation it = vips_image_guess_interpretation(in);
    if (it != VIPS_INTERPRETATION_sRGB && it != VIPS_INTERPRETATION_B_W && it != VIPS_INTERPRETATION_RGB16 &&
        it != VIPS_INTERPRETATION_GREY16 && it != VIPS_INTERPRETATION_MULTIBAND && vips_colourspace_issupported(x)) {
        if (vips_colourspace(x, &t, VIPS_INTERPRETATION_sRGB, NULL))
            goto fail;
        g_object_unref(x);
        x = t;
    }
    int bands = vips_image_get_bands(x), keep = bands >= 3 ? 3 : 1;
    if (bands != keep) {
        if (vips_extract_band(x, &t, 0, "n", keep, NULL))
            goto fail;
        g_object_unref(x);
        x = t;
    }
    VipsBandFormat f = vips_image_get_format(x);
    if (f != VIPS_FORMAT_UCHAR && f != VIPS_FORMAT_USHORT) {
        /* float images are taken as 0..1, other integer types as 0..255 (clipped) */
        if (vips_linear1(x, &t, vips_band_format_isfloat(f) ? 255.0 : 1.0, 0.0, "uchar", TRUE, NULL))
            goto fail;
        g_object_unref(x);
        x = t;
    }
    *out = x;
    return ENH_OK;
fail:
    g_object_unref(x);
    return vips_fail(err, "cannot convert the image for BRISQUE");
}

static inline int to8(unsigned v) { return (int)((v + 128) / 257); }

static enh_status grey_plane(VipsImage *in, float **plane, int *pw, int *ph, enh_error *err)
{
    *plane = NULL;
    int w = vips_image_get_width(in), h = vips_image_get_height(in);
    if (w < ENH_BRISQUE_MIN_SIDE || h < ENH_BRISQUE_MIN_SIDE)
        return enh_fail(err, ENH_EINVAL, "image is %dx%d; BRISQUE needs at least %dx%d pixels", w, h,
                        ENH_BRISQUE_MIN_SIDE, ENH_BRISQUE_MIN_SIDE);
    VipsImage *x = NULL;
    enh_status st = prepare(in, &x, err);
    if (st)
        return st;
    float *g = malloc(sizeof(float) * (size_t)w * (size_t)h);
    VipsRegion *reg = g ? vips_region_new(x) : NULL;
    if (!reg) {
        free(g);
        g_object_unref(x);
        return enh_fail(err, ENH_ENOMEM, "out of memory for BRISQUE (%dx%d)", w, h);
    }
    int bands = vips_image_get_bands(x), wide = vips_image_get_format(x) == VIPS_FORMAT_USHORT;
    const float c255 = (float)(1.0 / 255.0);
    for (int top = 0; top < h && !st; top += STRIP) {
        VipsRect r = {0, top, w, h - top < STRIP ? h - top : STRIP};
        if (vips_region_prepare(reg, &r)) {
            st = vips_fail(err, "cannot decode the image pixels");
            break;
        }
        for (int y = top; y < top + r.height; y++) {
            const VipsPel *p = VIPS_REGION_ADDR(reg, 0, y);
            const unsigned short *q = (const unsigned short *)p;
            float *o = g + (size_t)y * w;
            for (int i = 0; i < w; i++) {
                int v;
                if (bands == 1)
                    v = wide ? to8(q[i]) : p[i];
                else if (wide)
                    v = (9798 * to8(q[3 * i]) + 19235 * to8(q[3 * i + 1]) + 3735 * to8(q[3 * i + 2]) + 16384) >> 15;
                else
                    v = (9798 * p[3 * i] + 19235 * p[3 * i + 1] + 3735 * p[3 * i + 2] + 16384) >> 15;
                o[i] = (float)v * c255;
            }
        }
    }
    g_object_unref(reg);
    g_object_unref(x);
    if (st) {
        free(g);
        return st;
    }
    *plane = g;
    *pw = w;
    *ph = h;
    return ENH_OK;
}

enh_status enh_brisque_features(VipsImage *in, float features[ENH_BRISQUE_FEATURES], enh_error *err)
{
    float *g = NULL;
    int w = 0, h = 0;
    enh_status st = grey_plane(in, &g, &w, &h, err);
    if (!st)
        st = enh_brisque_features_plane(g, w, h, features, err);
    free(g);
    return st;
}

enh_status enh_brisque_score(const enh_brisque *b, VipsImage *in, double *score, enh_error *err)
{
    *score = 0;
    if (!b || !in)
        return enh_fail(err, ENH_EINVAL, "BRISQUE needs a loaded model and an image");
    float f[ENH_BRISQUE_FEATURES];
    enh_status st = enh_brisque_features(in, f, err);
    return st ? st : enh_brisque_predict(b, f, score, err);
}
