/* gemm_internal.h - the packed-B layout and the per-ISA block kernels behind gemm.h.
 * Not a public interface: gemm.c packs and threads, gemm_<isa>.c (gemm_tmpl.h) compute.
 * Thread-safety: a packed B is immutable; a block job touches only its own rows of C. */
#ifndef ENH_NN_GEMM_INTERNAL_H
#define ENH_NN_GEMM_INTERNAL_H

#include "nn/gemm.h"

typedef struct enh_gemm_kern enh_gemm_kern;

/* Layout of a packed B (kern != NULL): for each K block [pc, pc+kb) (kb = min(kc, k - pc)),
 * its column panels one after the other, each kb rows x nr floats (columns >= n are zero):
 * panel jp of the block at pc starts at packed + pc * ldp + jp * kb * nr.
 * kern == NULL (the reference path): packed is the plain k x n copy (ldp == n). */
struct enh_gemm_b {
    int k, n, ldp; /* ldp: n rounded up to nr */
    int kc;        /* K block */
    const enh_gemm_kern *kern;
    float *packed;
    float *bias; /* ldp floats, zero padded; NULL when none */
};

/* One job: rows [0, m) (m <= kern->mc) of A and C, column panels [j0, j1). */
typedef struct enh_gemm_blk {
    const enh_gemm_b *b;
    const float *a; /* row 0 of the block */
    int lda, m;
    float *c; /* row 0 of the block, column 0 */
    int ldc;
    int j0, j1;
    int act;
    float alpha;
    const float *res; /* residual at row 0 of the block, column 0, or NULL */
    int ldr;
    /* partial sums of K blocks but the last go here (mc x (j1-j0)*nr floats, row stride
     * (j1-j0)*nr) instead of into C: needed when C is the residual. NULL = into C. */
    float *cbuf;
} enh_gemm_blk;

struct enh_gemm_kern {
    const char *name;
    int mr, nr; /* micro-tile rows, panel width */
    int mc, kc; /* rows per block (a multiple of mr), K block */
    void (*block)(const enh_gemm_blk *job);
};

extern const enh_gemm_kern enh_gemm_kern_portable;
extern const enh_gemm_kern enh_gemm_kern_avx2;
extern const enh_gemm_kern enh_gemm_kern_avx2n; /* N <= 8 */
extern const enh_gemm_kern enh_gemm_kern_avx512; /* N > 16 */

#endif
