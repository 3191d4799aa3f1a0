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
#define ELT_CHUNK 16384    /* floats per eltwise unit */

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

/* ---- eltwise: one unit = one row (image, row, channel), computed by the reference on slices */
#define ELT_MAX_INPUTS 64

typedef struct {
    enh_eltop op;
    const float *coeffs;
    const float *const *ins;
    int count;
    enh_shape s;
    float *out;
} elt_job;

static void elt_rows(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const elt_job *j = vctx;
    const enh_shape s = j->s;
    for (size_t u = begin; u < end; u++) {
        size_t by = u / (size_t)s.c; /* b * h + y */
        size_t c = u % (size_t)s.c, b = by / (size_t)s.h, y = by % (size_t)s.h;
        size_t off = ((b * s.c + c) * s.h + y) * s.w;
        const float *slice[ELT_MAX_INPUTS];
        for (int k = 0; k < j->count; k++)
            slice[k] = j->ins[k] + off;
        enh_eltwise_ref(j->op, j->coeffs, slice, j->count, 1, (enh_shape){1, 1, s.w}, j->out + off);
    }
}

void enh_eltwise(enh_eltop op, const float *coeffs, const float *const *ins, int count, int n, enh_shape s,
                 float *out, enh_pool *pool)
{
    if (count > ELT_MAX_INPUTS) { /* no model has that many; stay correct, single-threaded */
        enh_eltwise_ref(op, coeffs, ins, count, n, s, out);
        return;
    }
    elt_job j = {op, coeffs, ins, count, s, out};
    enh_pool_run(pool_or_default(pool), (size_t)n * s.h * s.c, ROW_GRAIN, elt_rows, &j);
}

/* ---- concat: one unit = ELT_CHUNK consecutive output values. Per image, the output is
 * `outer` rows, each the concatenation of one block of every input. */
typedef struct {
    const float *const *ins;
    const enh_shape *shapes;
    const size_t *start; /* count + 1 prefix sums of the block sizes: start[count] = row length */
    const size_t *cstart; /* axis 0: count + 1 prefix sums of the channel counts */
    int count;
    size_t outer, total;
    enh_shape so;
    float *out;
} cat_job;

static void cat_chunks(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const cat_job *j = vctx;
    const size_t row = j->start[j->count], img = j->outer * row;
    size_t i = begin * ELT_CHUNK, i1 = end * ELT_CHUNK < j->total ? end * ELT_CHUNK : j->total;
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

/* channel concat: one unit = one output row (image, row, output channel) */
static void cat_channel_rows(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const cat_job *j = vctx;
    const enh_shape so = j->so;
    for (size_t u = begin; u < end; u++) {
        size_t by = u / (size_t)so.c;
        size_t c = u % (size_t)so.c, b = by / (size_t)so.h, y = by % (size_t)so.h;
        int k = 0;
        while (j->cstart[k + 1] <= c)
            k++;
        enh_shape s = j->shapes[k];
        const float *src = j->ins[k] + ((b * s.c + (c - j->cstart[k])) * s.h + y) * s.w;
        memcpy(j->out + ((b * so.c + c) * so.h + y) * so.w, src, (size_t)so.w * sizeof *src);
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
    cat_job j = {ins, shapes, start, NULL, count, outer, (size_t)n * so.c * so.h * so.w, so, out};
    if (axis == 0) { /* rows, in image order: keeps each thread on its band */
        size_t *cstart = malloc(((size_t)count + 1) * sizeof *cstart);
        if (cstart) {
            cstart[0] = 0;
            for (int k = 0; k < count; k++)
                cstart[k + 1] = cstart[k] + (size_t)shapes[k].c;
            j.cstart = cstart;
            enh_pool_run(pool_or_default(pool), (size_t)n * so.h * so.c, ROW_GRAIN, cat_channel_rows, &j);
            free(cstart);
            free(start);
            return;
        }
    }
    enh_pool_run(pool_or_default(pool), (j.total + ELT_CHUNK - 1) / ELT_CHUNK, 1, cat_chunks, &j);
    free(start);
}
