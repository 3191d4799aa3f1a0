/* conv_fast_vec_avx512.h - the AVX-512 fp32 vector layer that conv_fast_tmpl.h is written
 * against (vf, v_load, v_fma, in-lane 4x4 transposes, ...). Included by the files compiled with
 * AVX-512 flags: conv_fast_avx512.c and conv_fast_avx512bf16.c (its fp32 transforms). */
#ifndef ENH_NN_CONV_FAST_VEC_AVX512_H
#define ENH_NN_CONV_FAST_VEC_AVX512_H

#include <immintrin.h>

typedef __m512 vf;

static inline vf v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf v_load_n(const float *p, int n)
{
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
}
static inline void v_store_n(float *p, vf v, int n)
{
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v);
}
static inline vf v_load_lr(const float *row, int x, int lo, int hi)
{
    __mmask16 m = (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
    return _mm512_maskz_loadu_ps(m, row + x);
}
static inline vf v_set1(float x) { return _mm512_set1_ps(x); }
static inline vf v_zero(void) { return _mm512_setzero_ps(); }
static inline vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf v_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf v_fnma(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
static inline vf v_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm512_min_ps(a, b); }
/* v > 0 ? v : v * s */
static inline vf v_act(vf v, vf s)
{
    __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(v, neg, v, s);
}
static inline void v_tr4(vf *a, vf *b, vf *c, vf *d)
{
    vf t0 = _mm512_unpacklo_ps(*a, *b), t1 = _mm512_unpackhi_ps(*a, *b);
    vf t2 = _mm512_unpacklo_ps(*c, *d), t3 = _mm512_unpackhi_ps(*c, *d);
    *a = _mm512_shuffle_ps(t0, t2, 0x44);
    *b = _mm512_shuffle_ps(t0, t2, 0xEE);
    *c = _mm512_shuffle_ps(t1, t3, 0x44);
    *d = _mm512_shuffle_ps(t1, t3, 0xEE);
}
static inline void v_tr4_01(vf a, vf b, vf c, vf d, vf *o0, vf *o1)
{
    vf t0 = _mm512_unpacklo_ps(a, b), t2 = _mm512_unpacklo_ps(c, d);
    *o0 = _mm512_shuffle_ps(t0, t2, 0x44);
    *o1 = _mm512_shuffle_ps(t0, t2, 0xEE);
}

#endif
