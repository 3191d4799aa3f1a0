/* strength.h - one place for how a 0..100 strength maps to algorithm parameters and back
 * from measured severity (used by stage_restore.c, stage_adjust.c and stage_auto.c so that
 * "auto" and the plan printed by --explain agree). Pure functions, thread-safe. */
#ifndef ENH_ENHANCE_STRENGTH_H
#define ENH_ENHANCE_STRENGTH_H

/* denoise: strength s <-> Gaussian noise sigma (0..255 units) the filter is tuned for. */
static inline double enh_denoise_sigma(int s) { return 0.3 * s; }
static inline int enh_denoise_strength(double sigma)
{
    int s = (int)(sigma / 0.3 + 0.5);
    return s < 1 ? 1 : s > 100 ? 100 : s;
}

/* decompress: strength s <-> the JPEG quality whose tables are re-applied
 * (moderate = 50 -> q 50, strong = 100 -> q 5). */
static inline int enh_decompress_quality(int s)
{
    int q = (int)(95 - 0.9 * s + 0.5);
    return q < 1 ? 1 : q > 95 ? 95 : q;
}
static inline int enh_decompress_strength(int quality)
{
    int s = (int)((95 - quality) / 0.9 + 0.5);
    return s < 1 ? 1 : s > 100 ? 100 : s;
}

/* deblur / sharpen: unsharp-mask radius (Gaussian sigma, px) and amount for strength s. */
static inline double enh_deblur_sigma(int s) { return 1.0 + 0.015 * s; } /* 1.0 .. 2.5 */
static inline double enh_deblur_amount(int s) { return 0.02 * s; }       /* 0 .. 2 */
static inline double enh_sharpen_sigma(int s) { (void)s; return 0.8; }
static inline double enh_sharpen_amount(int s) { return 0.01 * s; }      /* 0 .. 1 */

#endif
