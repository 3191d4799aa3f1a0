/* image_decode.h - decode an image (file or memory) into a normalised VipsImage.
 *
 * Normalised means: upright (EXIF orientation 1..8 applied, the tag removed); sRGB
 * (an embedded ICC profile is applied and replaced by sRGB's; CMYK without a profile goes
 * through libvips' built-in CMYK profile; Lab/XYZ/float data converted); 8-bit images stay
 * 8-bit (interpretation sRGB or B_W) and deeper ones become 16-bit (RGB16 or GREY16);
 * greyscale stays greyscale; alpha is kept as the last band; only the first page/frame
 * (GIF, multi-page TIFF, HEIF primary image). The probe's pixel cap is checked on the
 * header before anything is decoded. Pixels are decoded into memory here, so a truncated
 * or damaged file fails here (ENH_EINVAL) rather than half-way through a later stage.
 *
 * Ownership: on ENH_OK *out is a new reference the caller unrefs. For the buffer variant
 * the data may be freed as soon as the call returns. Thread-safe.
 * Errors: as enh_image_probe_*, plus ENH_EINVAL for undecodable pixel data and ENH_ENOMEM
 * when libvips runs out of memory while decoding (not the file's fault). */
#ifndef ENH_IMAGE_DECODE_H
#define ENH_IMAGE_DECODE_H

#include <stddef.h>
#include <vips/vips.h>

#include "core/error.h"
#include "image/image_probe.h"

/* info (may be NULL) receives the probe facts of the file as stored. */
enh_status enh_image_decode_file(const char *path, unsigned long long max_pixels, VipsImage **out,
                                 enh_image_info *info, enh_error *err);
enh_status enh_image_decode_buffer(const void *data, size_t len, unsigned long long max_pixels, VipsImage **out,
                                   enh_image_info *info, enh_error *err);
/* An upload spooled to the file open as fd (read from offset 0, through the same allow-listed
 * loaders; fd stays the caller's). */
enh_status enh_image_decode_fd(int fd, unsigned long long max_pixels, VipsImage **out, enh_image_info *info,
                               enh_error *err);

/* The normalisation step alone, for images that did not come from a file. `in` is
 * borrowed; *out is lazy over `in` (call vips_image_copy_memory to materialise). */
enh_status enh_image_normalize(VipsImage *in, VipsImage **out, enh_error *err);

/* 1 when the image holds 16-bit samples (ushort), else 0. */
int enh_image_is_16bit(const VipsImage *img);

#endif
