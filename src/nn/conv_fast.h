/* conv_fast.h - internal interface between the conv plans (conv_plan.c) and the
 * per-ISA fast kernels (conv_fast_portable.c, conv_fast_avx2.c, conv_fast_avx512.c, all
 * generated from conv_fast_tmpl.h). Not a public API: the executor only sees conv.h.
 *
 * Two algorithms, both ending in one register-blocked GEMM micro-kernel
 *   C[co][n] = sum_k A[co][k] * B[k][n]   (A packed in panels of MR rows, n vectorised):
 *  - WINO: Winograd F(4x4,3x3) for 3x3 / stride 1 / dilation 1 / pad 1 / groups 1.
 *    Tiles of 4x4 output pixels; VW consecutive tiles of one tile row form a "group"
 *    (vectorised across tiles), NG groups form a block (TB = NG*VW columns). Per block:
 *    input transform straight from NCHW into V[36][cin][TB]; then per chunk of cob output
 *    channels, 36 GEMMs into M[36][cob][TB] and the output transform with bias + activation +
 *    residual fused, written straight to NCHW.
 *  - GEMM: im2col of TB output pixels into V[K][TB] (K = cin/groups*kh*kw), one GEMM,
 *    fused epilogue. Any shape.
 * Thread-safety: the packed weights are read-only; each call works in the scratch buffer
 * it is given (one per pool slot). Kernels never fail and never allocate.
 */
#ifndef ENH_NN_CONV_FAST_H
#define ENH_NN_CONV_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "nn/conv.h"
#include "nn/cpu.h"
#include "nn/nn_options.h"

#define PSPAD 16 /* floats added to the Winograd point strides (cache-set skew) */

typedef struct enh_fast_conv {
    int cin, cout;
    int kh, kw, sh, sw, dh, dw, pt, pl;
    int groups, cin_g, cout_g;
    int coutp_g;          /* cout_g rounded up to MR */
    int K;                /* GEMM depth: cin (WINO) or cin_g*kh*kw (GEMM) */
    int ng;               /* vector groups per block: TB = ng * VW columns */
    int cob;              /* WINO: output channels per GEMM/output-transform chunk (MR multiple) */
    int act;              /* 0: none, 1: v>0 ? v : v*slope[co], 2: clip to [lo, hi] */
    float lo, hi;
    const float *wpack;   /* WINO: [36][coutp/MR][cin][MR]; GEMM: [groups][coutp_g/MR][K][MR] */
    const float *bias;    /* groups*coutp_g, zero padded */
    const float *slope;   /* groups*coutp_g, negative slopes (relu 0, leaky a, prelu a[co]) */
    const uint32_t *wbf;  /* bf16 WINO only (else NULL): [36][coutp/MR][(cin+1)/2][MR] pairs of
                             bf16 weights (low half: channel 2k, high half: 2k+1) */
} enh_fast_conv;

typedef struct enh_fast_job {
    const enh_fast_conv *c;
    const float *in;
    float *out;
    const float *res;
    int n, h, w, oh, ow;
    int th, gx;           /* WINO: tile rows, vector groups per tile row */
    size_t ngroups;       /* WINO: n*th*gx; GEMM: pixel blocks per image */
    int csplit;           /* GEMM: output-channel chunks per pixel block (<= 1: one); block b is
                             chunk b % csplit of pixel block b / csplit */
    float *const *scratch; /* one per pool slot */
    int wpf;              /* 1: the first block of the call prefetches the weights ahead (see
                             conv_fast_tmpl.h); set per call by the plan for a thread's first
                             block of a run, when the layer's weights are not in its cache */
    const char *nx0, *nx1; /* bytes of the next layer's weights that the call's other blocks
                             prefetch, spread over them (Winograd fp32 only; NULL = none) */
    float *vc;            /* Winograd fp32 only, or NULL: transformed inputs kept across the convs
                             of a dense block; block blk's are at vc + blk * 36 * vc_vps (point
                             stride vc_vps), channels [0, vc_done) already there from earlier
                             convs over the same channels, the rest transformed and added now */
    size_t vc_vps;
    int vc_done;
} enh_fast_job;

typedef void (*enh_fast_fn)(const enh_fast_job *j, size_t b0, size_t b1, float *scratch);

typedef struct enh_fast_isa {
    const char *name;     /* "portable", "avx2", "avx512" */
    int vw;               /* floats per vector */
    int mr;               /* micro-kernel rows (output channels) */
    int nr;               /* micro-kernel columns, in vectors */
    enh_fast_fn wino_blocks;
    enh_fast_fn gemm_blocks;
} enh_fast_isa;

extern const enh_fast_isa enh_fast_isa_portable;
extern const enh_fast_isa enh_fast_isa_avx2;
extern const enh_fast_isa enh_fast_isa_avx512;
/* bf16 Winograd (conv_fast_avx512bf16.c): wino_blocks only (gemm_blocks is the fp32 one);
 * needs enh_cpu_has_bf16(). Same VW/MR/NR as avx512. */
extern const enh_fast_isa enh_fast_isa_avx512bf16;
/* Packs Winograd-domain weights T[cout][cin][36] (fp32) into c->wbf's layout, rounding to
 * bf16 (nearest even); dst holds 36 * coutp * ((cin+1)/2) pairs. */
void enh_bf16_pack_wino(const float *T, int cout, int cin, int coutp, int mr, uint32_t *dst);
/* Floats of scratch one slot of the bf16 Winograd kernel needs (c->ng set). */
size_t enh_bf16_wino_scratch_floats(const enh_fast_conv *c);

/* Floats of scratch one slot needs. */
size_t enh_fast_scratch_floats(const enh_fast_conv *c, const enh_fast_isa *isa, enh_conv_algo algo);

/* Test/bench hook: a plan with a forced path and algorithm (ENH_ISA_AUTO / ENH_ALGO_AUTO =
 * choose as enh_conv_plan_create does), fp32, the default options' Winograd budget. Fails with ENH_EUNSUPPORTED when the CPU lacks the
 * ISA or the algorithm does not apply to the shape. */
enh_status enh_conv_plan_create_forced(const enh_conv_params *p, enh_isa isa, enh_conv_algo algo,
                                       enh_conv_plan **out, enh_error *err);
/* As enh_conv_plan_create_forced with a precision: BF16 needs isa AVX512 or AUTO and algo WINO
 * or AUTO, and then applies to every Winograd shape (no channel-count rule, for tests);
 * DEFAULT is fp32. */
enh_status enh_conv_plan_create_forced_prec(const enh_conv_params *p, enh_isa isa, enh_conv_algo algo,
                                            enh_precision precision, enh_conv_plan **out, enh_error *err);
/* 1 when WINO applies to this shape. */
int enh_conv_wino_applies(const enh_conv_params *p);

#endif
