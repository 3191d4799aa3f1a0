/* gemm.h - single-precision C = epi(A * B + bias) with a constant, pre-packed B: the Dense
 * layers (Einsum abcg,gf->abcf), 1x1 convolutions (NHWC), im2col convolutions and transposed
 * convolutions of the TF.js runtime.
 *
 * Ownership: enh_gemm_pack_b copies what it needs from b and bias (the caller keeps its
 * arrays); the packed B belongs to the caller and is released with enh_gemm_b_free.
 * Thread-safety: a packed B is immutable; run it from any number of threads at once.
 * Errors: pack returns ENH_EINVAL (bad sizes), ENH_EUNSUPPORTED (a forced
 * path this CPU cannot run), ENH_ENOMEM. enh_gemm_run never fails (without scratch memory it
 * waits for the process-wide reserve that packing made sure of).
 * Kernel path: the best this CPU has (avx2 / avx512 / portable), or the one the process options
 * force (enh_cpu_requested_isa, nn/cpu.h); "ref" keeps B unpacked and runs enh_gemm_ref.
 * Accuracy: fp32 products summed in fp32 in k order within K blocks of 128-256 (max |fast - ref|
 * <= 2e-6 of max|ref| for K <= 600 in tests/kernels/test_gemm.c). GELU and sigmoid use a vector
 * exp (Cephes expf, ~1 ulp); GELU is computed as x * sigmoid(2u), the same function as
 * 0.5x(1+tanh u) without its cancellation for x < 0. Against the double formulas on [-30, 30]:
 * sigmoid max rel err 1.3e-7; GELU max abs err 5e-7 and max rel err 1.4e-6 (where |GELU| > 1e-6;
 * near x = -4.7, from rounding the float argument of exp).
 */
#ifndef ENH_NN_GEMM_H
#define ENH_NN_GEMM_H

#include "core/error.h"
#include "core/pool.h"
#include "nn/cpu.h"

typedef enum {
    ENH_GEMM_ACT_NONE = 0,
    ENH_GEMM_ACT_RELU,
    ENH_GEMM_ACT_GELU_TANH, /* 0.5*x*(1+tanh(0.7978845608*(x+0.044715*x^3))) */
    ENH_GEMM_ACT_SIGMOID,   /* 1/(1+exp(-x)) */
    ENH_GEMM_ACT_LEAKY      /* x >= 0 ? x : alpha*x */
} enh_gemm_act;

typedef struct enh_gemm_epi {
    enh_gemm_act act;
    float alpha;
    const float *residual; /* if non-NULL: C = act(A*B + bias) + residual (added AFTER act) */
    int ldr;               /* residual row stride in floats */
} enh_gemm_epi;

typedef struct enh_gemm_b enh_gemm_b; /* packed constant B (K x N) + bias */

/* b: K x N row-major with row stride ldb (>= n); bias: N floats or NULL. */
enh_status enh_gemm_pack_b(const float *b, int k, int n, int ldb, const float *bias, enh_gemm_b **out,
                           enh_error *err);
/* Same, for a given path (tests, benchmarks): ENH_ISA_AUTO = the best this CPU has, ENH_ISA_REF
 * keeps B unpacked and runs enh_gemm_ref. ENH_EUNSUPPORTED when this CPU cannot run it. */
enh_status enh_gemm_pack_b_isa(const float *b, int k, int n, int ldb, const float *bias, enh_isa isa,
                               enh_gemm_b **out, enh_error *err);
void enh_gemm_b_free(enh_gemm_b *b);
int enh_gemm_b_k(const enh_gemm_b *b);
int enh_gemm_b_n(const enh_gemm_b *b);
/* The kernel this packed B runs with ("avx2", "avx512", "portable", "ref"). */
const char *enh_gemm_b_kernel(const enh_gemm_b *b);

/* C (m x N, row stride ldc) = epi(A (m x K, row stride lda) * B + bias). Threaded over `pool`
 * by bands of rows, in order (NULL = the calling thread only). C must not alias A; it may
 * alias the residual exactly (C == residual, ldc == ldr). epi NULL = no activation, no residual. */
void enh_gemm_run(const enh_gemm_b *b, const float *a, int m, int lda, float *c, int ldc,
                  const enh_gemm_epi *epi, enh_pool *pool);

/* The reference twin: plain loops over an unpacked B, double accumulation in k order, the
 * epilogue in double (tanh and exp from libm), one rounding to float. Single-threaded. */
void enh_gemm_ref(const float *a, int m, int k, int lda, const float *b, int n, int ldb, const float *bias,
                  float *c, int ldc, const enh_gemm_epi *epi);

/* Which kernel enh_gemm_pack_b picks now ("avx2", "avx512", "portable", "ref"). */
const char *enh_gemm_kernel_name(void);

#endif
