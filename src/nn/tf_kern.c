/* tf_kern.c - the fused steps (tf_kern.h): Dense and convolutions through the packed GEMM
 * (gemm.h), element-wise programs (tf_ew.h) and sparse axis mixes. */
#include "nn/tf_kern.h"

#include <string.h>

#include "core/mem.h"
#include "nn/tf_ew.h"

/* im2col chunks stay under this many floats (8 MB: in L3 with the GEMM's packed panels). */
#define IM2COL_FLOATS ((size_t)2 << 20)

typedef struct {
    const tf_step *s;
    const float *x;
    float *col;
    int H, W, C, OW, p0; /* p0: first output pixel of the chunk */
} col_ctx;

static void im2col_rows(void *c_, size_t r0, size_t r1, int slot)
{
    (void)slot;
    const col_ctx *c = c_;
    const tf_step *s = c->s;
    int K = s->kh * s->kw * c->C;
    for (size_t r = r0; r < r1; r++) {
        int pix = c->p0 + (int)r, oy = pix / c->OW, ox = pix % c->OW;
        float *dst = c->col + r * (size_t)K;
        for (int ky = 0; ky < s->kh; ky++) {
            int iy = oy * s->sh + ky - s->pt;
            for (int kx = 0; kx < s->kw; kx++) {
                int ix = ox * s->sw + kx - s->pl;
                float *d = dst + ((size_t)ky * s->kw + kx) * c->C;
                if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W)
                    memset(d, 0, (size_t)c->C * sizeof *d);
                else
                    memcpy(d, c->x + ((size_t)iy * c->W + ix) * c->C, (size_t)c->C * sizeof *d);
            }
        }
    }
}

static enh_status run_conv(const tf_plan *p, const tf_step *s, const float *x, const float *res, float *out,
                     const enh_gemm_epi *epi, enh_pool *pool)
{
    const tf_shape *xs = &p->val[s->in[0]].s, *os = &p->val[s->node].s;
    int B = xs->d[0], H = xs->d[1], W = xs->d[2], C = xs->d[3], OH = os->d[1], OW = os->d[2], N = os->d[3];
    int K = s->kh * s->kw * C;
    size_t pix = (size_t)OH * OW;
    size_t chunk = IM2COL_FLOATS / (size_t)K;
    if (chunk < 64)
        chunk = 64;
    if (chunk > pix)
        chunk = pix;
    float *col = enh_alloc(chunk * (size_t)K * sizeof *col);
    if (!col) { /* no memory for the chunk: one output pixel at a time still works */
        chunk = 1;
        col = enh_alloc((size_t)K * sizeof *col);
        if (!col)
            return ENH_ENOMEM;
    }
    for (int b = 0; b < B; b++)
        for (size_t p0 = 0; p0 < pix; p0 += chunk) {
            size_t n = pix - p0 < chunk ? pix - p0 : chunk;
            col_ctx c = {s, x + (size_t)b * H * W * C, col, H, W, C, OW, (int)p0};
            if (pool && n >= 64)
                enh_pool_run(pool, n, 32, im2col_rows, &c);
            else
                im2col_rows(&c, 0, n, 0);
            enh_gemm_epi e = *epi;
            size_t o = ((size_t)b * pix + p0) * N;
            if (res)
                e.residual = res + o, e.ldr = N;
            enh_gemm_run(s->gemm, col, (int)n, K, out + o, N, &e, pool);
        }
    enh_free(col);
    return ENH_OK;
}

typedef struct {
    const tf_step *s;
    const float *tmp, *bias;
    float *out;
    int H, W, CO;
} dc_ctx;

static void deconv_scatter(void *c_, size_t r0, size_t r1, int slot)
{
    (void)slot;
    const dc_ctx *c = c_;
    int kh = c->s->kh, kw = c->s->kw, CO = c->CO, OW = c->W * kw;
    size_t N = (size_t)kh * kw * CO;
    for (size_t r = r0; r < r1; r++) { /* r = b * H + i: one input row */
        size_t b = r / (size_t)c->H, i = r % (size_t)c->H;
        for (int j = 0; j < c->W; j++) {
            const float *t = c->tmp + (r * (size_t)c->W + (size_t)j) * N;
            for (int dy = 0; dy < kh; dy++)
                for (int dx = 0; dx < kw; dx++) {
                    float *o = c->out + (((b * c->H + i) * kh + (size_t)dy) * OW + (size_t)j * kw + dx) * CO;
                    const float *tt = t + ((size_t)dy * kw + dx) * CO;
                    if (c->bias)
                        for (int k = 0; k < CO; k++)
                            o[k] = tt[k] + c->bias[k];
                    else
                        memcpy(o, tt, (size_t)CO * sizeof *o);
                }
        }
    }
}

