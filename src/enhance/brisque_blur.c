/* brisque_blur.c - the reference 7-tap filters (brisque_blur.h). */
#include "enhance/brisque_blur.h"

#include <math.h>
#include <string.h>

#define KR 3

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void enh_brisque_row_ref(const float *src, int w, const float *k, float *dst, int x0, int x1)
{
    for (int x = x0; x < x1; x++) {
        float v[ENH_BRISQUE_TAPS];
        if (x >= KR && x + KR < w)
            memcpy(v, src + x - KR, sizeof v);
        else
            for (int j = 0; j < ENH_BRISQUE_TAPS; j++)
                v[j] = src[clampi(x + j - KR, 0, w - 1)];
        float s = 0.0f;
        for (int j = 0; j < ENH_BRISQUE_TAPS; j++)
            s = fmaf(v[j], k[j], s);
        dst[x] = s;
    }
}

void enh_brisque_col_ref(const float *const *r, const float *k, float *dst, int x0, int x1)
{
    for (int x = x0; x < x1; x++) {
        float s = r[3][x] * k[3];
        for (int j = 1; j <= KR; j++)
            s = fmaf(r[3 + j][x] + r[3 - j][x], k[3 + j], s);
        dst[x] = s;
    }
}
