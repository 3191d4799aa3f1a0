/* gemm_ref.c - enh_gemm_ref, the reference twin of the fast GEMM (gemm.h): plain loops over
 * an unpacked B, double accumulation in k order, the epilogue in double with libm's tanh and
 * exp (the literal formulas of gemm.h), one rounding to float. Obviously correct, slow.
 * Thread-safety: reentrant. Never fails. */
#include <math.h>

#include "nn/gemm.h"

static double act_ref(double x, const enh_gemm_epi *e)
{
    switch (e->act) {
    case ENH_GEMM_ACT_RELU: return x > 0 ? x : 0;
    case ENH_GEMM_ACT_GELU_TANH: return 0.5 * x * (1.0 + tanh(0.7978845608 * (x + 0.044715 * x * x * x)));
    case ENH_GEMM_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case ENH_GEMM_ACT_LEAKY: return x >= 0 ? x : (double)e->alpha * x;
    default: return x;
    }
}

void enh_gemm_ref(const float *a, int m, int k, int lda, const float *b, int n, int ldb, const float *bias,
                  float *c, int ldc, const enh_gemm_epi *epi)
{
    static const enh_gemm_epi none = {ENH_GEMM_ACT_NONE, 0.0f, NULL, 0};
    const enh_gemm_epi *e = epi ? epi : &none;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = bias ? bias[j] : 0.0;
            for (int p = 0; p < k; p++)
                s += (double)a[(size_t)i * lda + p] * b[(size_t)p * ldb + j];
            s = act_ref(s, e);
            if (e->residual)
                s += e->residual[(size_t)i * e->ldr + j];
            c[(size_t)i * ldc + j] = (float)s;
        }
}
