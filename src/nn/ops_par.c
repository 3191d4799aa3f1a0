/* ops_par.c - pool-parallel layout and element-wise ops (see ops_par.h). Each splits its
 * output into independent rows or chunks and computes every element exactly as the
 * reference does. Units are ordered row-major over the image (image, row, channel), so
 * the pool's per-thread lanes (pool.h) give each thread a horizontal band of the image,
 * the band it wrote in the convolutions before (their blocks are ordered by tile row too). */
#include <stdlib.h>
#include <string.h>

#include "nn/ops_par.h"
#include "nn/ops_ref.h"

#define ROW_GRAIN 16       /* output rows per pool chunk */
#define CAT_CHUNK 16384    /* output floats per unit of an H or W concat */

static enh_pool *pool_or_default(enh_pool *pool) { return pool ? pool : enh_pool_default(); }

/* ---- pixel shuffle: one unit = one output row */
typedef struct {
    const float *in;
    float *out;
    enh_shape s;
    int r, dcr, oc;
} ps_job;

static void ps_rows(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const ps_job *j = vctx;
    const int r = j->r, oh = j->s.h * r, ow = j->s.w * r;
    for (size_t u = begin; u < end; u++) {
        size_t by = u / (size_t)j->oc; /* b * oh + oy */
        int p = (int)(u % (size_t)j->oc), b = (int)(by / (size_t)oh), oy = (int)(by % (size_t)oh);
        int y = oy / r, i = oy % r;
        float *dst = j->out + (((size_t)b * j->oc + p) * oh + oy) * ow;
        for (int jj = 0; jj < r; jj++) {
            int q = j->dcr ? (i * r + jj) * j->oc + p : p * r * r + i * r + jj;
            const float *src = j->in + (((size_t)b * j->s.c + q) * j->s.h + y) * j->s.w;
            for (int x = 0; x < j->s.w; x++)
                dst[(size_t)x * r + jj] = src[x];
        }
    }
}

void enh_pixelshuffle(const float *in, int n, enh_shape s, int r, int dcr, float *out, enh_pool *pool)
{
    ps_job j = {in, out, s, r, dcr, s.c / (r * r)};
    enh_pool_run(pool_or_default(pool), (size_t)n * j.oc * s.h * r, ROW_GRAIN, ps_rows, &j);
}

/* ---- binary with broadcasting: one unit = one output row */
typedef struct {
    enh_binop op;
    const float *a, *b;
    enh_shape sa, sb, so;
    float scalar;
    float *out;
} bin_job;

static void bin_rows(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const bin_job *j = vctx;
    const enh_shape sa = j->sa, sb = j->sb, so = j->so;
    const size_t asz = (size_t)sa.c * sa.h * sa.w, bsz = (size_t)sb.c * sb.h * sb.w;
    for (size_t u = begin; u < end; u++) {
        size_t ky = u / (size_t)so.c; /* k * so.h + y */
        int c = (int)(u % (size_t)so.c), k = (int)(ky / (size_t)so.h), y = (int)(ky % (size_t)so.h);
        const float *arow = j->a + k * asz + ((size_t)(sa.c == 1 ? 0 : c) * sa.h + (sa.h == 1 ? 0 : y)) * sa.w;
        const float *brow = j->b ? j->b + k * bsz + ((size_t)(sb.c == 1 ? 0 : c) * sb.h + (sb.h == 1 ? 0 : y)) * sb.w
                                 : NULL;
        float *o = j->out + (((size_t)k * so.c + c) * so.h + y) * so.w;
        int as = sa.w == 1 ? 0 : 1, bs = sb.w == 1 ? 0 : 1;
        if (j->op == ENH_BIN_ADD && brow && as && bs) { /* the common residual add, vectorisable */
            for (int x = 0; x < so.w; x++)
                o[x] = arow[x] + brow[x];
            continue;
        }
        for (int x = 0; x < so.w; x++)
            o[x] = enh_bin_one(j->op, arow[as * x], brow ? brow[bs * x] : j->scalar);
    }
}

void enh_binary(enh_binop op, const float *a, enh_shape sa, const float *b, enh_shape sb, float scalar, int n,
                enh_shape so, float *out, enh_pool *pool)
{
    bin_job j = {op, a, b, sa, sb, so, scalar, out};
    enh_pool_run(pool_or_default(pool), (size_t)n * so.c * so.h, ROW_GRAIN, bin_rows, &j);
}

/* ---- bands: for the ops that copy or combine whole planes, a unit is a band of about
 * BAND_FLOATS values of one plane, ordered (image, band, channel). */
#define BAND_FLOATS 2048

typedef struct {
    int c, h, w, rows, nbands; /* per image: c planes of h x w, bands of `rows` rows */
} bands;

static bands bands_make(enh_shape s)
{
    bands g = {s.c, s.h, s.w, s.w >= BAND_FLOATS ? 1 : BAND_FLOATS / s.w, 0};
    if (g.rows > s.h)
        g.rows = s.h;
    g.nbands = (s.h + g.rows - 1) / g.rows;
    return g;
}

/* unit u -> image b, channel c, and the band's offset inside the plane and length */
static void band_of(const bands *g, size_t u, size_t *b, size_t *c, size_t *off, size_t *len)
{
    size_t bb = u / (size_t)g->c;
    *c = u % (size_t)g->c;
    *b = bb / (size_t)g->nbands;
    int band = (int)(bb % (size_t)g->nbands), y0 = band * g->rows;
    int y1 = y0 + g->rows < g->h ? y0 + g->rows : g->h;
    *off = (size_t)y0 * g->w;
    *len = (size_t)(y1 - y0) * g->w;
}

