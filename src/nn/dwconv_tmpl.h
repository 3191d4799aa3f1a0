/* dwconv_tmpl.h - the depthwise convolution kernel (dwconv.h), written once over the vector
 * layer of the conv kernels and instantiated per ISA (dwconv_portable.c, dwconv_avx2.c).
 *
 * Include only after defining VW, FN(name), ISA_NAME, the type vf and v_load v_store v_load_n
 * v_store_n v_load_lr v_set1 v_add v_fma v_max v_min v_act and v_deint(a, b, &even, &odd)
 * (the even and odd lanes of the 2*VW floats a:b).
 * A tile is RB output rows x QB vectors of one plane, RB * QB independent accumulators (up to
 * 8: the 9 dependent FMAs of a 3x3 tap chain would otherwise wait on the FMA latency); the
 * 3x3 shapes get a copy of the loops with the kernel size constant (unrolled taps), other
 * sizes the same loops with runtime bounds. */
#include <string.h>

#include "nn/dwconv.h"

/* One tile. rows(r, ky): the row pointer (NULL = a zero-padding row) from base + (iy - ibase) *
 * rstride; tap kx reads rp + toff[kx] + x. edge: masked loads against [0, w) of the row (stride
 * 1 only, the left/right tiles); otherwise every load is in bounds. */
static inline __attribute__((always_inline)) void FN(dw_tile)(const int RB, const int QB, const int KH,
                                                            const int KW, const int edge,
                                                            const enh_dw_conv *c, int ch, const float *base,
                                                            int ibase, size_t rstride, int h, int w,
                                                            const int *toff, int y, int x0, float *oplane,
                                                            const float *rplane, int ow, const int sh,
                                                            const int pt, const int dh, const int act)
{
    const float *wk = c->w + (size_t)ch * KH * KW;
    const vf bv = v_set1(c->bias[ch]);
    vf acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
        for (int q = 0; q < QB; q++)
            acc[r][q] = bv;
#pragma GCC unroll 4
    for (int r = 0; r < RB; r++) {
#pragma GCC unroll 3
        for (int ky = 0; ky < KH; ky++) {
            int iy = (y + r) * sh - pt + ky * dh;
            if (iy < 0 || iy >= h)
                continue;
            const float *rp = base + (ptrdiff_t)(iy - ibase) * (ptrdiff_t)rstride;
#pragma GCC unroll 3
            for (int kx = 0; kx < KW; kx++) {
                const vf wv = v_set1(wk[ky * KW + kx]);
#pragma GCC unroll 4
                for (int q = 0; q < QB; q++) {
                    int x = x0 + q * VW + toff[kx];
                    vf v;
                    if (edge) {
                        int lo = x < 0 ? -x : 0, hi = w - x < VW ? w - x : VW;
                        lo = lo > VW ? VW : lo;
                        hi = hi < lo ? lo : hi;
                        v = v_load_lr(rp, x, lo, hi);
                    } else {
                        v = v_load(rp + x);
                    }
                    acc[r][q] = v_fma(wv, v, acc[r][q]);
                }
            }
        }
    }
    const vf sv = v_set1(c->slope[ch]), lov = v_set1(c->lo), hiv = v_set1(c->hi);
#pragma GCC unroll 4
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
        for (int q = 0; q < QB; q++) {
            vf v = acc[r][q];
            if (act == 1)
                v = v_act(v, sv);
            else if (act == 2)
                v = v_min(hiv, v_max(lov, v)); /* NaN stays NaN, as enh_act_one */
            size_t off = (size_t)(y + r) * ow + (size_t)(x0 + q * VW);
            int n = ow - (x0 + q * VW);
            if (n >= VW) {
                if (rplane)
                    v = v_add(v, v_load(rplane + off));
                v_store(oplane + off, v);
            } else {
                if (rplane)
                    v = v_add(v, v_load_n(rplane + off, n));
                v_store_n(oplane + off, v, n);
            }
        }
}

/* Output rows [y0, y1) of one plane from rows held at base (see dw_tile). direct: stride 1 read
 * in place (edge tiles masked); else phase-split rows (never out of bounds). */
