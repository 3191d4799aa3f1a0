/* conv_fast_tmpl.h - the fast convolution kernels, written once over a small vector
 * abstraction and instantiated per ISA (see conv_fast.h for the algorithms and layouts).
 *
 * Include only from conv_fast_<isa>.c, after defining: VW (floats per vector), MR (micro-kernel rows), NR (max vectors per row, <= 3),
 * FN(name) (per-ISA suffix), the type vf and the inline functions
 *   v_load v_store v_load_n v_store_n v_set1 v_zero v_add v_sub v_mul v_fma v_fnma
 *   v_max v_min v_act v_tr4 v_tr4_01 (conv_fast_vec_<isa>.h), and v_load_lr(row, x, lo, hi): lanes [lo, hi) of
 *   row[x .. x+VW) (0 <= lo <= hi <= VW; only those lanes are touched, the others read 0)
 * v_tr4 transposes the 4x4 blocks inside each 128-bit lane of four vectors (an involution).
 * Applied to 4 consecutive vectors of a row it turns 4*VW floats (VW tiles of 4 pixels)
 * into 4 "phase" vectors: lane l of phase k holds pixel k of tile perm(l). The GEMM does
 * not care about the order of its columns, and the output transform applies v_tr4 again,
 * which restores pixel order. No gathers, no cross-lane shuffles.
 * With CONV_TMPL_PIECES_ONLY defined, the Winograd block loop and the enh_fast_isa table are
 * left out (the bf16 file uses the fp32 pieces and GEMM blocks, with a Winograd loop of its own).
 */
#include <string.h>

#define SEGW (4 * VW + 4) /* floats of one input row a group of VW tiles reads */
#define WPF_FLOATS 512    /* weight prefetch distance: 2 KiB (1, 4, 8 KiB measured no better) */

/* ---- GEMM micro-kernel: c[MR][nr*VW] = a(K x MR panel)^T * b(K x nr*VW, row stride ldb) */
static inline __attribute__((always_inline)) void FN(kern)(const int nr, const float *restrict a,
                                                        const float *restrict b, size_t ldb,
                                                        float *restrict c, size_t ldc, int K,
                                                        const int pf, const char *nx, int nnx)
{
    vf acc[MR][NR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int q = 0; q < nr; q++)
            acc[i][q] = v_zero();
    for (int k = 0; k < K; k++) {
        vf bv[NR];
        /* The packed weights are one sequential stream, and the first block of a layer on each
         * core finds them in DRAM (x4plus: 267 MB per run): the hardware prefetcher restarts at
         * every 4 KiB page and a first block took 2x the others (bench_conv --chain 48, 64x64:
         * 0.13 vs 0.065 ms). Asking 2 KiB ahead cut that to ~0.10 ms; both cores pay it every
         * layer, so it also limited the 2-thread scaling of small inputs. Later blocks find
         * the weights in cache and skip the extra instruction (pf is a constant here). */
        if (pf == 1)
            __builtin_prefetch(a + WPF_FLOATS, 0, 3);
        else if (pf == 2 && k < nnx) /* a line of the next layer's weights (see wino_blocks) */
            __builtin_prefetch(nx + 64 * (size_t)k, 0, 1); /* prefetcht2: best of the four hints measured */
#pragma GCC unroll 4
        for (int q = 0; q < nr; q++)
            bv[q] = v_load(b + q * VW);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            vf av = v_set1(a[i]);
#pragma GCC unroll 4
            for (int q = 0; q < nr; q++)
                acc[i][q] = v_fma(av, bv[q], acc[i][q]);
        }
        a += MR;
        b += ldb;
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int q = 0; q < nr; q++)
            v_store(c + (size_t)i * ldc + q * VW, acc[i][q]);
}