static enh_status run_deconv(const tf_plan *p, const tf_step *s, const float *x, float *out, enh_pool *pool)
{
    const tf_shape *xs = &p->val[s->in[0]].s;
    int B = xs->d[0], H = xs->d[1], W = xs->d[2];
    size_t M = (size_t)B * H * W, N = (size_t)s->kh * s->kw * s->cout;
    float *tmp = enh_alloc(M * N * sizeof *tmp);
    if (!tmp)
        return ENH_ENOMEM;
    enh_gemm_run(s->gemm, x, (int)M, s->cin, tmp, (int)N, NULL, pool);
    dc_ctx c = {s, tmp, s->bias, out, H, W, s->cout};
    if (pool)
        enh_pool_run(pool, (size_t)B * H, 1, deconv_scatter, &c);
    else
        deconv_scatter(&c, 0, (size_t)B * H, 0);
    enh_free(tmp);
    return ENH_OK;
}

typedef struct {
    const tf_step *s;
    const float *x;
    float *out;
} red_ctx;

/* out[o, i] = scale * sum_r x[o, r, i]; jobs are (o, band of i) pairs, sums in double. */
static void reduce_jobs(void *c_, size_t j0, size_t j1, int slot)
{
    (void)slot;
    const red_ctx *c = c_;
    const tf_step *s = c->s;
    long R = s->r_red, I = s->r_inner;
    long bands = (I + 63) / 64;
    for (size_t j = j0; j < j1; j++) {
        long o = (long)j / bands, i0 = ((long)j % bands) * 64, ni = I - i0 < 64 ? I - i0 : 64;
        double acc[64] = {0};
        const float *x = c->x + (size_t)o * R * I + i0;
        if (I == 1) { /* a row: float partial sums in 8 lanes (vectorised), added in double */
            float part[8] = {0};
            long r = 0;
            if (s->r_square)
                for (; r + 8 <= R; r += 8)
                    for (int k = 0; k < 8; k++)
                        part[k] += x[r + k] * x[r + k];
            else
                for (; r + 8 <= R; r += 8)
                    for (int k = 0; k < 8; k++)
                        part[k] += x[r + k];
            double a0 = 0;
            for (int k = 0; k < 8; k++)
                a0 += part[k];
            for (; r < R; r++)
                a0 += s->r_square ? (double)x[r] * x[r] : x[r];
            acc[0] = a0;
        } else if (s->r_square)
            for (long r = 0; r < R; r++)
                for (long i = 0; i < ni; i++)
                    acc[i] += (double)x[r * I + i] * x[r * I + i];
        else
            for (long r = 0; r < R; r++)
                for (long i = 0; i < ni; i++)
                    acc[i] += x[r * I + i];
        for (long i = 0; i < ni; i++)
            c->out[(size_t)o * I + i0 + i] = (float)(acc[i] * s->r_scale);
    }
}

void tf_reduce_run(const tf_step *s, const float *x, float *out, enh_pool *pool)
{
    red_ctx c = {s, x, out};
    size_t jobs = (size_t)s->r_outer * (size_t)((s->r_inner + 63) / 64);
    size_t work = (size_t)s->r_outer * s->r_red * s->r_inner;
    if (!pool || work < 32768)
        reduce_jobs(&c, 0, jobs, 0);
    else
        enh_pool_run(pool, jobs, jobs / 64 + 1, reduce_jobs, &c);
}

enh_status tf_kern_run(const tf_plan *p, const tf_step *s, const void *const *in, const void *residual, void *out,
                       enh_pool *pool)
{
    enh_gemm_epi epi = {.act = (enh_gemm_act)s->act, .alpha = s->alpha};
    switch (s->kind) {
    case TFS_DENSE: {
        int K = enh_gemm_b_k(s->gemm), N = enh_gemm_b_n(s->gemm);
        size_t M = tf_shape_count(&p->val[s->in[0]].s) / (size_t)K;
        if (residual)
            epi.residual = residual, epi.ldr = N;
        enh_gemm_run(s->gemm, in[0], (int)M, K, out, N, &epi, pool);
        break;
    }
    case TFS_CONV:
        return run_conv(p, s, in[0], residual, out, &epi, pool);
    case TFS_DECONV:
        return run_deconv(p, s, in[0], out, pool);
    case TFS_EW:
        if (tf_ew_is_copy(s->ew))
            tf_copy_run(s->ew, in[0], out, pool);
        else
            tf_ew_run(s->ew, in, out, pool);
        break;
    case TFS_CONCAT:
        tf_concat_run(p, s, in, out, pool);
        break;
    case TFS_LAYERNORM:
        tf_layernorm_run(s, in[0], out, pool);
        break;
    case TFS_REDUCE:
        tf_reduce_run(s, in[0], out, pool);
        break;
    case TFS_AXISMIX:
        tf_axismix_run(s->mix, in[0], out, pool);
        break;
    default:
        break;
    }
    return ENH_OK;
}
