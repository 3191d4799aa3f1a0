/* gemm_narrow_avx2.c - AVX2+FMA instance of the GEMM block kernel (gemm_tmpl.h) for N <= 8:
 * 12x8 micro-tiles (12 ymm accumulators, 1 B load and 12 broadcasts per 12 FMAs), so that the
 * 3- and 8-channel outputs do not compute 16 columns of which 3 or 8 are kept.
 * Compiled with -mavx2 -mfma (CMake, by file name); only called after
 * enh_cpu_isa_supported(ENH_ISA_AVX2). Thread-safe, never fails. */
#include "nn/gemm_internal.h"

#define VW 8 /* gemm_vec_avx2.h */
#define MR 12
#define NV 1
#define MC 96
#define KC 256
#define FN(x) x##_avx2n
#define KERN_NAME "avx2"

#include "nn/gemm_vec_avx2.h"
#include "nn/gemm_tmpl.h"
