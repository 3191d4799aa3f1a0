/* nn_options.h - the NN runtime's settings as a value: arithmetic precision, kernel path,
 * convolution algorithm and the tuning knobs. Model load takes one (nn.h) and the model cache
 * keys on it (model_cache.h), so a process can hold the same model in fp32 and in bf16 side by
 * side (the server's per-model "precision").
 *
 * The library reads no environment variables: front ends turn their flags, and the
 * environment variables kept for benchmarking (parsed in src/cli only), into this struct.
 * A zeroed struct is the default: fp32, the fastest kernels this CPU has, Winograd F(4x4,3x3)
 * where it applies (else im2col+GEMM), the measured budgets, shared dense-block transforms.
 * The process default (enh_nn_options_default) is what "no options" means: a NULL options
 * pointer, enh_conv_plan_create, enh_model_load_ncnn, and the kernel choice of code that takes
 * no options (enh_cpu_requested_isa). The CLI sets it once at start-up.
 * Thread-safety: enh_nn_options_set_default must be called before other threads use the
 * runtime (it is a plain store, read without a lock); everything else is thread-safe.
 * Errors: enh_status + a message that says which setting to change.
 */
#ifndef ENH_NN_NN_OPTIONS_H
#define ENH_NN_NN_OPTIONS_H

#include <stddef.h>

#include "core/error.h"
#include "nn/cpu.h"
#include "nn/precision.h"

typedef enum {
    ENH_ALGO_AUTO = 0, /* Winograd where it applies, else im2col+GEMM */
    ENH_ALGO_REF,      /* the reference kernel (conv_ref.c) */
    ENH_ALGO_WINO,     /* Winograd F(4x4,3x3): 3x3 stride-1 pad-1 ungrouped convs only */
    ENH_ALGO_GEMM      /* im2col + GEMM */
} enh_conv_algo;

typedef struct enh_nn_options {
    enh_precision precision; /* DEFAULT (0) = fp32; BF16 needs AVX512_BF16 (precision.h) */
    enh_isa kernels;         /* AUTO (0) = the fastest path this CPU has */
    enh_conv_algo conv_algo; /* AUTO (0); a forced WINO applies where it can, AUTO elsewhere */
    int wino_budget_kb;      /* Winograd V + M scratch of one block; 0 = 512 (stays in L2) */
    int no_vcache;           /* 1: dense-block convs transform their inputs each (to measure the
                                shared transforms, enh_conv_vcache) */
} enh_nn_options;

/* The process default (zeroed until enh_nn_options_set_default). Never NULL. */
const enh_nn_options *enh_nn_options_default(void);
void enh_nn_options_set_default(const enh_nn_options *o);
/* NULL = the process default. */
static inline const enh_nn_options *enh_nn_options_or_default(const enh_nn_options *o)
{
    return o ? o : enh_nn_options_default();
}

/* Checks options against this CPU. ENH_EUNSUPPORTED: a kernel path or bf16 the CPU cannot run;
 * ENH_EINVAL: bf16 with another kernel path or algorithm forced, a negative budget. */
enh_status enh_nn_options_check(const enh_nn_options *o, enh_error *err);
/* The canonical text of o (NULL = the default), e.g. "fp32 kernels=auto algo=auto wino_kb=512
 * vcache=on": equal texts mean equal models (the model cache's key). Truncated to n. */
void enh_nn_options_describe(const enh_nn_options *o, char *buf, size_t n);

/* "auto" | "" | "wino" | "winograd" | "gemm" | "ref": 0, or -1 for anything else. */
int enh_conv_algo_parse(const char *s, enh_conv_algo *out);
const char *enh_conv_algo_name(enh_conv_algo a);

#endif
