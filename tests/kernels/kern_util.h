/* kern_util.h - helpers shared by the kernel tests: deterministic data, reference compare. */
#ifndef ENH_TESTS_KERN_UTIL_H
#define ENH_TESTS_KERN_UTIL_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static uint32_t ku_state = 12345u;
static float ku_rand(void) /* uniform in [-1, 1) */
{
    ku_state = ku_state * 1664525u + 1013904223u;
    return (float)((ku_state >> 8) * (1.0 / 8388608.0)) - 1.0f;
}
static float *ku_randv(size_t n, float scale)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = ku_rand() * scale;
    return v;
}
/* max |a-b| / max(max|b|, 1e-3) */
static double ku_rel_err(const float *a, const float *b, size_t n)
{
    double e = 0, m = 1e-3;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= e)) /* also catches NaN */
            e = d;
        if (fabs((double)b[i]) > m)
            m = fabs((double)b[i]);
    }
    return e / m;
}
#endif