/* C[rows][ncols] = Apack * B; rows a multiple of MR, ncols a multiple of VW. */
static inline __attribute__((always_inline)) void FN(gemm_pf)(const float *apack, int rows, int K,
                                                            const float *b, size_t ldb, int ncols,
                                                            float *c, size_t ldc, const int pf,
                                                            const char **nx, const char *nx_end)
{
    for (int r = 0; r < rows; r += MR) {
        const float *a = apack + (size_t)r * K;
        float *cr = c + (size_t)r * ldc;
        int nnx = 0;
        if (pf == 2) { /* one line per k step of this row panel, while any are left */
            ptrdiff_t left = (nx_end - *nx + 63) / 64;
            nnx = left < K ? (int)left : K;
        }
        const char *nxp = pf == 2 ? *nx : NULL;
        if (pf == 2)
            *nx += 64 * (size_t)nnx;
        int n = 0;
        for (; n + NR * VW <= ncols; n += NR * VW)
            FN(kern)(NR, a, b + n, ldb, cr + n, ldc, K, pf, nxp, nnx);
        int rem = (ncols - n) / VW;
        if (rem == 1)
            FN(kern)(1, a, b + n, ldb, cr + n, ldc, K, pf, nxp, nnx);
#if NR > 2
        else if (rem == 2)
            FN(kern)(2, a, b + n, ldb, cr + n, ldc, K, pf, nxp, nnx);
#endif
    }
}

/* C[rows x ncols] = A (packed weights) x B; pf: prefetch the weights ahead (see FN(kern)) */
/* pf 0: no prefetch; 1: the weights ahead (a core's first block of a layer); 2: the next
 * layer's weights, from *nx (advanced) up to nx_end, one line per k step, while the current
 * ones come from cache (so the next layer's first block finds them at least in L3). */
static void FN(gemm)(const float *apack, int rows, int K, const float *b, size_t ldb, int ncols, float *c,
                     size_t ldc, int pf, const char **nx, const char *nx_end)
{
    if (pf == 1)
        FN(gemm_pf)(apack, rows, K, b, ldb, ncols, c, ldc, 1, nx, nx_end);
    else if (pf == 2 && *nx < nx_end)
        FN(gemm_pf)(apack, rows, K, b, ldb, ncols, c, ldc, 2, nx, nx_end);
    else
        FN(gemm_pf)(apack, rows, K, b, ldb, ncols, c, ldc, 0, nx, nx_end);
}

/* ---- Winograd F(4x4,3x3). B^T d (input), A^T m (output), rows of 6 vectors. */
static inline __attribute__((always_inline)) void FN(itf)(const vf d[6], vf x[6])
{
    const vf two = v_set1(2.0f), four = v_set1(4.0f), five = v_set1(5.0f);
    vf s12 = v_add(d[1], d[2]), s34 = v_add(d[3], d[4]);
    vf d12 = v_sub(d[1], d[2]), d43 = v_sub(d[4], d[3]);
    vf d31 = v_sub(d[3], d[1]), d42 = v_sub(d[4], d[2]);
    x[0] = v_fma(four, d[0], v_fnma(five, d[2], d[4]));
    x[1] = v_fnma(four, s12, s34);
    x[2] = v_fma(four, d12, d43);
    x[3] = v_fma(two, d31, d42);
    x[4] = v_fnma(two, d31, d42);
    x[5] = v_fma(four, d[1], v_fnma(five, d[3], d[5]));
}

static inline __attribute__((always_inline)) void FN(otf)(const vf m[6], vf y[4])
{
    const vf two = v_set1(2.0f), four = v_set1(4.0f), eight = v_set1(8.0f);
    vf s12 = v_add(m[1], m[2]), s34 = v_add(m[3], m[4]);
    vf d12 = v_sub(m[1], m[2]), d34 = v_sub(m[3], m[4]);
    y[0] = v_add(v_add(m[0], s12), s34);
    y[1] = v_fma(two, d34, d12);
    y[2] = v_fma(four, s34, s12);
    y[3] = v_add(v_fma(eight, d34, d12), m[5]);
}

