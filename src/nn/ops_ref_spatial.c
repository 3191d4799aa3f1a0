/* ops_ref_spatial.c - reference resize (Interp), pooling and transposed convolution
 * (see ops_ref.h). Interp follows ncnn: nearest = floor(dst / scale) (ONNX asymmetric /
 * floor); bilinear and bicubic (A = -0.75) use half-pixel centres with the source index
 * clamped at the borders (ONNX half_pixel, edge extension), or align_corners. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "nn/ops_ref.h"

/* ---------------- Interp ---------------- */
/* the taps of one output coordinate along one axis */
typedef struct {
    int n, idx[4];
    double wt[4];
} tapset;

typedef struct {
    const enh_node *node;
    const float *in;
    float *out;
    enh_shape s, os;
    tapset *ty, *tx; /* per output row / column */
    int nearest;
    size_t planes; /* n * c */
} interp_job;

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* taps for one output coordinate: up to 4 source indices and weights */
static int taps(const enh_node *node, int in, int out, int d, int idx[4], double wt[4], float scale_given)
{
    enh_interp_mode mode = node->p.interp.mode;
    if (mode == ENH_INTERP_NEAREST) {
        float r = (node->p.interp.out_h || node->p.interp.out_w) ? (float)in / (float)out : 1.f / scale_given;
        idx[0] = clampi((int)((float)d * r), 0, in - 1);
        wt[0] = 1.0;
        return 1;
    }
    double scale = (double)in / out;
    float fx;
    if (node->p.interp.align_corners)
        fx = out > 1 ? (float)(d * ((double)(in - 1) / (out - 1))) : 0.f;
    else
        fx = (float)((d + 0.5) * scale - 0.5);
    int sx = (int)floorf(fx);
    float t = fx - (float)sx;
    if (mode == ENH_INTERP_BILINEAR) {
        if (sx < 0) {
            sx = 0;
            t = 0.f;
        }
        if (sx >= in - 1) {
            sx = in - 1;
            t = 0.f;
        }
        idx[0] = sx;
        idx[1] = clampi(sx + 1, 0, in - 1);
        wt[0] = 1.0 - t;
        wt[1] = t;
        return 2;
    }
    const float A = -0.75f;
    float x0 = t + 1, x1 = t, x2 = 1 - t;
    float c0 = A * x0 * x0 * x0 - 5 * A * x0 * x0 + 8 * A * x0 - 4 * A;
    float c1 = (A + 2) * x1 * x1 * x1 - (A + 3) * x1 * x1 + 1;
    float c2 = (A + 2) * x2 * x2 * x2 - (A + 3) * x2 * x2 + 1;
    float c3 = 1.f - c0 - c1 - c2;
    float cs[4] = {c0, c1, c2, c3};
    for (int k = 0; k < 4; k++) {
        idx[k] = clampi(sx - 1 + k, 0, in - 1);
        wt[k] = cs[k];
    }
    return 4;
}

int enh_interp_is_nearest_by(const enh_node *node, enh_shape s, enh_shape os, int r)
{
    if (node->op != ENH_OP_INTERP || node->p.interp.mode != ENH_INTERP_NEAREST || r < 1 || os.c != s.c ||
        os.h != s.h * r || os.w != s.w * r)
        return 0;
    int idx[4];
    double wt[4];
    for (int d = 0; d < os.h; d++)
        if (taps(node, s.h, os.h, d, idx, wt, node->p.interp.scale_h) != 1 || idx[0] != d / r)
            return 0;
    for (int d = 0; d < os.w; d++)
        if (taps(node, s.w, os.w, d, idx, wt, node->p.interp.scale_w) != 1 || idx[0] != d / r)
            return 0;
    return 1;
}

/* taps of every output coordinate along one axis, computed once per call */
static tapset *tap_table(const enh_node *nd, int in, int out, float scale_given)
{
    tapset *t = malloc((size_t)out * sizeof *t);
    if (t)
        for (int d = 0; d < out; d++)
            t[d].n = taps(nd, in, out, d, t[d].idx, t[d].wt, scale_given);
    return t;
}

