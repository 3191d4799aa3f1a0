/* conv_fast_portable.c - portable instance of the fast conv kernels (conv_fast_tmpl.h),
 * using GCC/Clang vector extensions (4 floats: SSE2 on x86-64, NEON elsewhere).
 * Runs on any CPU. Thread-safe, never fails. */
#include "nn/conv_fast.h"

#define VW 4
#define MR 4
#define NR 2
#define FN(x) x##_portable
#define ISA_NAME "portable"

#include "nn/conv_fast_vec_portable.h"

#include "nn/conv_fast_tmpl.h"
