/* colour_clip.c - white point from clipped highlights (see colour_estimate.h, enh_clip_white).
 *
 * A channel that clipped at capture piles its brightest pixels up at one value (a spike at the top
 * of its histogram). A later per-channel gain g < 1 in linear light moves that pile-up from 255 to
 * 255 * srgb(g): the ceiling's linear value IS the gain. A gain > 1 keeps the pile-up at 255 (it
 * only grows), so for those channels the ceiling gives the lower bound g >= 1. The histograms are
 * taken on the 8-bit image as given, not the estimators' shrunk copy (a pile-up must not be
 * smeared; assess.c passes a box-shrunk copy above 12 MP, where blocks inside a clipped area keep
 * their value).
 * Thread-safety: reentrant (no globals, 6 KiB of stack). Errors: none (pure function). */
#include "enhance/colour.h"
#include "enhance/colour_estimate.h"

#include <string.h>

/* A pile-up: at least this many times the mean count of the levels 3..10 below the ceiling, and
 * at least CLIP_MIN_FRAC of the pixels (and 10). Lowered: the ceiling at or below CLIP_LOWERED
 * (253 and up count as unlowered: JPEG ringing and rounding move a clipped 255 by a level or
 * two), and not below CLIP_FLOOR (gains under ~0.2 are exposure, not colour). */
#define CLIP_SPIKE 4.0
#define CLIP_MIN_FRAC 5e-5
#define CLIP_LOWERED 250
#define CLIP_FLOOR 120

void enh_clip_white_point(const unsigned char *rgb, size_t n, enh_clip_white *out)
{
    memset(out, 0, sizeof *out);
    size_t h[3][256];
    memset(h, 0, sizeof h);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            h[c][rgb[3 * i + c]]++;
    size_t min_count = (size_t)(CLIP_MIN_FRAC * n) > 10 ? (size_t)(CLIP_MIN_FRAC * n) : 10;
    int any_top = 0;
    for (int c = 0; c < 3; c++) {
        /* ceiling: the highest level holding more than a stray few pixels */
        size_t stray = (size_t)(2e-5 * n) > 3 ? (size_t)(2e-5 * n) : 3;
        int m = 255;
        while (m > 0 && h[c][m] < stray)
            m--;
        double base = 0;
        if (m >= 11) {
            for (int v = m - 10; v <= m - 3; v++)
                base += h[c][v];
            base /= 8;
        }
        out->ceiling[c] = m;
        out->spike[c] = h[c][m] / (base + 1);
        out->piled[c] = out->spike[c] >= CLIP_SPIKE && h[c][m] >= min_count;
        out->gain[c] = enh_srgb_to_linear(m / 255.0);
        any_top |= m > CLIP_LOWERED;
    }
    for (int c = 0; c < 3; c++) {
        out->lowered[c] = out->piled[c] && out->ceiling[c] <= CLIP_LOWERED && out->ceiling[c] >= CLIP_FLOOR;
        out->found |= out->lowered[c];
    }
    /* a gain on every channel is an exposure change, not a cast: one channel must still reach the top */
    if (!any_top) {
        out->found = 0;
        memset(out->lowered, 0, sizeof out->lowered);
    }
}