/* The taps of output row y / column x: from the tables, or computed here when there was no
 * memory for them. */
static const tapset *tap_y(const interp_job *j, int y, tapset *tmp)
{
    if (j->ty)
        return &j->ty[y];
    tmp->n = taps(j->node, j->s.h, j->os.h, y, tmp->idx, tmp->wt, j->node->p.interp.scale_h);
    return tmp;
}

static const tapset *tap_x(const interp_job *j, int x, tapset *tmp)
{
    if (j->tx)
        return &j->tx[x];
    tmp->n = taps(j->node, j->s.w, j->os.w, x, tmp->idx, tmp->wt, j->node->p.interp.scale_w);
    return tmp;
}

/* units are output rows (y * planes + plane), so even a 3-plane RGB resize keeps every
 * thread busy, and each thread of the pool gets a band of rows */
static void interp_rows(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const interp_job *j = vctx;
    tapset ty_tmp, tx_tmp;
    for (size_t u = begin; u < end; u++) {
        size_t t = u % j->planes; /* row-major: a pool lane is a band of rows */
        int y = (int)(u / j->planes);
        const float *src = j->in + t * (size_t)j->s.h * j->s.w;
        float *dst = j->out + t * (size_t)j->os.h * j->os.w + (size_t)y * j->os.w;
        const tapset *ty = tap_y(j, y, &ty_tmp);
        if (j->nearest) {
            const float *row = src + (size_t)ty->idx[0] * j->s.w;
            for (int x = 0; x < j->os.w; x++)
                dst[x] = row[tap_x(j, x, &tx_tmp)->idx[0]];
            continue;
        }
        for (int x = 0; x < j->os.w; x++) {
            const tapset *tx = tap_x(j, x, &tx_tmp);
            double acc = 0;
            for (int a = 0; a < ty->n; a++) {
                double row = 0;
                for (int b = 0; b < tx->n; b++)
                    row += tx->wt[b] * src[(size_t)ty->idx[a] * j->s.w + tx->idx[b]];
                acc += ty->wt[a] * row;
            }
            dst[x] = (float)acc;
        }
    }
}

void enh_interp_ref(const enh_node *node, const float *in, int n, enh_shape s, enh_shape os, float *out,
                    enh_pool *pool)
{
    interp_job j = {node, in, out, s, os, NULL, NULL, node->p.interp.mode == ENH_INTERP_NEAREST, (size_t)n * s.c};
    j.ty = tap_table(node, s.h, os.h, node->p.interp.scale_h); /* NULL (no memory): taps computed per use */
    j.tx = tap_table(node, s.w, os.w, node->p.interp.scale_w);
    enh_pool_run(pool ? pool : enh_pool_default(), (size_t)n * s.c * os.h, 16, interp_rows, &j);
    free(j.ty);
    free(j.tx);
}

/* ---------------- Pooling ---------------- */
typedef struct {
    const enh_node *node;
    const float *in;
    float *out;
    enh_shape s, os;
} pool_job;

static void pool_planes(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const pool_job *j = vctx;
    const enh_node *nd = j->node;
    int h = j->s.h, w = j->s.w;
    for (size_t t = begin; t < end; t++) {
        const float *src = j->in + t * (size_t)h * w;
        float *dst = j->out + t * (size_t)j->os.h * j->os.w;
        if (nd->p.pool.global) {
            double acc = nd->p.pool.max ? -DBL_MAX : 0.0;
            for (size_t i = 0; i < (size_t)h * w; i++)
                acc = nd->p.pool.max ? (src[i] > acc ? src[i] : acc) : acc + src[i];
            dst[0] = (float)(nd->p.pool.max ? acc : acc / ((double)h * w));
            continue;
        }
        int pt, pb, pl, pr, oh, ow;
        enh_pool_resolve(nd, h, w, &pt, &pb, &pl, &pr, &oh, &ow);
        int kh = nd->p.pool.kh, kw = nd->p.pool.kw;
        /* padded extent the explicit pads cover (tail padding of "full" mode excluded) */
        int pad_h_end = h + nd->p.pool.pb + (nd->p.pool.pad_mode >= 2 ? pb - nd->p.pool.pb : 0);
        int pad_w_end = w + nd->p.pool.pr + (nd->p.pool.pad_mode >= 2 ? pr - nd->p.pool.pr : 0);
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double acc = nd->p.pool.max ? -DBL_MAX : 0.0;
                int count = 0, padded = 0;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = y * nd->p.pool.sh - pt + ky;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = x * nd->p.pool.sw - pl + kx;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                            if (iy < pad_h_end && ix < pad_w_end)
                                padded++;
                            continue;
                        }
                        float v = src[(size_t)iy * w + ix];
                        if (nd->p.pool.max)
                            acc = v > acc ? v : acc;
                        else
                            acc += v;
                        count++;
                    }
                }
                if (!nd->p.pool.max) {
                    int div = nd->p.pool.count_include_pad ? count + padded : count;
                    acc = div ? acc / div : 0.0;
                }
                dst[(size_t)y * ow + x] = (float)acc;
            }
    }
}