/* Lanes of the 8 row loads of a group (4 at x0 + k*VW, 4 at x0 + 4 + k*VW) that fall
 * inside [0, w): [lo[k], hi[k]) with hi >= lo. Returns 1 when all lanes are inside. */
static int FN(group_lanes)(int x0, int w, int lo[8], int hi[8])
{
    int all = 1;
    for (int k = 0; k < 8; k++) {
        int x = x0 + (k & 3) * VW + (k >> 2) * 4;
        int l = x < 0 ? -x : 0, r = w - x < VW ? w - x : VW;
        if (l > VW)
            l = VW;
        if (r < l)
            r = l;
        lo[k] = l, hi[k] = r;
        all &= l == 0 && r == VW;
    }
    return all;
}

/* One channel, one group: 6 input rows from (y0, x0) (zero outside the plane) ->
 * 36 vectors at dst + p*pstride. lo/hi: NULL for interior groups, else group_lanes().
 * Prefetches the same rows of `next` (the next channel). */
static void FN(wino_in)(const float *plane, const float *next, int h, int w, int y0, int x0,
                        const int *lo, const int *hi, float *dst, size_t pstride)
{
    vf t[6][6];
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) {
        int yy = y0 + r;
        if (yy < 0 || yy >= h) {
#pragma GCC unroll 6
            for (int q = 0; q < 6; q++)
                t[r][q] = v_zero();
            continue;
        }
        if (next) {
            const char *pn = (const char *)(next + (size_t)yy * w + (x0 > 0 ? x0 : 0));
            for (int k = 0; k < (int)(SEGW * sizeof(float)); k += 64)
                __builtin_prefetch(pn + k);
        }
        const float *row = plane + (size_t)yy * w;
        vf d[6], e[4];
        if (!lo) {
            const float *p = row + x0;
            d[0] = v_load(p), d[1] = v_load(p + VW), d[2] = v_load(p + 2 * VW), d[3] = v_load(p + 3 * VW);
            e[0] = v_load(p + 4), e[1] = v_load(p + 4 + VW), e[2] = v_load(p + 4 + 2 * VW);
            e[3] = v_load(p + 4 + 3 * VW);
        } else {
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                d[k] = v_load_lr(row, x0 + k * VW, lo[k], hi[k]);
                e[k] = v_load_lr(row, x0 + 4 + k * VW, lo[4 + k], hi[4 + k]);
            }
        }
        v_tr4(&d[0], &d[1], &d[2], &d[3]);
        v_tr4_01(e[0], e[1], e[2], e[3], &d[4], &d[5]);
        FN(itf)(d, t[r]);
    }
#pragma GCC unroll 6
    for (int q = 0; q < 6; q++) {
        vf col[6] = {t[0][q], t[1][q], t[2][q], t[3][q], t[4][q], t[5][q]}, x[6];
        FN(itf)(col, x);
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++)
            v_store(dst + (size_t)(i * 6 + q) * pstride, x[i]);
    }
}

/* The epilogue activation: act 1 = v < 0 ? v * s : v, 2 = clip to [lo, hi] (NaN stays NaN, as
 * enh_act_one: v_max/v_min return their second operand when unordered). */
static inline __attribute__((always_inline)) vf FN(epi_act)(vf v, int act, vf sv, vf lov, vf hiv)
{
    if (act == 1)
        return v_act(v, sv);
    if (act == 2)
        return v_min(hiv, v_max(lov, v));
    return v;
}

/* Epilogue for one output row segment: bias already added; activation, v_tr4 back to pixel
 * order, residual, store (nx valid pixels). */
