/* image_probe.h - header-only inspection of an image file or buffer, and the pixel cap.
 *
 * Probing reads the header only (no pixel is decoded), so it is cheap and safe on hostile
 * input: an image whose header claims more than `max_pixels` pixels is refused here with
 * ENH_ETOOBIG before any pixel memory is allocated, and so is one whose decoded samples
 * (bands x sample size x pixels) would exceed the budget ENH_IMAGE_DECODE_BYTES_PER_PIXEL
 * sets. A file that starts like an accepted format but cannot be opened is ENH_EINVAL
 * ("truncated or damaged"). Only the accepted formats pass (see
 * image_init.h); anything else is ENH_EUNSUPPORTED with a message naming what it is.
 * Errors: ENH_ENOTFOUND (no such file), ENH_EIO (unreadable), ENH_EINVAL (empty or
 * corrupt header), ENH_EUNSUPPORTED (not an accepted format), ENH_ETOOBIG (over the cap).
 * Thread-safe. enh_image_info is a plain value. */
#ifndef ENH_IMAGE_PROBE_H
#define ENH_IMAGE_PROBE_H

#include <stddef.h>

#include "core/error.h"

/* Default pixel cap (width * height) for decoding: 50 megapixels. */
#define ENH_IMAGE_DEFAULT_MAX_PIXELS 50000000ULL

/* The cap also bounds decode memory: width * height * bands * bytes per sample must not
 * exceed max_pixels times this (4 bands of 16 bits), so many bands or float samples cannot
 * multiply the cost of an image within the pixel cap (ENH_ETOOBIG otherwise). */
#define ENH_IMAGE_DECODE_BYTES_PER_PIXEL 8

typedef struct enh_image_info {
    char format[8];         /* "jpeg", "png", "webp", "avif", "heif", "tiff", "gif" */
    int width, height;      /* as stored (before EXIF rotation) */
    int bands;              /* samples per pixel, alpha included */
    int bit_depth;          /* bits per sample as stored (1, 8, 16, ...) */
    char sample[12];        /* libvips band format: "uchar", "ushort", "float", "complex", ... */
    int orientation;        /* EXIF orientation 1..8 (1 = upright) */
    int has_icc;            /* an ICC profile is embedded */
    int has_alpha;
    int pages;              /* frames / pages in the file (>= 1) */
    char colourspace[16];   /* libvips interpretation: "srgb", "b-w", "cmyk", "rgb16", ... */
    long long file_size;    /* bytes */
} enh_image_info;

/* max_pixels == 0 means no cap (e.g. `enhance info` may describe any size). */
enh_status enh_image_probe_file(const char *path, unsigned long long max_pixels, enh_image_info *info,
                                enh_error *err);
enh_status enh_image_probe_buffer(const void *data, size_t len, unsigned long long max_pixels,
                                  enh_image_info *info, enh_error *err);
/* The same for an upload spooled to the file open as fd (read from offset 0; named "image"
 * in messages, as a buffer is). */
enh_status enh_image_probe_fd(int fd, unsigned long long max_pixels, enh_image_info *info, enh_error *err);

/* ENH_EUNSUPPORTED, naming the layout and what to do, unless the image's layout can be
 * processed: 1-4 bands (grey, grey + alpha, RGB, RGBA; 5 for CMYK + alpha) of 8- or 16-bit
 * integer samples, or 3-4 bands of float samples (colour: scRGB, Lab, XYZ, converted to 16 bits
 * by the decoder). Refused: other band counts (they were dropped silently), 32-bit integers,
 * complex samples, float grey (1-2 bands: a data plane, e.g. depth, whose range is not a
 * photo's). The decoders call it; a probe does not (`enhance info` describes any file).
 * info->format stays set, so a caller can tell this from a format it does not accept. */
enh_status enh_image_check_layout(const enh_image_info *info, enh_error *err);

/* Width and height after EXIF rotation (orientations 5..8 swap them). */
void enh_image_info_upright_size(const enh_image_info *info, int *width, int *height);

#endif
