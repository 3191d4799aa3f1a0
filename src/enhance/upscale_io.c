/* upscale_io.c - libvips <-> planar float for the upscale stage (see upscale_io.h). */
#include <string.h>

#include "enhance/upscale_io.h"

#define MAX_OUT_PIXELS ((long long)1 << 30) /* 1 gigapixel of output */

static enh_status vips_err(enh_error *err, const char *what)
{
    enh_status st = enh_fail(err, ENH_EINTERNAL, "%s: %s", what, vips_error_buffer());
    vips_error_clear();
    return st;
}

enh_status upscale_prepare(VipsImage *in, VipsImage **prepared, enh_error *err)
{
    *prepared = NULL;
    VipsImage *cur = in, *t = NULL;
    g_object_ref(cur);
    int bands = vips_image_get_bands(cur);
    VipsInterpretation it = vips_image_get_interpretation(cur);
    VipsBandFormat fmt = vips_image_get_format(cur);
    int grey = it == VIPS_INTERPRETATION_B_W || it == VIPS_INTERPRETATION_GREY16;
    int rgb = it == VIPS_INTERPRETATION_sRGB || it == VIPS_INTERPRETATION_RGB16 || it == VIPS_INTERPRETATION_RGB;
    int wide = fmt != VIPS_FORMAT_UCHAR && fmt != VIPS_FORMAT_CHAR;
    if (!(grey && bands <= 2) && !(rgb && bands >= 3 && bands <= 4) &&
        !(it == VIPS_INTERPRETATION_MULTIBAND && bands <= 4)) {
        /* CMYK, Lab, scRGB, ...: convert to (16-bit) sRGB */
        if (vips_colourspace(cur, &t, wide ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB, NULL)) {
            g_object_unref(cur);
            return vips_err(err, "cannot convert the image to sRGB for upscaling");
        }
        g_object_unref(cur);
        cur = t;
    }
    fmt = vips_image_get_format(cur);
    if (fmt != VIPS_FORMAT_UCHAR && fmt != VIPS_FORMAT_USHORT) {
        int to16 = fmt != VIPS_FORMAT_CHAR;
        if (vips_cast(cur, &t, to16 ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR, NULL)) {
            g_object_unref(cur);
            return vips_err(err, "cannot cast the image for upscaling");
        }
        g_object_unref(cur);
        cur = t;
    }
    bands = vips_image_get_bands(cur);
    if (bands > 4) { /* keep colour + alpha */
        if (vips_extract_band(cur, &t, 0, "n", 4, NULL)) {
            g_object_unref(cur);
            return vips_err(err, "cannot extract bands");
        }
        g_object_unref(cur);
        cur = t;
    }
    *prepared = cur;
    return ENH_OK;
}

void upscale_img_format(VipsImage *prepared, upscale_img *fmt)
{
    memset(fmt, 0, sizeof *fmt);
    fmt->w = vips_image_get_width(prepared);
    fmt->h = vips_image_get_height(prepared);
    fmt->bands = vips_image_get_bands(prepared);
    fmt->depth16 = vips_image_get_format(prepared) == VIPS_FORMAT_USHORT;
}

enh_status upscale_src_load(VipsImage *in, upscale_img *src, VipsImage **prepared, enh_error *err)
{
    memset(src, 0, sizeof *src);
    VipsImage *cur;
    enh_status st = upscale_prepare(in, &cur, err);
    if (st != ENH_OK)
        return st;
    size_t size = 0;
    void *mem = vips_image_write_to_memory(cur, &size);
    if (!mem) {
        g_object_unref(cur);
        return vips_err(err, "cannot decode the image pixels for upscaling");
    }
    upscale_img_format(cur, src);
    src->data = mem;
    *prepared = cur;
    return ENH_OK;
}

void upscale_img_free(upscale_img *img)
{
    g_free(img->data);
    img->data = NULL;
}

enh_status upscale_dst_alloc(const upscale_img *src, int w, int h, upscale_img *dst, enh_error *err)
{
    memset(dst, 0, sizeof *dst);
    if ((long long)w * h > MAX_OUT_PIXELS)
        return enh_fail(err, ENH_ETOOBIG, "the upscaled image would be %dx%d, more than the limit of %lld megapixels",
                        w, h, MAX_OUT_PIXELS >> 20);
    size_t bytes = (size_t)w * h * src->bands * (src->depth16 ? 2 : 1);
    dst->data = g_try_malloc(bytes);
    if (!dst->data)
        return enh_fail(err, ENH_ENOMEM, "out of memory for the %dx%d upscaled image (%.0f MiB)", w, h,
                        (double)bytes / (1 << 20));
    dst->w = w;
    dst->h = h;
    dst->bands = src->bands;
    dst->depth16 = src->depth16;
    return ENH_OK;
}

static int colour_bands(const upscale_img *m) { return m->bands >= 3 ? 3 : 1; }
static int has_alpha(const upscale_img *m) { return m->bands == 2 || m->bands == 4; }