/* ---- eltwise: one unit = one band; the reference's arithmetic, input by input, so the
 * inner loops vectorise and the results stay bit-identical */
#define ELT_MAX_INPUTS 64

typedef struct {
    enh_eltop op;
    const float *coeffs;
    const float *const *ins;
    int count;
    bands g;
    float *out;
} elt_job;

static void elt_bands(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const elt_job *j = vctx;
    const size_t plane = (size_t)j->g.h * j->g.w;
    for (size_t u = begin; u < end; u++) {
        size_t b, c, off, len;
        band_of(&j->g, u, &b, &c, &off, &len);
        off += (b * (size_t)j->g.c + c) * plane;
        float *restrict o = j->out + off;
        const float *x = j->ins[0] + off;
        if (j->op == ENH_ELT_SUM) {
            float c0 = j->coeffs ? j->coeffs[0] : 1.f;
            for (size_t i = 0; i < len; i++)
                o[i] = 0.f + c0 * x[i];
            for (int k = 1; k < j->count; k++) {
                const float *restrict xk = j->ins[k] + off;
                float ck = j->coeffs ? j->coeffs[k] : 1.f;
                for (size_t i = 0; i < len; i++)
                    o[i] += ck * xk[i];
            }
        } else {
            memcpy(o, x, len * sizeof *o);
            for (int k = 1; k < j->count; k++) {
                const float *restrict xk = j->ins[k] + off;
                if (j->op == ENH_ELT_PROD)
                    for (size_t i = 0; i < len; i++)
                        o[i] *= xk[i];
                else
                    for (size_t i = 0; i < len; i++)
                        o[i] = xk[i] > o[i] ? xk[i] : o[i];
            }
        }
    }
}

void enh_eltwise(enh_eltop op, const float *coeffs, const float *const *ins, int count, int n, enh_shape s,
                 float *out, enh_pool *pool)
{
    if (count > ELT_MAX_INPUTS || count < 1) { /* no model has that many; stay correct */
        enh_eltwise_ref(op, coeffs, ins, count, n, s, out);
        return;
    }
    elt_job j = {op, coeffs, ins, count, bands_make(s), out};
    enh_pool_run(pool_or_default(pool), (size_t)n * j.g.nbands * s.c, 1, elt_bands, &j);
}

/* ---- concat. Per image, the output is `outer` rows, each the concatenation of one block of
 * every input (channel concat: one row, the blocks are whole tensors). */
typedef struct {
    const float *const *ins;
    const enh_shape *shapes;
    const size_t *start; /* count + 1 prefix sums of the block sizes: start[count] = row length */
    int count;
    size_t outer, total;
    enh_shape so;
    bands g;
    float *out;
} cat_job;

/* H or W concat: one unit = CAT_CHUNK consecutive output values */
static void cat_chunks(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const cat_job *j = vctx;
    const size_t row = j->start[j->count], img = j->outer * row;
    size_t i = begin * CAT_CHUNK, i1 = end * CAT_CHUNK < j->total ? end * CAT_CHUNK : j->total;
    while (i < i1) {
        size_t b = i / img, r = i % img, o = r / row, t = r % row;
        int k = 0;
        while (j->start[k + 1] <= t)
            k++;
        size_t blk = j->start[k + 1] - j->start[k], off = t - j->start[k];
        size_t len = blk - off < i1 - i ? blk - off : i1 - i;
        enh_shape s = j->shapes[k];
        const float *src = j->ins[k] + b * (size_t)s.c * s.h * s.w + o * blk + off;
        memcpy(j->out + i, src, len * sizeof *src);
        i += len;
    }
}

/* channel concat: one unit = one band of one output plane */
static void cat_channel_bands(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const cat_job *j = vctx;
    const size_t plane = (size_t)j->so.h * j->so.w;
    for (size_t u = begin; u < end; u++) {
        size_t b, c, off, len;
        band_of(&j->g, u, &b, &c, &off, &len);
        int k = 0; /* the input holding channel c: blocks are whole tensors of the same plane size */
        while (j->start[k + 1] <= c * plane)
            k++;
        const float *src = j->ins[k] + (b * (size_t)j->shapes[k].c + (c - j->start[k] / plane)) * plane + off;
        memcpy(j->out + (b * (size_t)j->so.c + c) * plane + off, src, len * sizeof *src);
    }
}

void enh_concat(int axis, const float *const *ins, const enh_shape *shapes, int count, int n, enh_shape so,
                float *out, enh_pool *pool)
{
    size_t *start = malloc(((size_t)count + 1) * sizeof *start);
    if (!start) { /* stay correct without the table */
        enh_concat_ref(axis, ins, shapes, count, n, so, out);
        return;
    }
    start[0] = 0;
    for (int k = 0; k < count; k++) {
        enh_shape s = shapes[k];
        start[k + 1] = start[k] + (axis == 0 ? (size_t)s.c * s.h * s.w : axis == 1 ? (size_t)s.h * s.w : (size_t)s.w);
    }
    size_t outer = axis == 0 ? 1 : axis == 1 ? (size_t)so.c : (size_t)so.c * so.h;
    cat_job j = {ins, shapes, start, count, outer, (size_t)n * so.c * so.h * so.w, so, bands_make(so), out};
    if (axis == 0) /* bands, in image order: keeps each thread on its part of the image */
        enh_pool_run(pool_or_default(pool), (size_t)n * j.g.nbands * so.c, 1, cat_channel_bands, &j);
    else
        enh_pool_run(pool_or_default(pool), (j.total + CAT_CHUNK - 1) / CAT_CHUNK, 1, cat_chunks, &j);
    free(start);
}
