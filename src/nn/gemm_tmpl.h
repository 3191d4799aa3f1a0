/* gemm_tmpl.h - the GEMM block kernel of gemm.h, written once over a small vector abstraction
 * and instantiated per ISA (gemm_<isa>.c).
 *
 * Include only from gemm_<isa>.c, after defining VW (floats per vector), MR (micro-tile rows),
 * NV (vectors per micro-tile row; the panel width NR = NV * VW), MC (rows per block, a multiple
 * of MR), KC (K block), FN(name) (per-ISA suffix), KERN_NAME, the type vf and the inline
 * functions v_load v_store v_bcast v_set1 v_zero v_add v_mul v_fma v_max v_min v_div v_exp.
 *
 * Design (Zen 3; figures from bench/kernels/bench_gemm and bench/README.md):
 * - B is packed at load into NR-wide panels per K block; A is NOT packed: the micro-kernel
 *   broadcasts straight from MR rows of A (stride lda), which keeps 85-90% of the FMA peak at
 *   K, N >= 128. Packing A (the textbook way) would transpose every A block once per call, about
 *   K cycles per row against K*N/16 cycles of FMAs: +100% at N = 16, +50% at N = 32 (an
 *   estimate; not built).
 * - Loop order per block: K blocks, then B panels (a KC x NR panel stays in L1), then MR-row
 *   micro-tiles (A rows from L2, the next tile's rows prefetched). With one K block and at most
 *   2 panels, the panels are swept per tile row instead. The MR x NR accumulators live in
 *   registers over a K block.
 * - Partial sums of all K blocks but the last go to C (or to cbuf when C is the residual);
 *   the epilogue (bias, activation, residual) runs on the registers of the last K block.
 */
#include <string.h>

#define NR (NV * VW)

typedef struct {
    const float *bias; /* NR floats or NULL */
    int act;
    float alpha;
    const float *res; /* residual tile or NULL */
    size_t ldr;
} FN(epi_t);

/* GELU(x) = 0.5x(1 + tanh u) = x / (1 + exp(-2u)), u = 0.7978845608 (x + 0.044715 x^3):
 * no cancellation for negative x, one exp. */
static inline vf FN(gelu)(vf x)
{
    const vf c1 = v_set1(-1.5957691216f), c3 = v_set1(-1.5957691216f * 0.044715f);
    vf x2 = v_mul(x, x);
    vf t = v_mul(x, v_fma(c3, x2, c1));
    return v_div(x, v_add(v_set1(1.0f), v_exp(t)));
}
static inline vf FN(sigmoid)(vf x)
{
    return v_div(v_set1(1.0f), v_add(v_set1(1.0f), v_exp(v_sub(v_zero(), x))));
}

/* dst = gelu or sigmoid of the tile t (MR x NR), plus the residual (which may be dst). */
static __attribute__((noinline)) void FN(act_tile)(const float *t, float *dst, size_t ldd, const FN(epi_t) *e)
{
    vf x[MR * NV];
    if (e->act == ENH_GEMM_ACT_GELU_TANH) {
#pragma GCC unroll 32
        for (int i = 0; i < MR * NV; i++)
            x[i] = FN(gelu)(v_load(t + i * VW));
    } else {
#pragma GCC unroll 32
        for (int i = 0; i < MR * NV; i++)
            x[i] = FN(sigmoid)(v_load(t + i * VW));
    }
    if (e->res) {
#pragma GCC unroll 32
        for (int i = 0; i < MR * NV; i++)
            x[i] = v_add(x[i], v_load(e->res + (i / NV) * e->ldr + (i % NV) * VW));
    }
#pragma GCC unroll 32
    for (int i = 0; i < MR * NV; i++)
        v_store(dst + (i / NV) * ldd + (i % NV) * VW, x[i]);
}

/* dst (MR x NR, stride ldd) = [src +] A (MR rows from a, stride lda, kb columns) * B panel
 * (kb x NR), then when `last` the epilogue. src may be dst; e->res may be dst. */
