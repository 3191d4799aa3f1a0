/* gemm_avx2.c - AVX2+FMA instance of the GEMM block kernel (gemm_tmpl.h): 6x16 micro-tiles,
 * 12 ymm accumulators, 2 B loads and 6 broadcasts per 12 FMAs (Zen 3: 2 FMA pipes, 3 loads).
 * Compiled with -mavx2 -mfma (CMake, by file name); only called after
 * enh_cpu_isa_supported(ENH_ISA_AVX2). Thread-safe, never fails. */
#include "nn/gemm_internal.h"

#define VW 8 /* gemm_vec_avx2.h */
#define MR 6
#define NV 2
#define MC 96
#define KC 256
#define FN(x) x##_avx2
#define KERN_NAME "avx2"

#include "nn/gemm_vec_avx2.h"
#include "nn/gemm_tmpl.h"
