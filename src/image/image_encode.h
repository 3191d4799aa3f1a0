/* image_encode.h - encode a VipsImage to JPEG, PNG, WebP, AVIF or TIFF, to a file
 * (atomically) or to memory.
 *
 * Before encoding the image is fitted to what the format can store: the requested bit
 * depth (8 or 16; JPEG, WebP and AVIF store 8 bits - AVIF 16-bit input is written with 12
 * bits), alpha flattened onto white for JPEG (which has none). Metadata (EXIF, XMP, IPTC,
 * ICC) is stripped unless keep_metadata is set; decoded images carry an sRGB profile, so
 * a kept profile always matches the pixels.
 *
 * Files: the data is written to a hidden temporary file in the destination directory and
 * renamed over the destination only when complete (src/core/fsutil.h), so the destination
 * is never half-written and nothing is left behind on failure.
 * Thread-safe. Errors: ENH_EINVAL (bad option, e.g. 16-bit JPEG), ENH_EUNSUPPORTED (the
 * image is larger than the format can store: JPEG 65500, WebP 16383, AVIF 65536 pixels a
 * side; checked before encoding), ENH_EIO (file system), ENH_ECANCELLED (*cancel became
 * non-zero), ENH_EINTERNAL (encoder failure). */
#ifndef ENH_IMAGE_ENCODE_H
#define ENH_IMAGE_ENCODE_H

#include <stdatomic.h>
#include <stddef.h>
#include <vips/vips.h>

#include "core/error.h"
#include "image/image_format.h"

typedef void (*enh_save_progress_fn)(void *user, double fraction_done);

typedef struct enh_save_opts {
    enh_format format;       /* must be a concrete format (not ENH_FORMAT_SAME) */
    int quality;             /* 1..100; 0 = our default for the format */
    int progressive;         /* JPEG: progressive (interlaced) */
    int lossless;            /* WebP/AVIF: lossless */
    int keep_metadata;       /* keep EXIF/XMP/ICC */
    int bit_depth;           /* 0 = as the image (16 only where the format can), 8 or 16 (error if impossible) */
    enh_save_progress_fn progress; /* optional; called from the encoding thread */
    void *progress_user;
    atomic_int *cancel;      /* optional: non-zero stops the encode (ENH_ECANCELLED) */
} enh_save_opts;

void enh_save_opts_init(enh_save_opts *o);

/* SAME -> from the output path's suffix -> from the input format (image_format.h). */
enh_format enh_format_resolve(enh_format requested, const char *out_path, const char *input_format);

enh_status enh_image_save_file(VipsImage *img, const char *path, const enh_save_opts *o, enh_error *err);
/* *data is g_malloc'd (free with g_free). */
enh_status enh_image_save_buffer(VipsImage *img, const enh_save_opts *o, void **data, size_t *len,
                                 enh_error *err);

/* ENH_OK when a width x height image fits the format's size limits, else ENH_EUNSUPPORTED
 * with the limit named and what to do instead (callers may check before long work). */
enh_status enh_image_check_encodable(enh_format format, int width, int height, enh_error *err);

/* The image converted as it would be encoded (depth, alpha); for tests and previews. */
enh_status enh_image_prepare_for_save(VipsImage *img, const enh_save_opts *o, VipsImage **out, enh_error *err);

#endif
