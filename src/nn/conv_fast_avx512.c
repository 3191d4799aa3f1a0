/* conv_fast_avx512.c - AVX-512 instance of the fast conv kernels (conv_fast_tmpl.h).
 * Compiled with -mavx512f/bw/vl/dq -mfma (CMake, by file name);
 * only called after enh_cpu_isa_supported(ENH_ISA_AVX512). Thread-safe, never fails. */
#include <immintrin.h>

#include "nn/conv_fast.h"

#define VW 16
#define MR 8
#define NR 3
#define FN(x) x##_avx512
#define ISA_NAME "avx512"

#include "nn/conv_fast_vec_avx512.h"

#include "nn/conv_fast_tmpl.h"
