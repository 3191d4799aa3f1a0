/* conv_fast_avx512bf16.c - the optional bf16 Winograd F(4x4,3x3) kernel (precision.h).
 *
 * Compiled with -mavx512f/bw/vl/dq -mfma -mavx512bf16 (CMake, by file
 * name); only called after enh_cpu_has_bf16(). Thread-safe (plans are read-only, each call
 * works in the scratch it is given), never fails, never allocates.
 *
 * Same blocking as the fp32 kernel (conv_fast.h, conv_fast_tmpl.h), which this file
 * instantiates once more for its fp32 pieces (input/output transforms, epilogue):
 *  - input transform in fp32, one channel pair at a time into a 2 x 36 x VW L1 buffer, then
 *    rounded to bf16 (vcvtne2ps2bf16, nearest even) and interleaved (vpermw) so that each
 *    32-bit column of Vb holds (channel 2k, channel 2k+1): Vb[36][(cin+1)/2][TB] pairs;
 *  - 36 batched GEMMs with vdpbf16ps: acc[co][n] += w[co][2k]*v[2k][n] + w[co][2k+1]*v[2k+1][n],
 *    products exact, sums in fp32; weights broadcast as one 32-bit pair per output channel;
 *    register block MR=8 channels x NR=3 vectors of 16 tiles (24 accumulators), as fp32;
 *  - output transform, bias, activation, residual in fp32 (the template's wino_out).
 * Error: bf16 keeps 8 significant bits (relative rounding <= 2^-9 per input and weight);
 * measured max |bf16 - ref| / max|ref| per layer ~3-5e-3 (tests/kernels/test_conv_bf16.c).
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "nn/conv_fast.h"

/* ---- the fp32 vector layer (as conv_fast_avx512.c) and the template's fp32 pieces */
#define VW 16
#define MR 8
#define NR 3
#define FN(x) x##_bf16f32
#define ISA_NAME "avx512bf16-fp32"

#include "nn/conv_fast_vec_avx512.h"

/* Defines wino_in_bf16f32, wino_out_bf16f32, group_lanes_bf16f32, gemm_blocks_bf16f32, ...
 * (no fp32 Winograd loop and no enh_fast_isa table: the avx512 file has those) */
#define CONV_TMPL_PIECES_ONLY
#include "nn/conv_fast_tmpl.h"

/* ---- bf16 */
#define TMP_FLOATS (2 * 36 * VW) /* fp32 transforms of one channel pair, one group */

static uint16_t bf16_rne(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a (quiet) NaN */
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

void enh_bf16_pack_wino(const float *T, int cout, int cin, int coutp, int mr, uint32_t *dst)
{
    const int cin2 = (cin + 1) / 2;
    for (int pnt = 0; pnt < 36; pnt++)
        for (int cb = 0; cb < coutp; cb += mr)
            for (int k = 0; k < cin2; k++)
                for (int r = 0; r < mr; r++) {
                    int co = cb + r, c0 = 2 * k, c1 = 2 * k + 1;
                    uint32_t lo = 0, hi = 0;
                    if (co < cout) {
                        lo = bf16_rne(T[((size_t)co * cin + c0) * 36 + pnt]);
                        if (c1 < cin)
                            hi = bf16_rne(T[((size_t)co * cin + c1) * 36 + pnt]);
                    }
                    *dst++ = lo | hi << 16;
                }
}

/* Vb point stride (in 32-bit pairs) and M point stride (floats), padded as in the fp32 kernel. */
static size_t vb_stride(const enh_fast_conv *c) { return (size_t)((c->cin + 1) / 2) * c->ng * VW + PSPAD; }
static size_t m_stride(const enh_fast_conv *c) { return (size_t)c->cob * c->ng * VW + PSPAD; }

size_t enh_bf16_wino_scratch_floats(const enh_fast_conv *c)
{
    return 36 * (vb_stride(c) + m_stride(c)) + TMP_FLOATS + 64;
}

/* c[MR][nr*VW] = sum over K2 pairs of a(pair panel) * b(pairs, row stride ldb) */
static inline __attribute__((always_inline)) void kern_bf16(const int nr, const uint32_t *restrict a,
                                                           const uint32_t *restrict b, size_t ldb,
                                                           float *restrict c, size_t ldc, int K2,
                                                           const int pf)
{
    __m512 acc[MR][NR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
        for (int q = 0; q < nr; q++)
            acc[i][q] = _mm512_setzero_ps();
    for (int k = 0; k < K2; k++) {
        __m512bh bv[NR];
        if (pf) /* a thread's first block of a run: 2 KiB ahead, as the fp32 kernel (conv_fast_tmpl.h) */
            __builtin_prefetch(a + 512, 0, 3);
#pragma GCC unroll 3
        for (int q = 0; q < nr; q++)
            bv[q] = (__m512bh)_mm512_loadu_si512(b + q * VW);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[i]);
#pragma GCC unroll 3
            for (int q = 0; q < nr; q++)
                acc[i][q] = _mm512_dpbf16_ps(acc[i][q], av, bv[q]);
        }
        a += MR;
        b += ldb;
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
        for (int q = 0; q < nr; q++)
            _mm512_storeu_ps(c + (size_t)i * ldc + q * VW, acc[i][q]);
}

/* C[rows][ncols] = Apack * Vb; rows a multiple of MR, ncols a multiple of VW. */
static inline __attribute__((always_inline)) void gemm_bf16_pf(const uint32_t *apack, int rows, int K2,
                                                             const uint32_t *b, size_t ldb, int ncols, float *c,
                                                             size_t ldc, const int pf)
{
    for (int r = 0; r < rows; r += MR) {
        const uint32_t *a = apack + (size_t)r * K2;
        float *cr = c + (size_t)r * ldc;
        int n = 0;
        for (; n + NR * VW <= ncols; n += NR * VW)
            kern_bf16(NR, a, b + n, ldb, cr + n, ldc, K2, pf);
        int rem = (ncols - n) / VW;
        if (rem == 1)
            kern_bf16(1, a, b + n, ldb, cr + n, ldc, K2, pf);
        else if (rem == 2)
            kern_bf16(2, a, b + n, ldb, cr + n, ldc, K2, pf);
    }
}

static void gemm_bf16(const uint32_t *apack, int rows, int K2, const uint32_t *b, size_t ldb, int ncols, float *c,
                      size_t ldc, int pf)
{
    if (pf)
        gemm_bf16_pf(apack, rows, K2, b, ldb, ncols, c, ldc, 1);
    else
        gemm_bf16_pf(apack, rows, K2, b, ldb, ncols, c, ldc, 0);
}

/* 36 fp32 vectors of channel 2k (lo) and 2k+1 (hi) -> 36 vectors of interleaved bf16 pairs. */
static void pair_store(const float *lo, const float *hi, uint32_t *dst, size_t pstride)
{
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                         6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
#pragma GCC unroll 4
    for (int p = 0; p < 36; p++) {
        __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(hi + p * VW), _mm512_loadu_ps(lo + p * VW));
        _mm512_storeu_si512(dst + (size_t)p * pstride, _mm512_permutexvar_epi16(idx, (__m512i)h));
    }
}

