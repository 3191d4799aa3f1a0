/* cpu.h - CPU feature detection and the names of the NN kernel paths.
 *
 * Detection uses __builtin_cpu_supports (which also checks that the OS saves the AVX/AVX-512
 * state). The result is computed once and cached; every function here is thread-safe and
 * never fails. Which path runs is a runtime option (nn_options.h: kernels), not read here.
 */
#ifndef ENH_NN_CPU_H
#define ENH_NN_CPU_H

typedef enum {
    ENH_ISA_AUTO = 0, /* the best this CPU supports (0: a zeroed nn_options means auto) */
    ENH_ISA_REF,      /* the reference kernel (conv_ref.c) */
    ENH_ISA_PORTABLE, /* plain C + compiler vector extensions (any CPU) */
    ENH_ISA_AVX2,     /* AVX2 + FMA */
    ENH_ISA_AVX512    /* AVX-512 F/BW/VL/DQ */
} enh_isa;

typedef struct enh_cpu_features {
    int avx2, fma, f16c;
    int avx512f, avx512bw, avx512vl, avx512dq;
    int avx512bf16;
} enh_cpu_features;

const enh_cpu_features *enh_cpu_get(void);
/* 1 when this CPU (and OS) can run `isa` (REF, PORTABLE and AUTO always can). */
int enh_cpu_isa_supported(enh_isa isa);
/* The fastest supported path (never AUTO). */
enh_isa enh_cpu_best_isa(void);
/* 1 when AVX512_BF16 (vdpbf16ps) is usable on top of ENH_ISA_AVX512. */
int enh_cpu_has_bf16(void);
/* The kernel path of the process default options (nn_options.h, where it is defined), for
 * code that takes no options of its own. Sets *out (ENH_ISA_AUTO unless a front end chose
 * one) and returns 0. */
int enh_cpu_requested_isa(enh_isa *out);
/* Parses ref|portable|avx2|avx512|auto ("" = auto): 0, or -1 when unknown. */
int enh_isa_parse(const char *s, enh_isa *out);
const char *enh_isa_name(enh_isa isa);

#endif
