/* photo_crop.h - a planar float RGB crop [0,1] of a real photo for the model tests: the
 * shared photos (../shared/photos relative to the repo), else a synthetic textured image. */
#ifndef ENH_TESTS_PHOTO_CROP_H
#define ENH_TESTS_PHOTO_CROP_H

#include <math.h>
#include <stdio.h>
#include <vips/vips.h>

#include "core/mem.h"

static inline float *photo_crop(int w, int h, const char **source)
{
    float *out = enh_alloc((size_t)3 * w * h * sizeof(float));
    char path[4096];
    snprintf(path, sizeof path, "%s/../shared/photos/garden.jpg", ENH_SOURCE_DIR);
    VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_RANDOM, NULL), *c = NULL;
    if (im && vips_image_get_width(im) >= w && vips_image_get_height(im) >= h && vips_image_get_bands(im) == 3 &&
        !vips_crop(im, &c, (vips_image_get_width(im) - w) / 2, (vips_image_get_height(im) - h) / 2, w, h, NULL)) {
        size_t sz;
        unsigned char *p = vips_image_write_to_memory(c, &sz);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < w * h; i++)
                out[(size_t)k * w * h + i] = p[(size_t)i * 3 + k] / 255.f;
        g_free(p);
        *source = "garden.jpg (shared photos)";
    } else {
        vips_error_clear();
        for (int k = 0; k < 3; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    out[((size_t)k * h + y) * w + x] = (float)(0.5 + 0.3 * sin(0.21 * x + k) * cos(0.13 * y) +
                                                               0.15 * sin(1.7 * x * y / (w + h)));
        *source = "synthetic";
    }
    if (c)
        g_object_unref(c);
    if (im)
        g_object_unref(im);
    return out;
}

#endif
