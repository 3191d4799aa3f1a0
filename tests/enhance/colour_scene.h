/* colour_scene.h - shared by the colour tests (test_colour, test_colour_learned): a linear-light
 * RGB scene rendered as degrade.py casts photos (per-channel gains in linear light, clipped,
 * sRGB transfer redone, rounded to 8 bits), and the mean a*b* error between two such images. */
#ifndef ENH_TESTS_ENHANCE_COLOUR_SCENE_H
#define ENH_TESTS_ENHANCE_COLOUR_SCENE_H

#include <math.h>
#include <stdlib.h>
#include <vips/vips.h>

#include "enhance/colour.h"

/* lin: w*h*3 linear RGB; g: the gains. Returns a new 8-bit sRGB image. */
static inline VipsImage *scene_render(const double *lin, int w, int h, const double g[3])
{
    size_t n = (size_t)w * h * 3;
    unsigned char *buf = malloc(n);
    for (size_t i = 0; i < n; i++) {
        double v = lin[i] * g[i % 3];
        buf[i] = (unsigned char)(255 * enh_linear_to_srgb(v > 1 ? 1 : v) + 0.5);
    }
    VipsImage *im = vips_image_new_from_memory_copy(buf, n, w, h, 3, VIPS_FORMAT_UCHAR);
    free(buf);
    VipsImage *o = NULL;
    vips_copy(im, &o, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(im);
    return o;
}

/* Mean of (|a*| + |b*|) / 2 differences between two 8-bit sRGB images of the same size. */
static inline double scene_ab_error(VipsImage *a, VipsImage *b)
{
    size_t n = 0, np = (size_t)vips_image_get_width(a) * vips_image_get_height(a);
    unsigned char *p = vips_image_write_to_memory(a, &n), *q = vips_image_write_to_memory(b, &n);
    double s = 0;
    for (size_t i = 0; i < np; i++) {
        double la[3], lb[3], ra[3], rb[3];
        for (int c = 0; c < 3; c++) {
            ra[c] = enh_srgb_to_linear(p[3 * i + c] / 255.0);
            rb[c] = enh_srgb_to_linear(q[3 * i + c] / 255.0);
        }
        enh_linear_rgb_to_lab(ra, la);
        enh_linear_rgb_to_lab(rb, lb);
        s += (fabs(la[1] - lb[1]) + fabs(la[2] - lb[2])) / 2;
    }
    g_free(p), g_free(q);
    return s / (double)np;
}

#endif
