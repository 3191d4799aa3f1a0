/* gemm_avx512.c - AVX-512 instance of the GEMM block kernel (gemm_tmpl.h) for N > 16: 12x32
 * micro-tiles (24 zmm accumulators; the A broadcasts fold into the FMAs). N <= 16 keeps the
 * AVX2 kernels (a 32-wide panel would compute twice the columns). KC 128 so that a B panel
 * (KC x 32 floats, 16 KiB) stays in a 32 KiB L1 next to the A rows.
 * Compiled with AVX-512 flags (CMake, by file name); only called after
 * enh_cpu_isa_supported(ENH_ISA_AVX512). Thread-safe, never fails.
 * Not measured yet: the machine this was written on has no AVX-512 (test_gemm runs it
 * against the reference wherever the CPU has it). */
#include <immintrin.h>

#include "nn/gemm_internal.h"

#define VW 16
#define MR 12
#define NV 2
#define MC 96
#define KC 128
#define FN(x) x##_avx512
#define KERN_NAME "avx512"

typedef __m512 vf;

static inline vf v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf v_bcast(const float *p) { return _mm512_set1_ps(*p); }
static inline vf v_set1(float x) { return _mm512_set1_ps(x); }
static inline vf v_zero(void) { return _mm512_setzero_ps(); }
static inline vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf v_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf v_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm512_div_ps(a, b); }
/* exp(x): the AVX2 one of gemm_vec_avx2.h (Cephes expf, x clamped to [-87, 88]), 16 lanes. */
static inline vf v_exp(vf x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    vf n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    vf p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

#include "nn/gemm_tmpl.h"
