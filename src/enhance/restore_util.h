/* restore_util.h - helpers shared by the restoration and adjustment stages (internal).
 *
 * enh_split_colour: splits a stage input into its colour bands as float on a 0..255 scale
 * (8-bit as is, 16-bit divided by 257, float sRGB/scRGB kept as they come scaled) and its alpha
 * band (untouched), remembering format and interpretation; enh_join_colour converts processed
 * colour back to the original format (rounded, clamped), re-attaches alpha and restores the
 * interpretation. Everything is lazy libvips except enh_planes_*, which materialise pixels.
 * Ownership: enh_split holds references released by enh_split_free. Reentrant.
 */
#ifndef ENH_ENHANCE_RESTORE_UTIL_H
#define ENH_ENHANCE_RESTORE_UTIL_H

#include <vips/vips.h>

#include "core/error.h"

typedef struct enh_split {
    VipsImage *colour;  /* float, 1 or 3 bands, 0..255 scale */
    VipsImage *alpha;   /* NULL if none; original format */
    VipsBandFormat format;
    VipsInterpretation interpretation;
    double scale;       /* original units per 0..255 unit (1, 257) */
} enh_split;

enh_status enh_split_colour(VipsImage *in, enh_split *s, enh_error *err);
/* colour: float 0..255 (borrowed); *out new reference in the original format. */
enh_status enh_join_colour(const enh_split *s, VipsImage *colour, VipsImage **out, enh_error *err);
void enh_split_free(enh_split *s);

typedef struct enh_planes {
    int w, h, bands;
    float *plane[3];
} enh_planes;

enh_status enh_planes_from_image(VipsImage *img, enh_planes *p, enh_error *err);
enh_status enh_planes_to_image(const enh_planes *p, VipsImage **out, enh_error *err);
void enh_planes_free(enh_planes *p);

/* out = colour + amount * (Y' - gauss(Y', sigma)) added to every band; Y' = BT.601 luma. */
enh_status enh_unsharp_luma(VipsImage *colour, double sigma, double amount, VipsImage **out, enh_error *err);

/* enh_fail with the libvips error buffer appended (and cleared). */
enh_status enh_rs_vips_fail(enh_error *err, const char *what);

#endif
