/* conv_fast_vec_portable.h - the portable fp32 vector layer (4 floats, GCC/Clang vector
 * extensions: SSE2 on x86-64, NEON elsewhere) that conv_fast_tmpl.h and dwconv_tmpl.h are
 * written against. Included by conv_fast_portable.c and dwconv_portable.c. */
#ifndef ENH_NN_CONV_FAST_VEC_PORTABLE_H
#define ENH_NN_CONV_FAST_VEC_PORTABLE_H

#include <string.h>

typedef float vf __attribute__((vector_size(16)));
typedef int vi __attribute__((vector_size(16)));

#if defined(__clang__)
#define SHUF(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define SHUF(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, (vi){i0, i1, i2, i3})
#endif

static inline vf v_load(const float *p)
{
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v_store(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf v_load_n(const float *p, int n)
{
    vf v = {0, 0, 0, 0};
    memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}
static inline void v_store_n(float *p, vf v, int n) { memcpy(p, &v, (size_t)n * sizeof(float)); }
static inline vf v_load_lr(const float *row, int x, int lo, int hi)
{
    float t[4] = {0, 0, 0, 0};
    if (hi > lo)
        memcpy(t + lo, row + x + lo, (size_t)(hi - lo) * sizeof(float));
    return v_load(t);
}
static inline vf v_set1(float x) { return (vf){x, x, x, x}; }
static inline vf v_zero(void) { return (vf){0, 0, 0, 0}; }
static inline vf v_add(vf a, vf b) { return a + b; }
static inline vf v_sub(vf a, vf b) { return a - b; }
static inline vf v_mul(vf a, vf b) { return a * b; }
static inline vf v_fma(vf a, vf b, vf c) { return a * b + c; }
static inline vf v_fnma(vf a, vf b, vf c) { return c - a * b; }
static inline vf v_sel(vi m, vf a, vf b) { return (vf)(((vi)a & m) | ((vi)b & ~m)); }
static inline vf v_max(vf a, vf b) { return v_sel(a > b, a, b); }
static inline vf v_min(vf a, vf b) { return v_sel(a < b, a, b); }
static inline vf v_act(vf v, vf s) { return v_sel(v < v_zero(), v * s, v); }
static inline void v_tr4(vf *a, vf *b, vf *c, vf *d)
{
    vf t0 = SHUF(*a, *b, 0, 4, 1, 5), t1 = SHUF(*a, *b, 2, 6, 3, 7);
    vf t2 = SHUF(*c, *d, 0, 4, 1, 5), t3 = SHUF(*c, *d, 2, 6, 3, 7);
    *a = SHUF(t0, t2, 0, 1, 4, 5);
    *b = SHUF(t0, t2, 2, 3, 6, 7);
    *c = SHUF(t1, t3, 0, 1, 4, 5);
    *d = SHUF(t1, t3, 2, 3, 6, 7);
}
static inline void v_tr4_01(vf a, vf b, vf c, vf d, vf *o0, vf *o1)
{
    vf t0 = SHUF(a, b, 0, 4, 1, 5), t2 = SHUF(c, d, 0, 4, 1, 5);
    *o0 = SHUF(t0, t2, 0, 1, 4, 5);
    *o1 = SHUF(t0, t2, 2, 3, 6, 7);
}
/* even and odd lanes of the 8 floats a:b (the stride-2 depthwise rows) */
static inline void v_deint(vf a, vf b, vf *even, vf *odd)
{
    *even = SHUF(a, b, 0, 2, 4, 6);
    *odd = SHUF(a, b, 1, 3, 5, 7);
}

#endif
