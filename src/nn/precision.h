/* precision.h - arithmetic precision of the NN runtime's convolutions (the bf16 path).
 *
 * fp32 is the default everywhere. BF16 is opt-in, for CPUs with
 * AVX512_BF16: 3x3 stride-1 pad-1 layers with >= 16 input and output channels run the batched
 * Winograd GEMM on bf16 inputs and weights (vdpbf16ps, exact products, fp32 accumulation);
 * the Winograd transforms, bias/activation/residual epilogue and every other layer stay fp32.
 * The precision is a runtime option (nn_options.h), chosen per model load.
 * Thread-safety: every function is thread-safe. Errors: enh_status + message.
 */
#ifndef ENH_NN_PRECISION_H
#define ENH_NN_PRECISION_H

#include "core/error.h"

typedef enum {
    ENH_PRECISION_DEFAULT = 0, /* fp32 */
    ENH_PRECISION_FP32,
    ENH_PRECISION_BF16
} enh_precision;

/* "fp32" | "bf16" | "auto" or "" (= DEFAULT). Returns 0, or -1 for anything else. */
int enh_precision_parse(const char *s, enh_precision *out);
const char *enh_precision_name(enh_precision p); /* "default", "fp32", "bf16" */
/* Resolves DEFAULT to FP32 and checks the CPU. *out is FP32 or BF16.
 * ENH_EUNSUPPORTED: bf16 asked on a CPU without AVX512_BF16 (or with AVX-512 unusable). */
enh_status enh_precision_resolve(enh_precision req, enh_precision *out, enh_error *err);

#endif
