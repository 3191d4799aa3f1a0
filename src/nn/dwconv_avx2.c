/* dwconv_avx2.c - AVX2+FMA instance of the depthwise conv kernel (dwconv_tmpl.h).
 * Compiled with -mavx2 -mfma (CMake, by file name); only called after
 * enh_cpu_isa_supported(ENH_ISA_AVX2). Thread-safe, never fails. */
#include "nn/conv_fast_vec_avx2.h"

#define VW 8
#define FN(x) x##_avx2
#define ISA_NAME "avx2"

#include "nn/dwconv_tmpl.h"
