/* restore_util.c - see restore_util.h. */
#include "enhance/restore_util.h"

#include <string.h>

#include "core/mem.h"

enh_status enh_rs_vips_fail(enh_error *err, const char *what)
{
    enh_status st = enh_fail(err, ENH_EINTERNAL, "%s: %s", what, vips_error_buffer());
    vips_error_clear();
    return st;
}

/* Replaces *img by the result when op succeeded (op returns 0), unrefs the old one. */
#define STEP(img, call)               \
    do {                              \
        VipsImage *t_ = NULL;         \
        if (call)                     \
            goto fail;                \
        g_object_unref(img);          \
        img = t_;                     \
    } while (0)

enh_status enh_split_colour(VipsImage *in, enh_split *s, enh_error *err)
{
    memset(s, 0, sizeof *s);
    s->format = vips_image_get_format(in);
    s->interpretation = vips_image_get_interpretation(in);
    int bands = vips_image_get_bands(in);
    int alpha = vips_image_hasalpha(in) && (bands == 2 || bands == 4);
    int cb = bands - alpha;
    if (cb != 1 && cb != 3)
        return enh_fail(err, ENH_EUNSUPPORTED, "restorations need grey or RGB images, got %d bands", bands);
    s->scale = s->format == VIPS_FORMAT_USHORT ? 257.0 : s->format == VIPS_FORMAT_UCHAR ? 1.0
               : vips_band_format_isfloat(s->format) && s->interpretation == VIPS_INTERPRETATION_scRGB ? 1.0 / 255.0
                                                                                                    : 1.0;
    VipsImage *c = in;
    g_object_ref(c);
    if (alpha) {
        if (vips_extract_band(in, &s->alpha, cb, NULL))
            goto fail;
        STEP(c, vips_extract_band(c, &t_, 0, "n", cb, NULL));
    }
    STEP(c, vips_linear1(c, &t_, 1.0 / s->scale, 0.0, NULL)); /* float output */
    s->colour = c;
    return ENH_OK;
fail:
    g_object_unref(c);
    enh_split_free(s);
    return enh_rs_vips_fail(err, "cannot prepare the image");
}

enh_status enh_join_colour(const enh_split *s, VipsImage *colour, VipsImage **out, enh_error *err)
{
    VipsImage *c = colour;
    g_object_ref(c);
    if (s->format == VIPS_FORMAT_UCHAR || s->format == VIPS_FORMAT_USHORT || !vips_band_format_isfloat(s->format)) {
        /* +0.5 then the (truncating, clamping) cast = round to nearest */
        STEP(c, vips_linear1(c, &t_, s->scale, 0.5, NULL));
        STEP(c, vips_cast(c, &t_, s->format, NULL));
    } else {
        STEP(c, vips_linear1(c, &t_, s->scale, 0.0, NULL));
        STEP(c, vips_cast(c, &t_, s->format, NULL));
    }
    if (s->alpha) {
        VipsImage *arr[2] = {c, s->alpha};
        STEP(c, vips_bandjoin(arr, &t_, 2, NULL));
    }
    STEP(c, vips_copy(c, &t_, "interpretation", s->interpretation, NULL));
    *out = c;
    return ENH_OK;
fail:
    g_object_unref(c);
    return enh_rs_vips_fail(err, "cannot finish the image");
}

void enh_split_free(enh_split *s)
{
    if (s->colour)
        g_object_unref(s->colour);
    if (s->alpha)
        g_object_unref(s->alpha);
    s->colour = s->alpha = NULL;
}

enh_status enh_planes_from_image(VipsImage *img, enh_planes *p, enh_error *err)
{
    memset(p, 0, sizeof *p);
    VipsImage *f = NULL;
    if (vips_cast(img, &f, VIPS_FORMAT_FLOAT, NULL))
        return enh_rs_vips_fail(err, "cannot convert to float");
    size_t size = 0;
    float *buf = vips_image_write_to_memory(f, &size);
    p->w = vips_image_get_width(f);
    p->h = vips_image_get_height(f);
    p->bands = vips_image_get_bands(f);
    g_object_unref(f);
    if (!buf)
        return enh_rs_vips_fail(err, "cannot decode the pixels");
    size_t n = (size_t)p->w * p->h;
    for (int c = 0; c < p->bands; c++) {
        p->plane[c] = enh_alloc(n * sizeof(float));
        if (!p->plane[c]) {
            g_free(buf);
            enh_planes_free(p);
            return enh_fail(err, ENH_ENOMEM, "out of memory for a %dx%d image", p->w, p->h);
        }
        for (size_t i = 0; i < n; i++)
            p->plane[c][i] = buf[i * p->bands + c];
    }
    g_free(buf);
    return ENH_OK;
}

enh_status enh_planes_to_image(const enh_planes *p, VipsImage **out, enh_error *err)
{
    size_t n = (size_t)p->w * p->h;
    float *buf = enh_alloc(n * p->bands * sizeof(float));
    if (!buf)
        return enh_fail(err, ENH_ENOMEM, "out of memory for a %dx%d image", p->w, p->h);
    for (int c = 0; c < p->bands; c++)
        for (size_t i = 0; i < n; i++)
            buf[i * p->bands + c] = p->plane[c][i];
    *out = vips_image_new_from_memory_copy(buf, n * p->bands * sizeof(float), p->w, p->h, p->bands,
                                           VIPS_FORMAT_FLOAT);
    enh_free(buf);
    if (!*out)
        return enh_rs_vips_fail(err, "cannot wrap the pixels");
    return ENH_OK;
}

void enh_planes_free(enh_planes *p)
{
    for (int c = 0; c < 3; c++) {
        enh_free(p->plane[c]);
        p->plane[c] = NULL;
    }
}

enh_status enh_unsharp_luma(VipsImage *colour, double sigma, double amount, VipsImage **out, enh_error *err)
{
    VipsImage *y = NULL, *b = NULL, *d = NULL, *o = NULL;
    int bands = vips_image_get_bands(colour);
    enh_status st = ENH_OK;
    if (bands == 3) {
        double m[3] = {0.299, 0.587, 0.114};
        VipsImage *mat = vips_image_new_from_memory_copy(m, sizeof m, 3, 1, 1, VIPS_FORMAT_DOUBLE);
        int r = !mat || vips_recomb(colour, &y, mat, NULL);
        if (mat)
            g_object_unref(mat);
        if (r)
            goto fail;
    } else {
        y = colour;
        g_object_ref(y);
    }
    if (vips_gaussblur(y, &b, sigma, "precision", VIPS_PRECISION_FLOAT, NULL) || vips_subtract(y, b, &d, NULL))
        goto fail;
    {
        VipsImage *scaled = NULL;
        if (vips_linear1(d, &scaled, amount, 0.0, NULL))
            goto fail;
        int r = vips_add(colour, scaled, &o, NULL);
        g_object_unref(scaled);
        if (r)
            goto fail;
    }
    *out = o;
    o = NULL;
    goto done;
fail:
    st = enh_rs_vips_fail(err, "unsharp mask failed");
done:
    if (y)
        g_object_unref(y);
    if (b)
        g_object_unref(b);
    if (d)
        g_object_unref(d);
    if (o)
        g_object_unref(o);
    return st;
}