static inline __attribute__((always_inline)) void FN(micro)(const int last, int kb, const float *a, size_t lda,
                                                         const float *restrict b, float *dst, size_t ldd,
                                                         const float *src, size_t lds, const FN(epi_t) *e,
                                                         const float *pf)
{
    vf acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int q = 0; q < NV; q++)
            acc[i][q] = v_zero();
    /* A rows come from DRAM in a block's first panel: prefetching the next micro-tile's rows
     * (pf), one line per row every 16 k, keeps them from stalling the FMAs (M=65536, one
     * thread: K=288 N=32 57 -> 71 GFLOP/s, K=128 N=32 38 -> 59) */
#define GEMM_K_STEP(kk)                                                                           \
    do {                                                                                          \
        vf bv[NV];                                                                                \
        _Pragma("GCC unroll 4") for (int q = 0; q < NV; q++) bv[q] = v_load(b + (size_t)(kk) * NR + q * VW); \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                    \
        {                                                                                         \
            vf av = v_bcast(a + i * lda + (kk));                                                  \
            _Pragma("GCC unroll 4") for (int q = 0; q < NV; q++) acc[i][q] = v_fma(av, bv[q], acc[i][q]); \
        }                                                                                         \
    } while (0)
    int k = 0;
    for (; k + 16 <= kb; k += 16) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
            __builtin_prefetch(pf + i * lda + k, 0, 3);
#pragma GCC unroll 16
        for (int kk = k; kk < k + 16; kk++)
            GEMM_K_STEP(kk);
    }
    for (; k < kb; k++)
        GEMM_K_STEP(k);
#undef GEMM_K_STEP
    if (src) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
            for (int q = 0; q < NV; q++)
                acc[i][q] = v_add(acc[i][q], v_load(src + i * lds + q * VW));
    }
    if (last) {
        if (e->bias) {
#pragma GCC unroll 4
            for (int q = 0; q < NV; q++) {
                vf bq = v_load(e->bias + q * VW);
#pragma GCC unroll 16
                for (int i = 0; i < MR; i++)
                    acc[i][q] = v_add(acc[i][q], bq);
            }
        }
        switch (e->act) {
        case ENH_GEMM_ACT_RELU:
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
                for (int q = 0; q < NV; q++)
                    acc[i][q] = v_max(acc[i][q], v_zero());
            break;
        case ENH_GEMM_ACT_LEAKY: {
            /* max(x,0) + alpha*min(x,0): exactly x or alpha*x */
            vf al = v_set1(e->alpha);
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
                for (int q = 0; q < NV; q++)
                    acc[i][q] = v_fma(al, v_min(acc[i][q], v_zero()), v_max(acc[i][q], v_zero()));
            break;
        }
        case ENH_GEMM_ACT_GELU_TANH:
        case ENH_GEMM_ACT_SIGMOID:
        {   /* out of line, on a stored tile: inlined, their temporaries made GCC keep the
             * accumulators in memory through the whole k loop (3x slower) */
            float t[MR * NR] __attribute__((aligned(32)));
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
                for (int q = 0; q < NV; q++)
                    v_store(t + i * NR + q * VW, acc[i][q]);
            FN(act_tile)(t, dst, ldd, e);
            return;
        }
        default: break;
        }
        if (e->res) {
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
                for (int q = 0; q < NV; q++)
                    acc[i][q] = v_add(acc[i][q], v_load(e->res + i * e->ldr + q * VW));
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int q = 0; q < NV; q++)
            v_store(dst + i * ldd + q * VW, acc[i][q]);
}

/* A micro-tile with rows < MR or columns < NR: the same kernel on a local tile (the missing
 * rows of A are zeros in `a`, which is then a packed kb-wide copy), copied in and out. */
static __attribute__((noinline)) void FN(edge)(int last, int rows, int cols, int kb, const float *a, size_t lda,
                                             const float *b, float *dst, size_t ldd, const float *src,
                                             size_t lds, const FN(epi_t) *e)
{
    float t[MR * NR] __attribute__((aligned(64)));
    float r[MR * NR] __attribute__((aligned(64)));
    FN(epi_t) el = *e;
    memset(t, 0, sizeof t);
    for (int i = 0; i < rows && src; i++)
        memcpy(t + i * NR, src + i * lds, (size_t)cols * sizeof(float));
    if (last && e->res) {
        memset(r, 0, sizeof r);
        for (int i = 0; i < rows; i++)
            memcpy(r + i * NR, e->res + i * e->ldr, (size_t)cols * sizeof(float));
        el.res = r;
        el.ldr = NR;
    }
    if (last)
        FN(micro)(1, kb, a, lda, b, t, NR, src ? t : NULL, NR, &el, a);
    else
        FN(micro)(0, kb, a, lda, b, t, NR, src ? t : NULL, NR, &el, a);
    for (int i = 0; i < rows; i++)
        memcpy(dst + i * ldd, t + i * NR, (size_t)cols * sizeof(float));
}