static inline __attribute__((always_inline)) void FN(store_row)(vf v[4], int act, vf sv, vf lov, vf hiv,
                                                             float *orow, const float *rrow, int nx)
{
    if (act) {
        v[0] = FN(epi_act)(v[0], act, sv, lov, hiv);
        v[1] = FN(epi_act)(v[1], act, sv, lov, hiv);
        v[2] = FN(epi_act)(v[2], act, sv, lov, hiv);
        v[3] = FN(epi_act)(v[3], act, sv, lov, hiv);
    }
    v_tr4(&v[0], &v[1], &v[2], &v[3]);
    if (nx >= 4 * VW) {
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            vf o = rrow ? v_add(v[k], v_load(rrow + k * VW)) : v[k];
            v_store(orow + k * VW, o);
        }
        return;
    }
    for (int k = 0; k < 4; k++) {
        int n = nx - k * VW;
        if (n <= 0)
            break;
        if (n > VW)
            n = VW;
        vf o = rrow ? v_add(v[k], v_load_n(rrow + k * VW, n)) : v[k];
        v_store_n(orow + k * VW, o, n);
    }
}

/* One output channel, one group: 36 vectors at src + p*pstride -> up to 4 x 4*VW pixels. */
static void FN(wino_out)(const float *src, size_t pstride, float bias, float slope, int act, float lo,
                         float hi, float *oplane, const float *rplane, int h, int w, int oy0, int ox0)
{
    vf s[6][4];
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) {
        vf m[6];
#pragma GCC unroll 6
        for (int q = 0; q < 6; q++)
            m[q] = v_load(src + (size_t)(r * 6 + q) * pstride);
        FN(otf)(m, s[r]);
    }
    vf o[4][4];
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        vf col[6] = {s[0][q], s[1][q], s[2][q], s[3][q], s[4][q], s[5][q]}, y[4];
        FN(otf)(col, y);
        o[0][q] = y[0];
        o[1][q] = y[1];
        o[2][q] = y[2];
        o[3][q] = y[3];
    }
    const vf bv = v_set1(bias), sv = v_set1(slope), lov = v_set1(lo), hiv = v_set1(hi);
    int nx = w - ox0;
    for (int i = 0; i < 4; i++) {
        int oy = oy0 + i;
        if (oy >= h)
            break;
        vf v[4] = {v_add(o[i][0], bv), v_add(o[i][1], bv), v_add(o[i][2], bv), v_add(o[i][3], bv)};
        FN(store_row)(v, act, sv, lov, hiv, oplane + (size_t)oy * w + ox0,
                      rplane ? rplane + (size_t)oy * w + ox0 : NULL, nx);
    }
}

