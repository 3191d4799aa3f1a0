/* brisque_blur_avx2.c - the 7-tap filters of brisque_blur.h, 8 outputs at a time with AVX2+FMA
 * (compiled with -mavx2 -mfma, called only after the CPU check). Each lane does the reference's
 * operations in the same order and a fused multiply-add rounds once either way, so the result is
 * bit-identical to enh_brisque_*_ref, which also does the edges (replicated border) and tails. */
#include "enhance/brisque_blur.h"

#include <immintrin.h>

#define KR 3

void enh_brisque_row_avx2(const float *src, int w, const float *k, float *dst, int x0, int x1)
{
    int x = x0 > KR ? x0 : KR;
    enh_brisque_row_ref(src, w, k, dst, x0, x < x1 ? x : x1);
    __m256 kv[ENH_BRISQUE_TAPS];
    for (int j = 0; j < ENH_BRISQUE_TAPS; j++)
        kv[j] = _mm256_set1_ps(k[j]);
    for (; x + 8 <= x1 && x + 8 + KR <= w; x += 8) { /* taps x - 3 .. x + 10, all inside */
        const float *s = src + x - KR;
        __m256 acc = _mm256_setzero_ps();
        for (int j = 0; j < ENH_BRISQUE_TAPS; j++)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(s + j), kv[j], acc);
        _mm256_storeu_ps(dst + x, acc);
    }
    if (x < x1)
        enh_brisque_row_ref(src, w, k, dst, x, x1);
}

void enh_brisque_col_avx2(const float *const *r, const float *k, float *dst, int x0, int x1)
{
    __m256 k0 = _mm256_set1_ps(k[3]), k1 = _mm256_set1_ps(k[4]), k2 = _mm256_set1_ps(k[5]),
           k3 = _mm256_set1_ps(k[6]);
    int x = x0;
    for (; x + 8 <= x1; x += 8) {
        __m256 s = _mm256_mul_ps(_mm256_loadu_ps(r[3] + x), k0);
        s = _mm256_fmadd_ps(_mm256_add_ps(_mm256_loadu_ps(r[4] + x), _mm256_loadu_ps(r[2] + x)), k1, s);
        s = _mm256_fmadd_ps(_mm256_add_ps(_mm256_loadu_ps(r[5] + x), _mm256_loadu_ps(r[1] + x)), k2, s);
        s = _mm256_fmadd_ps(_mm256_add_ps(_mm256_loadu_ps(r[6] + x), _mm256_loadu_ps(r[0] + x)), k3, s);
        _mm256_storeu_ps(dst + x, s);
    }
    if (x < x1)
        enh_brisque_col_ref(r, k, dst, x, x1);
}
