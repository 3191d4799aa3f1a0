/* conv_fast_vec_avx2.h - the AVX2+FMA fp32 vector layer (8 floats) that conv_fast_tmpl.h and
 * dwconv_tmpl.h are written against (vf, v_load, v_fma, in-lane 4x4 transposes, ...). Include
 * only from files compiled with -mavx2 -mfma (conv_fast_avx2.c, dwconv_avx2.c). */
#ifndef ENH_NN_CONV_FAST_VEC_AVX2_H
#define ENH_NN_CONV_FAST_VEC_AVX2_H

#include <immintrin.h>

typedef __m256 vf;

static inline __m256i lane_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline vf v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf v_load_n(const float *p, int n) { return _mm256_maskload_ps(p, lane_mask(n)); }
static inline void v_store_n(float *p, vf v, int n) { _mm256_maskstore_ps(p, lane_mask(n), v); }
static inline vf v_load_lr(const float *row, int x, int lo, int hi)
{
    __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(hi), idx),
                                 _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(lo - 1)));
    return _mm256_maskload_ps(row + x, m);
}
static inline vf v_set1(float x) { return _mm256_set1_ps(x); }
static inline vf v_zero(void) { return _mm256_setzero_ps(); }
static inline vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf v_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf v_fnma(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
static inline vf v_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf v_act(vf v, vf s)
{
    vf neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, s), neg);
}
static inline void v_tr4(vf *a, vf *b, vf *c, vf *d)
{
    vf t0 = _mm256_unpacklo_ps(*a, *b), t1 = _mm256_unpackhi_ps(*a, *b);
    vf t2 = _mm256_unpacklo_ps(*c, *d), t3 = _mm256_unpackhi_ps(*c, *d);
    *a = _mm256_shuffle_ps(t0, t2, 0x44);
    *b = _mm256_shuffle_ps(t0, t2, 0xEE);
    *c = _mm256_shuffle_ps(t1, t3, 0x44);
    *d = _mm256_shuffle_ps(t1, t3, 0xEE);
}
static inline void v_tr4_01(vf a, vf b, vf c, vf d, vf *o0, vf *o1)
{
    vf t0 = _mm256_unpacklo_ps(a, b), t2 = _mm256_unpacklo_ps(c, d);
    *o0 = _mm256_shuffle_ps(t0, t2, 0x44);
    *o1 = _mm256_shuffle_ps(t0, t2, 0xEE);
}
/* even and odd lanes of the 16 floats a:b (the stride-2 depthwise rows) */
static inline void v_deint(vf a, vf b, vf *even, vf *odd)
{
    vf e = _mm256_shuffle_ps(a, b, 0x88), o = _mm256_shuffle_ps(a, b, 0xDD); /* per 128-bit lane */
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8));
}

#endif