#ifndef CONV_TMPL_PIECES_ONLY
static void FN(wino_blocks)(const enh_fast_job *j, size_t b0, size_t b1, float *scratch)
{
    const enh_fast_conv *c = j->c;
    const int cin = c->cin, cout = c->cout, coutp = c->coutp_g, ng = c->ng, h = j->h, w = j->w;
    const int cob = c->cob;
    const size_t TB = (size_t)ng * VW, hw = (size_t)h * w, per_img = (size_t)j->th * j->gx;
    /* point strides padded by one cache line: 4 KiB strides would alias in L1 */
    const size_t vps = j->vc ? j->vc_vps : (size_t)cin * TB + PSPAD, mps = (size_t)cob * TB + PSPAD;
    float *V = scratch, *M = j->vc ? scratch : V + 36 * vps;
    const int ci0 = j->vc ? j->vc_done : 0; /* channels whose transform is already in V */
    /* the next layer's weights: spread evenly over the blocks that do not prefetch their own */
    const size_t nlater = b1 - b0 - (j->wpf ? 1 : 0);
    const size_t nxshare = j->nx0 && nlater ? ((size_t)(j->nx1 - j->nx0) + nlater - 1) / nlater : 0;
    const char *nx = j->nx0;
    for (size_t blk = b0; blk < b1; blk++) {
        size_t g0 = blk * ng;
        const int pf = j->wpf && blk == b0 ? 1 : nxshare ? 2 : 0;
        const char *nx_end = pf == 2 ? ((size_t)(j->nx1 - nx) > nxshare ? nx + nxshare : j->nx1) : nx;
        int cnt = (int)(j->ngroups - g0 < (size_t)ng ? j->ngroups - g0 : (size_t)ng);
        if (j->vc)
            V = j->vc + blk * 36 * vps;
        for (int gi = 0; gi < cnt; gi++) {
            size_t g = g0 + gi, b = g / per_img, r = g % per_img;
            int ty = (int)(r / j->gx), tx = (int)(r % j->gx);
            const float *inb = j->in + b * cin * hw;
            int lo[8], hi[8], x0 = 4 * VW * tx - c->pl;
            int inside = FN(group_lanes)(x0, w, lo, hi);
            for (int ci = ci0; ci < cin; ci++)
                FN(wino_in)(inb + ci * hw, ci + 1 < cin ? inb + (ci + 1) * hw : NULL, h, w,
                            4 * ty - c->pt, x0, inside ? NULL : lo, inside ? NULL : hi,
                            V + ci * TB + gi * VW, vps);
        }
        /* output channels in chunks of cob rows: M holds 36 points x cob x TB */
        for (int co0 = 0; co0 < coutp; co0 += cob) {
            int rows = coutp - co0 < cob ? coutp - co0 : cob;
            for (int p = 0; p < 36; p++)
                FN(gemm)(c->wpack + (size_t)p * coutp * cin + (size_t)co0 * cin, rows, cin,
                         V + p * vps, TB, cnt * VW, M + p * mps, TB, pf, &nx, nx_end);
            int coe = co0 + rows < cout ? co0 + rows : cout;
            for (int gi = 0; gi < cnt; gi++) {
                size_t g = g0 + gi, b = g / per_img, r = g % per_img;
                int ty = (int)(r / j->gx), tx = (int)(r % j->gx);
                for (int co = co0; co < coe; co++) {
                    size_t plane = (b * cout + co) * hw;
                    FN(wino_out)(M + (co - co0) * TB + gi * VW, mps, c->bias[co], c->slope[co],
                                 c->act, c->lo, c->hi, j->out + plane, j->res ? j->res + plane : NULL, h, w,
                                 4 * ty, 4 * VW * tx);
                }
            }
        }
    }
}

/* ---- GEMM path: im2col of TB output pixels, any shape. */
#endif /* CONV_TMPL_PIECES_ONLY */

static void FN(im2col_row)(const enh_fast_conv *c, const float *plane, int h, int w, int ow, int ky,
                           int kx, size_t q0, int cnt, float *dst)
{
    /* 1x1 stride 1 unpadded (MobileNet's 33 pointwise convs): the pixels are the input plane's
     * own, one copy; the element loop below cost up to ~40% of a 144->24 projection */
    if (c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && c->pt == 0 && c->pl == 0 && w == ow) {
        memcpy(dst, plane + q0, (size_t)cnt * sizeof *dst);
        return;
    }
    size_t q = q0, qend = q0 + (size_t)cnt;
    while (q < qend) {
        int oy = (int)(q / (size_t)ow), ox = (int)(q % (size_t)ow);
        int run = ow - ox;
        if ((size_t)run > qend - q)
            run = (int)(qend - q);
        float *d = dst + (q - q0);
        int iy = oy * c->sh - c->pt + ky * c->dh;
        if (iy < 0 || iy >= h) {
            memset(d, 0, (size_t)run * sizeof *d);
        } else {
            const float *srow = plane + (size_t)iy * w;
            int ix = ox * c->sw - c->pl + kx * c->dw;
            if (c->sw == 1 && ix >= 0 && ix + run <= w) { /* a run inside the row */
                memcpy(d, srow + ix, (size_t)run * sizeof *d);
            } else if (c->sw == 2 && ix >= 0 && ix + 2 * (run - 1) < w) { /* MobileNet's first conv */
                const float *sp = srow + ix;
                for (int t = 0; t < run; t++)
                    d[t] = sp[2 * t];
            } else
                for (int t = 0; t < run; t++, ix += c->sw)
                    d[t] = (ix >= 0 && ix < w) ? srow[ix] : 0.0f;
        }
        q += (size_t)run;
    }
}

