/* codec.h - the server's image decode/encode from memory.
 *
 * A thin adapter over the image module (src/image): only JPEG, PNG, WebP, HEIF/AVIF, TIFF
 * and GIF load; the pixel cap is checked from the header before any pixel is decoded.
 * Ownership: serve_decode returns a new VipsImage reference whose pixels are in memory (the
 * input buffer may be freed afterwards); serve_encode returns a g_malloc'd buffer (g_free).
 * Thread-safety: all functions may run concurrently. Errors: ENH_EUNSUPPORTED (format),
 * ENH_ETOOBIG (pixel cap, message states limit and actual), ENH_EINVAL (corrupt data),
 * ENH_ECANCELLED (encode stopped by its cancel flag), or what a lazy image's failure maps to.
 */
#ifndef ENH_SERVE_CODEC_H
#define ENH_SERVE_CODEC_H

#include <stdatomic.h>
#include <stddef.h>
#include <vips/vips.h>

#include "core/error.h"
#include "enhance/ops.h"

/* Once per process; safe to call repeatedly. */
enh_status serve_codec_init(enh_error *err);

/* Reads only the header: format and size; checks the loader, the pixel cap and the layout
 * (enh_image_check_layout). On failure *fmt is the recognised format (ENH_FORMAT_SAME when
 * none): ENH_EUNSUPPORTED with a recognised format is a layout refused (422), without one a
 * format not accepted (415). */
enh_status serve_probe(const void *buf, size_t len, long long max_pixels, enh_format *fmt, int *width,
                       int *height, enh_error *err);

/* The same for an upload spooled to the file open as fd (upload.h). */
enh_status serve_probe_fd(int fd, long long max_pixels, enh_format *fmt, int *width, int *height, enh_error *err);

/* Decodes (EXIF-rotated, sRGB) into memory. */
enh_status serve_decode(const void *buf, size_t len, long long max_pixels, VipsImage **out, enh_format *fmt,
                        enh_error *err);

/* The same from the file open as fd (a spooled upload; read from offset 0). */
enh_status serve_decode_fd(int fd, long long max_pixels, VipsImage **out, enh_format *fmt, enh_error *err);

/* Encodes img as ops->format (ENH_FORMAT_SAME: in_fmt where writable, else PNG). */
enh_status serve_encode(VipsImage *img, const enh_ops *ops, enh_format in_fmt, void **buf, size_t *len,
                        const char **mime, enh_format *used, enh_error *err);
/* The same, stopped early with ENH_ECANCELLED once *cancel (may be NULL) becomes non-zero:
 * the encoder checks it as it pulls the (lazy) pixels, so the work behind img stops too. */
enh_status serve_encode_cancellable(VipsImage *img, const enh_ops *ops, enh_format in_fmt, atomic_int *cancel,
                                    void **buf, size_t *len, const char **mime, enh_format *used, enh_error *err);

#endif