static inline __attribute__((always_inline)) void FN(dw_rows_k)(const int KH, const int KW, const int FULL,
                                                              const enh_dw_conv *c,
                                                              int ch, const float *base, int ibase,
                                                              size_t rstride, int h, int w, const int *toff,
                                                              int direct, int y0, int y1, float *oplane,
                                                              const float *rplane, int ow)
{
    /* FULL: every tile shape; else (the kernel sizes other than 3x3, rare) 1-2 rows x 1 vector,
     * which keeps the instantiations few (sanitizer builds of this file took minutes) */
    const int nvec = (ow + VW - 1) / VW, qmax = FULL ? 4 : 1;
    const int sh = c->sh, pt = c->pt, dh = c->dh, act = c->act; /* in registers, not reloaded per tap */
    int tmin = toff[0], tmax = toff[0];
    for (int kx = 1; kx < KW; kx++) {
        tmin = toff[kx] < tmin ? toff[kx] : tmin;
        tmax = toff[kx] > tmax ? toff[kx] : tmax;
    }
    int tl[3];
    if (FULL) { /* the 3x3 offsets as locals */
        tl[0] = toff[0], tl[1] = toff[1], tl[2] = toff[2];
        toff = tl;
    }
    /* narrow rows (14x14, 7x7 maps: 1-2 vectors) take 4 rows per tile, for enough chains */
    const int rbmax = FULL && !direct && nvec <= 2 ? 4 : 2;
    for (int y = y0; y < y1;) {
        const int rb = y1 - y < rbmax ? y1 - y : rbmax, two = rb >= 2;
        int v = 0;
        while (v < nvec) {
            int x0 = v * VW, qb = nvec - v < qmax ? nvec - v : qmax;
            if (direct && !(x0 + tmin >= 0 && x0 + qb * VW + tmax <= w)) {
                /* a tile that reaches outside the row: one vector at a time, masked, unless the
                 * single vector fits */
                qb = 1;
                if (!(x0 + tmin >= 0 && x0 + VW + tmax <= w)) {
                    if (two)
                        FN(dw_tile)(2, 1, KH, KW, 1, c, ch, base, ibase, rstride, h, w, toff, y, x0, oplane,
                                    rplane, ow, sh, pt, dh, act);
                    else
                        FN(dw_tile)(1, 1, KH, KW, 1, c, ch, base, ibase, rstride, h, w, toff, y, x0, oplane,
                                    rplane, ow, sh, pt, dh, act);
                    v += 1;
                    continue;
                }
            }
#define DW_TILE(RB_, QB_)                                                                            \
    FN(dw_tile)(RB_, QB_, KH, KW, 0, c, ch, base, ibase, rstride, h, w, toff, y, x0, oplane, rplane, ow, sh, pt, dh, \
                act)
            if (!FULL) {
                if (two)
                    DW_TILE(2, 1);
                else
                    DW_TILE(1, 1);
            } else if (rb == 4) {
                if (qb == 2)
                    DW_TILE(4, 2);
                else
                    DW_TILE(4, 1);
            } else if (rb == 3) {
                if (qb == 2)
                    DW_TILE(3, 2);
                else
                    DW_TILE(3, 1);
            } else if (two) {
                switch (qb) {
                case 4: DW_TILE(2, 4); break;
                case 3: DW_TILE(2, 3); break;
                case 2: DW_TILE(2, 2); break;
                default: DW_TILE(2, 1); break;
                }
            } else {
                switch (qb) {
                case 4: DW_TILE(1, 4); break;
                case 3: DW_TILE(1, 3); break;
                case 2: DW_TILE(1, 2); break;
                default: DW_TILE(1, 1); break;
                }
            }
#undef DW_TILE
            v += qb;
        }
        y += rb;
    }
}

static void FN(dw_rows_3x3)(const enh_dw_conv *c, int ch, const float *base, int ibase, size_t rstride, int h,
                            int w, const int *toff, int direct, int y0, int y1, float *oplane,
                            const float *rplane, int ow)
{
    FN(dw_rows_k)(3, 3, 1, c, ch, base, ibase, rstride, h, w, toff, direct, y0, y1, oplane, rplane, ow);
}

static void FN(dw_rows_any)(const enh_dw_conv *c, int ch, const float *base, int ibase, size_t rstride, int h,
                            int w, const int *toff, int direct, int y0, int y1, float *oplane,
                            const float *rplane, int ow)
{
    FN(dw_rows_k)(c->kh, c->kw, 0, c, ch, base, ibase, rstride, h, w, toff, direct, y0, y1, oplane, rplane, ow);
}

/* Splits input row `row` (w floats) into its s phases: dst[p * len + ml + j] = row[j*s + p]
 * for j in [-ml, len - ml), 0 outside the row. Stride 2: both phases at once, VW pairs per
 * step, where the pairs lie inside the row. */
