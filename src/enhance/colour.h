/* colour.h - small colour-science helpers shared by assessment and adjustments (header-only,
 * pure functions, thread-safe). sRGB per IEC 61966-2-1, CIELAB per CIE 15 with the D65 white. */
#ifndef ENH_ENHANCE_COLOUR_H
#define ENH_ENHANCE_COLOUR_H

#include <math.h>

static inline double enh_srgb_to_linear(double s)
{
    return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4);
}

static inline double enh_linear_to_srgb(double l)
{
    if (l <= 0)
        return 0;
    return l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055;
}

/* CIE L* (0..100) of relative luminance y (0..1). */
static inline double enh_lightness(double y)
{
    return y > 216.0 / 24389.0 ? 116.0 * cbrt(y) - 16.0 : 24389.0 / 27.0 * y;
}

/* Inverse of enh_lightness. */
static inline double enh_lightness_to_y(double l)
{
    return l > 8 ? pow((l + 16) / 116, 3) : l / (24389.0 / 27.0);
}

/* Linear sRGB (D65) to CIELAB. */
static inline void enh_linear_rgb_to_lab(const double rgb[3], double lab[3])
{
    double v[3] = {(0.4124564 * rgb[0] + 0.3575761 * rgb[1] + 0.1804375 * rgb[2]) / 0.95047,
                   0.2126729 * rgb[0] + 0.7151522 * rgb[1] + 0.0721750 * rgb[2],
                   (0.0193339 * rgb[0] + 0.1191920 * rgb[1] + 0.9503041 * rgb[2]) / 1.08883};
    double f[3];
    for (int i = 0; i < 3; i++)
        f[i] = v[i] > 216.0 / 24389.0 ? cbrt(v[i]) : (24389.0 / 27.0 * v[i] + 16.0) / 116.0;
    lab[0] = 116 * f[1] - 16;
    lab[1] = 500 * (f[0] - f[1]);
    lab[2] = 200 * (f[1] - f[2]);
}

#endif