static void FN(gemm_blocks)(const enh_fast_job *j, size_t b0, size_t b1, float *scratch)
{
    const enh_fast_conv *c = j->c;
    const int K = c->K, coutp = c->coutp_g, h = j->h, w = j->w, ow = j->ow;
    const size_t TB = (size_t)c->ng * VW, opix = (size_t)j->oh * ow, hw = (size_t)h * w;
    float *V = scratch, *C = V + (size_t)K * TB;
    const int cs = j->csplit > 1 ? j->csplit : 1, rpc = (coutp / MR + cs - 1) / cs * MR;
    for (size_t blk = b0; blk < b1; blk++) {
        const size_t pb = blk / (size_t)cs;
        const int r0 = (int)(blk % (size_t)cs) * rpc, r1 = r0 + rpc < coutp ? r0 + rpc : coutp;
        if (r0 >= r1)
            continue;
        size_t b = pb / j->ngroups, q0 = (pb % j->ngroups) * TB;
        int cnt = (int)(opix - q0 < TB ? opix - q0 : TB);
        int ncols = (cnt + VW - 1) / VW * VW;
        for (int g = 0; g < c->groups; g++) {
            for (int ci = 0; ci < c->cin_g; ci++) {
                const float *plane = j->in + (b * c->cin + (size_t)g * c->cin_g + ci) * hw;
                for (int ky = 0; ky < c->kh; ky++)
                    for (int kx = 0; kx < c->kw; kx++) {
                        float *dst = V + (size_t)((ci * c->kh + ky) * c->kw + kx) * TB;
                        FN(im2col_row)(c, plane, h, w, ow, ky, kx, q0, cnt, dst);
                        for (int t = cnt; t < ncols; t++)
                            dst[t] = 0.0f;
                    }
            }
            const char *none = NULL;
            FN(gemm)(c->wpack + (size_t)g * coutp * K + (size_t)r0 * K, r1 - r0, K, V, TB, ncols,
                     C + (size_t)r0 * TB, TB, j->wpf && blk == b0, &none, NULL);
            for (int co = r0; co < r1 && co < c->cout_g; co++) {
                int oc = g * c->cout_g + co;
                const float *crow = C + (size_t)co * TB;
                const vf bv = v_set1(c->bias[g * coutp + co]), sv = v_set1(c->slope[g * coutp + co]);
                const vf lov = v_set1(c->lo), hiv = v_set1(c->hi);
                size_t plane = (b * c->cout + oc) * opix + q0;
                float *orow = j->out + plane;
                const float *rrow = j->res ? j->res + plane : NULL;
                for (int x = 0; x < cnt; x += VW) {
                    int n = cnt - x < VW ? cnt - x : VW;
                    vf v = v_add(v_load(crow + x), bv);
                    v = FN(epi_act)(v, c->act, sv, lov, hiv);
                    if (n == VW) {
                        if (rrow)
                            v = v_add(v, v_load(rrow + x));
                        v_store(orow + x, v);
                    } else {
                        if (rrow)
                            v = v_add(v, v_load_n(rrow + x, n));
                        v_store_n(orow + x, v, n);
                    }
                }
            }
        }
    }
}

#ifndef CONV_TMPL_PIECES_ONLY
const enh_fast_isa FN(enh_fast_isa) = {
    .name = ISA_NAME, .vw = VW, .mr = MR, .nr = NR,
    .wino_blocks = FN(wino_blocks), .gemm_blocks = FN(gemm_blocks),
};
#endif