static void FN(dw_split_row)(const float *row, int w, int s, int ml, int len, float *dst)
{
    if (s == 1) { /* a zero-padded copy (len >= ml + w: see enh_dw_phase_geom); inline, as the
                     rows are short (14 floats): three libc calls per row cost more than the taps */
        float *d = dst + ml;
        int i = 0;
        for (int k = 0; k < ml; k++)
            dst[k] = 0.0f;
        for (; i + VW <= w; i += VW)
            v_store(d + i, v_load(row + i));
        if (i < w)
            v_store_n(d + i, v_load_n(row + i, w - i), w - i);
        for (int k = ml + w; k < len; k++)
            dst[k] = 0.0f;
        return;
    }
    if (s == 2) {
        float *d0 = dst, *d1 = dst + len;
        int j = 0;
        for (; j < len && j < ml; j++) /* left margin: indices < 0 */
            d0[j] = d1[j] = 0.0f;
        for (; j + VW <= len && 2 * (j - ml) + 2 * VW <= w; j += VW) {
            vf e, o;
            v_deint(v_load(row + 2 * (j - ml)), v_load(row + 2 * (j - ml) + VW), &e, &o);
            v_store(d0 + j, e);
            v_store(d1 + j, o);
        }
        for (; j < len; j++) {
            int i = 2 * (j - ml);
            d0[j] = i < w ? row[i] : 0.0f;
            d1[j] = i + 1 < w ? row[i + 1] : 0.0f;
        }
        return;
    }
    for (int p = 0; p < s; p++) {
        float *d = dst + (size_t)p * len;
        for (int j = 0; j < len; j++) {
            int i = (j - ml) * s + p;
            d[j] = i >= 0 && i < w ? row[i] : 0.0f;
        }
    }
}

static void FN(dw_units)(const enh_dw_job *j, size_t u0, size_t u1, float *scratch)
{
    const enh_dw_conv *c = j->c;
    const int C = c->c, h = j->h, w = j->w, oh = j->oh, ow = j->ow, s = c->sw;
    const size_t hw = (size_t)h * w, ohw = (size_t)oh * ow;
    const int k33 = c->kh == 3 && c->kw == 3;
    int tof[ENH_DW_MAX_KW];
    int ml = 0, len = 0;
    float *buf = scratch;
    if (j->direct) {
        for (int kx = 0; kx < c->kw; kx++)
            tof[kx] = kx * c->dw - c->pl;
    } else {
        enh_dw_phase_geom(c, ow, VW, &ml, &len);
        for (int kx = 0; kx < c->kw; kx++) {
            int t = kx * c->dw - c->pl, p = ((t % s) + s) % s;
            tof[kx] = p * len + ml + (t - p) / s;
        }
    }
    for (size_t u = u0; u < u1; u++) {
        const int ch = (int)(u % (size_t)C);
        const size_t ib = u / (size_t)C;
        const int img = (int)(ib / (size_t)j->nbands), band = (int)(ib % (size_t)j->nbands);
        const int y0 = band * j->band, y1 = y0 + j->band < oh ? y0 + j->band : oh;
        const size_t pi = (size_t)img * C + ch;
        const float *plane = j->in + pi * hw;
        float *oplane = j->out + pi * ohw;
        const float *rplane = j->res ? j->res + pi * ohw : NULL;
        if (j->direct) {
            if (k33)
                FN(dw_rows_3x3)(c, ch, plane, 0, (size_t)w, h, w, tof, 1, y0, y1, oplane, rplane, ow);
            else
                FN(dw_rows_any)(c, ch, plane, 0, (size_t)w, h, w, tof, 1, y0, y1, oplane, rplane, ow);
            continue;
        }
        const size_t rs = (size_t)s * len;
        for (int ya = y0; ya < y1; ya += j->sub) {
            int yb = ya + j->sub < y1 ? ya + j->sub : y1;
            int ia = ya * c->sh - c->pt, ie = (yb - 1) * c->sh - c->pt + (c->kh - 1) * c->dh + 1;
            ia = ia < 0 ? 0 : ia;
            ie = ie > h ? h : ie;
            for (int iy = ia; iy < ie; iy++)
                FN(dw_split_row)(plane + (size_t)iy * w, w, s, ml, len, buf + (size_t)(iy - ia) * rs);
            if (k33)
                FN(dw_rows_3x3)(c, ch, buf, ia, rs, h, w, tof, 0, ya, yb, oplane, rplane, ow);
            else
                FN(dw_rows_any)(c, ch, buf, ia, rs, h, w, tof, 0, ya, yb, oplane, rplane, ow);
        }
    }
}

const enh_dw_isa FN(enh_dw_isa) = {.name = ISA_NAME, .vw = VW, .units = FN(dw_units)};
