/* conv_fast_avx2.c - AVX2+FMA instance of the fast conv kernels (conv_fast_tmpl.h).
 * Compiled with -mavx2 -mfma (CMake, by file name); only called after enh_cpu_isa_supported(ENH_ISA_AVX2). Thread-safe, never fails. */
#include "nn/conv_fast.h"

#define VW 8
#define MR 6
#define NR 2
#define FN(x) x##_avx2
#define ISA_NAME "avx2"

#include "nn/conv_fast_vec_avx2.h"

#include "nn/conv_fast_tmpl.h"
