/* upscale_io.h - pixels between libvips and the NN tiler for the upscale stage.
 *
 * An upscale_src is the input image materialised once as interleaved uchar or ushort
 * (1..4 bands: grey, grey+alpha, RGB, RGBA); the fetch callback turns a window of it into
 * planar float RGB in [0, 1] (grey replicated to RGB; or the alpha band replicated when
 * `alpha_pass`). An upscale_dst is the interleaved output buffer at the same depth; the
 * emit callback quantises clamped float rows into it (RGB -> colour bands, grey = mean of
 * the three channels, alpha pass -> alpha band).
 * Ownership: upscale_src_free / the returned VipsImage own the buffers.
 * Thread-safety: one src/dst per stage call. Errors: enh_status with a message. */
#ifndef ENH_ENHANCE_UPSCALE_IO_H
#define ENH_ENHANCE_UPSCALE_IO_H

#include <stddef.h>
#include <vips/vips.h>

#include "core/error.h"

typedef struct upscale_img {
    unsigned char *data; /* interleaved pixels */
    int w, h, bands;
    int depth16;         /* 1: ushort, 0: uchar */
    int alpha_pass;      /* callbacks work on the alpha band */
} upscale_img;

/* Converts `in` to uchar/ushort sRGB/grey (+alpha), lazily: *prepared is a new reference. */
enh_status upscale_prepare(VipsImage *in, VipsImage **prepared, enh_error *err);
/* Size, bands and depth of a prepared image (data NULL). */
void upscale_img_format(VipsImage *prepared, upscale_img *fmt);
/* Converts h rows of w pixels (row r at base + r * lskip, m's bands and depth) to planar
 * float RGB in [0, 1] as upscale_fetch does (m->data is not used). */
void upscale_rows_to_float(const upscale_img *m, const unsigned char *base, size_t lskip, int w, int h, float *dst);

/* Converts `in` to uchar/ushort sRGB/grey (+alpha) and materialises it into *src;
 * *prepared gets the converted image (a new reference) for its interpretation/metadata. */
enh_status upscale_src_load(VipsImage *in, upscale_img *src, VipsImage **prepared, enh_error *err);
void upscale_img_free(upscale_img *img);
/* Allocates the output buffer (w x h, same bands/depth as src); ENH_ETOOBIG / ENH_ENOMEM. */
enh_status upscale_dst_alloc(const upscale_img *src, int w, int h, upscale_img *dst, enh_error *err);

/* enh_tiler_fetch_fn / enh_tiler_emit_fn over an upscale_img (user = the image). */
enh_status upscale_fetch(void *user, int x, int y, int w, int h, int c, float *dst, enh_error *err);
enh_status upscale_emit(void *user, int y, int rows, int ow, int c, const float *data, size_t plane_stride,
                        enh_error *err);

/* 1 when the alpha band is constant (then *value holds it). */
int upscale_alpha_constant(const upscale_img *src, unsigned *value);
void upscale_fill_alpha(upscale_img *dst, unsigned value);

/* Wraps dst's buffer in a VipsImage (ownership of the buffer moves to the image) with the
 * interpretation and metadata (EXIF, ICC, XMP, ...) of `like`. */
enh_status upscale_dst_to_vips(upscale_img *dst, VipsImage *like, VipsImage **out, enh_error *err);

#endif