/* One micro-tile: rows [ir, ir+MR) (fewer at the end: abuf holds them, zero padded) x panel jp
 * of the K block [pc, pc+kb). */
static inline __attribute__((always_inline)) void FN(tile)(const enh_gemm_blk *j, int pc, int kb, int jp, int ir,
                                                        const float *abuf)
{
    const enh_gemm_b *B = j->b;
    const int K = B->k, n = B->n, m = j->m, mfull = m / MR * MR;
    const int first = pc == 0, last = pc + kb == K;
    const size_t lda = (size_t)j->lda, ldc = (size_t)j->ldc;
    const size_t ldb = j->cbuf ? (size_t)(j->j1 - j->j0) * NR : ldc; /* partial sums */
    const float *bp = B->packed + (size_t)pc * B->ldp + (size_t)jp * kb * NR;
    const int col = jp * NR, cols = n - col < NR ? n - col : NR;
    float *cp = j->c + col + ir * ldc;
    float *pp = j->cbuf ? j->cbuf + (size_t)(jp - j->j0) * NR + ir * ldb : cp;
    float *dst = last ? cp : pp;
    const size_t ldd = last ? ldc : ldb;
    const float *src = first ? NULL : pp;
    FN(epi_t) e = {B->bias ? B->bias + col : NULL, j->act, j->alpha,
                   j->res ? j->res + col + (size_t)ir * j->ldr : NULL, (size_t)j->ldr};
    const float *ap = j->a + pc + ir * lda;
    if (ir < mfull && cols == NR) {
        const float *pf = ir + MR < mfull ? ap + MR * lda : ap; /* the next tile's rows */
        if (last)
            FN(micro)(1, kb, ap, lda, bp, dst, ldd, src, ldb, &e, pf);
        else
            FN(micro)(0, kb, ap, lda, bp, dst, ldd, src, ldb, &e, pf);
    } else {
        const int rows = m - ir < MR ? m - ir : MR;
        FN(edge)(last, rows, cols, kb, rows == MR ? ap : abuf, rows == MR ? lda : (size_t)kb, bp, dst, ldd, src,
                 ldb, &e);
    }
}

static void FN(block)(const enh_gemm_blk *j)
{
    const enh_gemm_b *B = j->b;
    const int K = B->k, kc = B->kc, m = j->m, mfull = m / MR * MR;
    const size_t lda = (size_t)j->lda;
    float abuf[MR * KC] __attribute__((aligned(64))); /* the last rows < MR */
    for (int pc = 0; pc < K; pc += kc) {
        const int kb = K - pc < kc ? K - pc : kc;
        if (m > mfull) {
            memset(abuf, 0, (size_t)MR * kb * sizeof(float));
            for (int i = 0; i < m - mfull; i++)
                memcpy(abuf + (size_t)i * kb, j->a + (size_t)(mfull + i) * lda + pc, (size_t)kb * sizeof(float));
        }
        /* One K block and at most 2 panels: sweep the panels for one tile row at a time, so each
         * A tile serves both panels while in L1 (M=65536, CPU time: K=32 N=32 63 -> 76 GFLOP/s,
         * K=128 N=32 70 -> 78; with 3+ panels it lost: K=32 N=128 63 -> 53, K=64 N=64 75 -> 66).
         * (One loop for both orders: a second inlined copy of the tile cost the main one 10%.) */
        const int step = K <= kc && j->j1 - j->j0 <= 2 ? MR : m;
        for (int r0 = 0; r0 < m; r0 += step) {
            const int r1 = m - r0 < step ? m : r0 + step;
            for (int jp = j->j0; jp < j->j1; jp++)
                for (int ir = r0; ir < r1; ir += MR)
                    FN(tile)(j, pc, kb, jp, ir, abuf);
        }
    }
}

const enh_gemm_kern FN(enh_gemm_kern) = {KERN_NAME, MR, NR, MC, KC, FN(block)};