void upscale_rows_to_float(const upscale_img *m, const unsigned char *base, size_t lskip, int w, int h, float *dst)
{
    const float scale = m->depth16 ? 1.f / 65535.f : 1.f / 255.f;
    const int cb = colour_bands(m);
    size_t plane = (size_t)w * h;
    for (int r = 0; r < h; r++) {
        const unsigned char *row = base + (size_t)r * lskip;
        for (int i = 0; i < w; i++) {
            size_t at = (size_t)i * m->bands, o = (size_t)r * w + i;
            for (int k = 0; k < 3; k++) {
                int band = m->alpha_pass ? m->bands - 1 : (cb == 3 ? k : 0);
                float v = m->depth16 ? ((const unsigned short *)row)[at + band] : row[at + band];
                dst[k * plane + o] = v * scale;
            }
        }
    }
}

enh_status upscale_fetch(void *user, int x, int y, int w, int h, int c, float *dst, enh_error *err)
{
    const upscale_img *m = user;
    if (c != 3)
        return enh_fail(err, ENH_EUNSUPPORTED, "the upscaler needs a 3-channel model (this one has %d)", c);
    size_t px = (size_t)m->bands * (m->depth16 ? 2 : 1);
    upscale_rows_to_float(m, m->data + ((size_t)y * m->w + x) * px, (size_t)m->w * px, w, h, dst);
    return ENH_OK;
}

enh_status upscale_emit(void *user, int y, int rows, int ow, int c, const float *data, size_t plane_stride,
                        enh_error *err)
{
    upscale_img *m = user;
    if (ow != m->w || c != 3)
        return enh_fail(err, ENH_EINTERNAL, "upscale emit: %d columns / %d channels, expected %d / 3", ow, c, m->w);
    const float maxv = m->depth16 ? 65535.f : 255.f;
    const int cb = colour_bands(m);
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < ow; i++) {
            size_t o = (size_t)r * ow + i, at = ((size_t)(y + r) * m->w + i) * m->bands;
            float v[3] = {data[o], data[plane_stride + o], data[2 * plane_stride + o]};
            int nb = m->alpha_pass || cb == 1 ? 1 : 3;
            for (int k = 0; k < nb; k++) {
                float f = nb == 1 ? (v[0] + v[1] + v[2]) / 3.f : v[k];
                f = f < 0.f ? 0.f : f > 1.f ? 1.f : f; /* clamp before quantising */
                unsigned q = (unsigned)(f * maxv + 0.5f);
                int band = m->alpha_pass ? m->bands - 1 : k;
                if (m->depth16)
                    ((unsigned short *)m->data)[at + band] = (unsigned short)q;
                else
                    m->data[at + band] = (unsigned char)q;
            }
        }
    return ENH_OK;
}

int upscale_alpha_constant(const upscale_img *src, unsigned *value)
{
    if (!has_alpha(src))
        return 0;
    size_t n = (size_t)src->w * src->h;
    int a = src->bands - 1;
    unsigned first = src->depth16 ? ((const unsigned short *)src->data)[a] : src->data[a];
    for (size_t i = 1; i < n; i++) {
        unsigned v = src->depth16 ? ((const unsigned short *)src->data)[i * src->bands + a] : src->data[i * src->bands + a];
        if (v != first)
            return 0;
    }
    *value = first;
    return 1;
}

void upscale_fill_alpha(upscale_img *dst, unsigned value)
{
    size_t n = (size_t)dst->w * dst->h;
    int a = dst->bands - 1;
    for (size_t i = 0; i < n; i++) {
        if (dst->depth16)
            ((unsigned short *)dst->data)[i * dst->bands + a] = (unsigned short)value;
        else
            dst->data[i * dst->bands + a] = (unsigned char)value;
    }
}

static void free_buf(VipsImage *image, gpointer buf)
{
    (void)image;
    g_free(buf);
}

static void *copy_meta(VipsImage *from, const char *name, GValue *value, void *to)
{
    (void)from;
    static const char *skip[] = {"width", "height", "bands", "format", "coding", "interpretation", "xoffset",
                                 "yoffset", "xres", "yres", "filename", "mode", "scale", "offset", "page-height",
                                 "n-pages", NULL};
    for (int i = 0; skip[i]; i++)
        if (!strcmp(name, skip[i]))
            return NULL;
    vips_image_set((VipsImage *)to, name, value);
    return NULL;
}

enh_status upscale_dst_to_vips(upscale_img *dst, VipsImage *like, VipsImage **out, enh_error *err)
{
    size_t bytes = (size_t)dst->w * dst->h * dst->bands * (dst->depth16 ? 2 : 1);
    VipsImage *mem = vips_image_new_from_memory(dst->data, bytes, dst->w, dst->h, dst->bands,
                                                dst->depth16 ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR);
    if (!mem)
        return vips_err(err, "cannot wrap the upscaled pixels");
    g_signal_connect(mem, "postclose", G_CALLBACK(free_buf), dst->data);
    dst->data = NULL; /* owned by the image now */
    VipsImage *t;
    if (vips_copy(mem, &t, "interpretation", vips_image_get_interpretation(like), "xres", like->Xres, "yres",
                  like->Yres, NULL)) {
        g_object_unref(mem);
        return vips_err(err, "cannot set the upscaled image's header");
    }
    g_object_unref(mem);
    vips_image_map(like, copy_meta, t);
    *out = t;
    return ENH_OK;
}