void enh_pool2d_ref(const enh_node *node, const float *in, int n, enh_shape s, enh_shape so, float *out,
                    enh_pool *pool)
{
    pool_job j = {node, in, out, s, so};
    enh_pool_run(pool ? pool : enh_pool_default(), (size_t)n * s.c, 1, pool_planes, &j);
}

/* ---------------- Deconvolution ----------------
 * full[o][iy*sh + ky*dh][ix*sw + kx*dw] += w[o][i][ky][kx] * in[i][iy][ix]; the output is
 * full cropped by (pt, pl) with size from shape inference, then the activation. */
typedef struct {
    const enh_node *node;
    const float *in;
    float *out;
    enh_shape s, os;
} deconv_job;

static void deconv_planes(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const deconv_job *j = vctx;
    const enh_node *nd = j->node;
    const int cout = nd->p.conv.cout, groups = nd->p.conv.groups;
    const int cin_g = nd->p.conv.cin / groups, cout_g = cout / groups;
    const int kh = nd->p.conv.kh, kw = nd->p.conv.kw;
    for (size_t t = begin; t < end; t++) {
        int b = (int)(t / (size_t)cout), o = (int)(t % (size_t)cout), g = o / cout_g;
        float *dst = j->out + t * (size_t)j->os.h * j->os.w;
        for (int y = 0; y < j->os.h; y++)
            for (int x = 0; x < j->os.w; x++) {
                int fy = y + nd->p.conv.pt, fx = x + nd->p.conv.pl;
                double acc = nd->p.conv.bias ? nd->p.conv.bias[o] : 0.0;
                for (int i = 0; i < cin_g; i++) {
                    const float *src = j->in + ((size_t)b * nd->p.conv.cin + (size_t)g * cin_g + i) * j->s.h * j->s.w;
                    const float *wk = nd->p.conv.weight + ((size_t)o * cin_g + i) * kh * kw;
                    for (int ky = 0; ky < kh; ky++) {
                        int ny = fy - ky * nd->p.conv.dh;
                        if (ny < 0 || ny % nd->p.conv.sh)
                            continue;
                        int iy = ny / nd->p.conv.sh;
                        if (iy >= j->s.h)
                            continue;
                        for (int kx = 0; kx < kw; kx++) {
                            int nx = fx - kx * nd->p.conv.dw;
                            if (nx < 0 || nx % nd->p.conv.sw)
                                continue;
                            int ix = nx / nd->p.conv.sw;
                            if (ix >= j->s.w)
                                continue;
                            acc += (double)wk[ky * kw + kx] * src[(size_t)iy * j->s.w + ix];
                        }
                    }
                }
                dst[(size_t)y * j->os.w + x] = enh_act_one(&nd->act, o, (float)acc);
            }
    }
}

void enh_deconv_ref(const enh_node *node, const float *in, int n, enh_shape s, enh_shape so, float *out,
                    enh_pool *pool)
{
    deconv_job j = {node, in, out, s, so};
    enh_pool_run(pool ? pool : enh_pool_default(), (size_t)n * node->p.conv.cout, 1, deconv_planes, &j);
}
