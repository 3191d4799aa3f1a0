/* dwconv.c - depthwise conv plans (dwconv.h): which convs take the depthwise kernel, its
 * weights and epilogue (made once at plan creation), and a run over the pool.
 * Why a kernel of its own: the grouped im2col+GEMM path packs each 1-channel group into a
 * GEMM of MR rows (one of them real) and K = 9, so it spends most of its time on im2col and
 * padding (bench/README.md, "Depthwise convolution").
 * Thread-safety: plans are immutable; a run uses per-slot scratch from conv_scratch.c.
 * Errors: plan init only fails for memory (ENH_ENOMEM); a run never fails: without scratch it
 * runs the reference kernel on the plan's own weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/conv_plan_internal.h"
#include "nn/dwconv.h"

/* phase-split rows of one stride >= 2 pass: 64 KiB per thread, well inside L2 */
#define DW_SCRATCH_FLOATS 16384
/* stride-1 rows of at least this many vectors are read in place, narrower ones copied with zero
 * margins first: on a 14-wide map every vector is an edge vector (masked loads), and the copy
 * made the 14x14 and 7x7 layers of MobileNetV2 ~x faster (bench_mobilenet --verbose) */
#define DW_DIRECT_MIN_VECS 8
/* outputs a pool chunk should hold at least (a 7x7 map has 49 per channel) */
#define DW_CHUNK_OUTPUTS 2048

int enh_dw_applies(const enh_conv_params *p)
{
    return p->groups > 1 && p->groups == p->cin && p->cout == p->cin && p->kw <= ENH_DW_MAX_KW;
}

/* AVX-512 CPUs run the AVX2 kernel (no AVX-512 depthwise kernel: this project's test machine
 * has no AVX-512 to check one on). */
static const enh_dw_isa *dw_isa(enh_isa isa)
{
    return isa == ENH_ISA_AVX512 || isa == ENH_ISA_AVX2 ? &enh_dw_isa_avx2 : &enh_dw_isa_portable;
}

int enh_dw_plan_init(enh_conv_plan *pl, enh_isa isa)
{
    const enh_conv_params *p = &pl->p;
    const int C = p->cout, taps = p->kh * p->kw;
    pl->wpack = enh_alloc((size_t)C * taps * sizeof(float));
    pl->fbias = enh_calloc((size_t)C, sizeof(float));
    pl->fslope = enh_calloc((size_t)C, sizeof(float));
    if (!pl->wpack || !pl->fbias || !pl->fslope)
        return 0;
    memcpy(pl->wpack, p->weight, (size_t)C * taps * sizeof(float)); /* OIHW with I = 1: [c][kh][kw] */
    pl->npack = (size_t)C * taps;
    enh_dw_conv *c = &pl->dwc;
    *c = (enh_dw_conv){.c = C, .kh = p->kh, .kw = p->kw, .sh = p->stride_h, .sw = p->stride_w,
                       .dh = p->dil_h, .dw = p->dil_w, .pt = p->pad_top, .pl = p->pad_left,
                       .act = p->act == ENH_ACT_NONE ? 0 : p->act == ENH_ACT_CLIP ? 2 : 1,
                       .lo = p->clip_lo, .hi = p->clip_hi, .w = pl->wpack, .bias = pl->fbias,
                       .slope = pl->fslope};
    for (int ch = 0; ch < C; ch++) {
        pl->fbias[ch] = p->bias ? p->bias[ch] : 0.0f;
        pl->fslope[ch] = p->act == ENH_ACT_LEAKY   ? p->act_slope
                         : p->act == ENH_ACT_PRELU ? p->prelu[p->prelu_count == 1 ? 0 : ch]
                                                   : 0.0f;
    }
    /* the plan's params now point at its own copies: the reference kernel can run them when a
     * run finds no scratch */
    pl->p.weight = pl->wpack;
    pl->p.bias = pl->fbias;
    if (p->act == ENH_ACT_PRELU) {
        pl->p.prelu = pl->fslope;
        pl->p.prelu_count = C;
    }
    pl->dwisa = dw_isa(isa);
    snprintf(pl->name, sizeof pl->name, "%s-dw%s", pl->dwisa->name, p->kh == 3 && p->kw == 3 ? "3x3" : "");
    return 1;
}

typedef struct {
    enh_dw_job job;
    enh_dw_fn fn;
} dw_ctx;

static void dw_range(void *vctx, size_t begin, size_t end, int slot)
{
    const dw_ctx *r = vctx;
    r->fn(&r->job, begin, end, r->job.scratch ? r->job.scratch[slot] : NULL);
}

void enh_dw_plan_run(const enh_conv_plan *pl, const float *in, int n, int h, int w, float *out,
                     const float *residual, enh_pool *pool)
{
    const enh_dw_conv *c = &pl->dwc;
    int oh, ow;
    enh_conv_out_size(&pl->p, h, w, &oh, &ow);
    if (n <= 0 || oh <= 0 || ow <= 0)
        return;
    if (!pool)
        pool = enh_pool_default();
    const int nt = enh_pool_threads(pool), vw = pl->dwisa->vw;
    dw_ctx r = {.job = {.c = c, .in = in, .out = out, .res = residual, .n = n, .h = h, .w = w, .oh = oh,
                        .ow = ow},
                .fn = pl->dwisa->units};
    /* one band per thread: with the pool's contiguous lanes each thread keeps its band of the
     * image (all channels), as the GEMM convs before and after it do */
    int nb = nt < oh ? nt : oh;
    r.job.band = (oh + nb - 1) / nb;
    r.job.nbands = (oh + r.job.band - 1) / r.job.band;
    size_t units = (size_t)n * r.job.nbands * c->c;
    size_t per_unit = (size_t)r.job.band * ow, grain = DW_CHUNK_OUTPUTS / per_unit;
    grain = grain < 1 ? 1 : grain > (size_t)c->c ? (size_t)c->c : grain;
    r.job.direct = c->sw == 1 && w >= DW_DIRECT_MIN_VECS * vw;
    if (r.job.direct) { /* reads its rows in place: no scratch */
        enh_pool_run(pool, units, grain, dw_range, &r);
        return;
    }
    int ml, len;
    enh_dw_phase_geom(c, ow, vw, &ml, &len);
    size_t rs = (size_t)c->sw * len;
    int halo = (c->kh - 1) * c->dh + 1, rows = (int)(DW_SCRATCH_FLOATS / rs);
    int sub = rows > halo ? (rows - halo) / c->sh + 1 : 1;
    r.job.sub = sub < r.job.band ? sub : r.job.band;
    size_t need = ((size_t)(r.job.sub - 1) * c->sh + halo) * rs;
    enh_conv_slots slots;
    if (enh_conv_slots_acquire(&slots, nt + 1, need)) {
        r.job.scratch = slots.bufs;
        enh_pool_run(pool, units, grain, dw_range, &r);
        enh_conv_slots_release(&slots);
        return;
    }
    /* out of memory: the reference kernel needs no scratch */
    enh_conv2d_ref(&pl->p, in, n, h, w, out, residual, pool);
}
