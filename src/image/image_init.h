/* image_init.h - one-time libvips set-up for the whole process.
 *
 * enh_image_init() starts libvips once (thread-safe, idempotent; every src/image entry
 * point calls it, so callers rarely need to): the operation cache is turned off (we never
 * re-run identical operations and the cache would pin decoded images in memory), and
 * every libvips loader is blocked except JPEG, PNG, WebP, HEIF/AVIF, TIFF and GIF
 * (file, buffer and source variants), so hostile uploads cannot reach the large,
 * rarely-audited loaders (SVG, PDF, FITS, matrix, PPM, ImageMagick, ...).
 * libvips warnings are routed to our log at info level.
 * Returns ENH_OK, or ENH_EINTERNAL when libvips cannot start (same result on every call). */
#ifndef ENH_IMAGE_INIT_H
#define ENH_IMAGE_INIT_H

#include "core/error.h"

enh_status enh_image_init(enh_error *err);

/* Worker threads libvips uses per pipeline (vips_concurrency_set); n <= 0 = default. */
void enh_image_set_threads(int n);

/* Human-readable list of the accepted input formats (static string). */
const char *enh_image_accepted_formats(void);

#endif