static void wino_blocks_bf16(const enh_fast_job *j, size_t b0, size_t b1, float *scratch)
{
    const enh_fast_conv *c = j->c;
    const int cin = c->cin, cin2 = (cin + 1) / 2, cout = c->cout, coutp = c->coutp_g, ng = c->ng;
    const int h = j->h, w = j->w, cob = c->cob;
    const size_t TB = (size_t)ng * VW, hw = (size_t)h * w, per_img = (size_t)j->th * j->gx;
    const size_t vps = vb_stride(c), mps = m_stride(c);
    uint32_t *Vb = (uint32_t *)scratch;
    float *M = scratch + 36 * vps, *tmp = M + 36 * mps;
    for (size_t blk = b0; blk < b1; blk++) {
        size_t g0 = blk * ng;
        int cnt = (int)(j->ngroups - g0 < (size_t)ng ? j->ngroups - g0 : (size_t)ng);
        for (int gi = 0; gi < cnt; gi++) {
            size_t g = g0 + gi, b = g / per_img, r = g % per_img;
            int ty = (int)(r / j->gx), tx = (int)(r % j->gx);
            const float *inb = j->in + b * cin * hw;
            int lo[8], hi[8], x0 = 4 * VW * tx - c->pl, y0 = 4 * ty - c->pt;
            int inside = group_lanes_bf16f32(x0, w, lo, hi);
            const int *plo = inside ? NULL : lo, *phi = inside ? NULL : hi;
            for (int k = 0; k < cin2; k++) {
                int c0 = 2 * k, c1 = 2 * k + 1;
                wino_in_bf16f32(inb + c0 * hw, c1 < cin ? inb + c1 * hw : NULL, h, w, y0, x0, plo, phi, tmp, VW);
                if (c1 < cin)
                    wino_in_bf16f32(inb + c1 * hw, c1 + 1 < cin ? inb + (c1 + 1) * hw : NULL, h, w, y0, x0, plo,
                                    phi, tmp + 36 * VW, VW);
                else
                    memset(tmp + 36 * VW, 0, 36 * VW * sizeof(float)); /* zero, not garbage: 0 * NaN */
                pair_store(tmp, tmp + 36 * VW, Vb + k * TB + gi * VW, vps);
            }
        }
        for (int co0 = 0; co0 < coutp; co0 += cob) {
            int rows = coutp - co0 < cob ? coutp - co0 : cob;
            for (int p = 0; p < 36; p++)
                gemm_bf16(c->wbf + (size_t)p * coutp * cin2 + (size_t)co0 * cin2, rows, cin2, Vb + p * vps, TB,
                          cnt * VW, M + p * mps, TB, j->wpf && blk == b0);
            int coe = co0 + rows < cout ? co0 + rows : cout;
            for (int gi = 0; gi < cnt; gi++) {
                size_t g = g0 + gi, b = g / per_img, r = g % per_img;
                int ty = (int)(r / j->gx), tx = (int)(r % j->gx);
                for (int co = co0; co < coe; co++) {
                    size_t plane = (b * cout + co) * hw;
                    wino_out_bf16f32(M + (co - co0) * TB + gi * VW, mps, c->bias[co], c->slope[co], c->act, c->lo, c->hi,
                                     j->out + plane, j->res ? j->res + plane : NULL, h, w, 4 * ty, 4 * VW * tx);
                }
            }
        }
    }
}

const enh_fast_isa enh_fast_isa_avx512bf16 = {
    .name = "avx512bf16", .vw = VW, .mr = MR, .nr = NR,
    .wino_blocks = wino_blocks_bf16, .gemm_blocks = gemm_blocks_bf16f32,
};
