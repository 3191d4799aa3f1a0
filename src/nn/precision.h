/* precision.h - arithmetic precision of the NN runtime's convolutions (issue 4, bf16 path).
 *
 * Owner: bf16 engineer. fp32 is the default everywhere. BF16 is opt-in, for CPUs with
 * AVX512_BF16: 3x3 stride-1 pad-1 layers with >= 16 input and output channels run the batched
 * Winograd GEMM on bf16 inputs and weights (vdpbf16ps, exact products, fp32 accumulation);
 * the Winograd transforms, bias/activation/residual epilogue and every other layer stay fp32.
 * ENHANCE_PRECISION=fp32|bf16 decides what ENH_PRECISION_DEFAULT means (fp32 when unset).
 * Thread-safety: every function is thread-safe (ENHANCE_PRECISION is read on each call, so
 * set it before loading models). Errors: enh_status + message.
 */
#ifndef ENH_NN_PRECISION_H
#define ENH_NN_PRECISION_H

#include "core/error.h"

typedef enum {
    ENH_PRECISION_DEFAULT = 0, /* ENHANCE_PRECISION, else fp32 */
    ENH_PRECISION_FP32,
    ENH_PRECISION_BF16
} enh_precision;

/* "fp32" | "bf16" | "auto" or "" (= DEFAULT). Returns 0, or -1 for anything else. */
int enh_precision_parse(const char *s, enh_precision *out);
const char *enh_precision_name(enh_precision p); /* "default", "fp32", "bf16" */
/* Resolves DEFAULT through ENHANCE_PRECISION and checks the CPU. *out is FP32 or BF16.
 * ENH_EINVAL: ENHANCE_PRECISION is not fp32/bf16/auto. ENH_EUNSUPPORTED: bf16 asked on a CPU
 * without AVX512_BF16 (or with AVX-512 unusable). */
enh_status enh_precision_resolve(enh_precision req, enh_precision *out, enh_error *err);

#endif
