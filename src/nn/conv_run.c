/* conv_run.c - running conv plans (conv.h): the blocks of a layer go through the pool, each
 * with its slot's scratch; a post hook sees every finished block (ps_tail.h, elt_tail.h); the
 * next plan's weights are prefetched meanwhile; dense-block chains share their input
 * transforms (enh_conv_vcache). A run never fails: without scratch it waits for the reserve
 * and runs on the calling thread. Thread-safety: plans are read-only; a vcache is the caller's. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/conv_plan_internal.h"

typedef struct {
    enh_fast_job job;
    enh_fast_fn fn;
    int wino, vw;
    enh_conv_post_fn post;
    void *post_ctx;
    unsigned seq;
    size_t per_thread; /* blocks a thread can expect (for its share of the next weights) */
} run_ctx;

/* The output boxes blocks [b0, b1) wrote (see wino_blocks / gemm_blocks for the numbering). */
static void post_blocks(const run_ctx *r, size_t b0, size_t b1)
{
    const enh_fast_job *j = &r->job;
    const int ng = j->c->ng, oh = j->oh, ow = j->ow;
    for (size_t blk = b0; blk < b1; blk++) {
        if (r->wino) { /* a group: 4 rows x 4*vw columns of one image */
            const size_t per_img = (size_t)j->th * j->gx, gw = 4 * (size_t)r->vw;
            for (size_t g = blk * ng; g < (blk + 1) * ng && g < j->ngroups; g++) {
                size_t rem = g % per_img;
                int y0 = (int)(rem / j->gx) * 4, x0 = (int)((rem % j->gx) * gw);
                int y1 = y0 + 4 < oh ? y0 + 4 : oh, x1 = x0 + (int)gw < ow ? x0 + (int)gw : ow;
                r->post(r->post_ctx, (int)(g / per_img), y0, y1, x0, x1);
            }
        } else { /* ng*vw consecutive pixels of the flattened output: one box per row touched */
            size_t opix = (size_t)oh * ow, tb = (size_t)ng * r->vw;
            size_t q = (blk % j->ngroups) * tb, qe = q + tb < opix ? q + tb : opix;
            while (q < qe) {
                int y = (int)(q / (size_t)ow), x0 = (int)(q % (size_t)ow);
                int x1 = (size_t)(ow - x0) < qe - q ? ow : x0 + (int)(qe - q);
                r->post(r->post_ctx, (int)(blk / j->ngroups), y, y + 1, x0, x1);
                q += (size_t)(x1 - x0);
            }
        }
    }
}

static _Atomic unsigned g_run_seq; /* numbers the runs, so a thread knows its first block of one */

static void run_range(void *vctx, size_t begin, size_t end, int slot)
{
    const run_ctx *r = vctx;
    static _Thread_local unsigned seen;
    static _Thread_local size_t done; /* blocks this thread ran in this run */
    enh_fast_job jb = r->job;
    jb.wpf = seen != r->seq; /* this layer's weights are not in this core's cache yet */
    if (jb.wpf)
        done = 0;
    seen = r->seq;
    if (jb.nx0 && r->per_thread > 1) {
        /* this call's part of the next weights: each thread fetches all of them (each core
         * needs them), spread over the blocks after its first one */
        size_t total = (size_t)(jb.nx1 - jb.nx0), share = (total + r->per_thread - 2) / (r->per_thread - 1);
        size_t from = done == 0 ? 0 : (done - 1) * share, to = (done + end - begin - 1) * share;
        from = from < total ? from : total;
        to = to < total ? to : total;
        jb.nx1 = jb.nx0 + to;
        jb.nx0 += from;
    } else {
        jb.nx0 = jb.nx1 = NULL;
    }
    done += end - begin;
    r->fn(&jb, begin, end, r->job.scratch[slot]);
    if (r->post)
        post_blocks(r, begin, end);
}

static void post_whole(int n, int oh, int ow, enh_conv_post_fn post, void *ctx)
{
    for (int b = 0; post && b < n; b++)
        post(ctx, b, 0, oh, 0, ow);
}

void enh_conv_plan_run(const enh_conv_plan *pl, const float *in, int n, int h, int w, float *out,
                       const float *residual, enh_pool *pool)
{
    enh_conv_plan_run_ex(pl, in, n, h, w, out, residual, pool, NULL, NULL, NULL, NULL, 0);
}

void enh_conv_vcache_free(enh_conv_vcache *vc)
{
    enh_free(vc->base);
    memset(vc, 0, sizeof *vc);
}

/* A transformed-input cache above this is not kept: it is 2.25x the chain's activations and
 * is read back by every conv, which pays only while it stays in the last-level cache.
 * x4plus (enhance bench, same runs): 64x64 (7 MB) 1 thread 273-308 vs 296-329 ms, 2 threads
 * 143-167 vs 167-194 ms; 128x128 (28 MB) 1 thread 1383-1541 vs 1267-1443 ms: slower. */
#define VCACHE_MAX_BYTES ((size_t)12 << 20)

/* Points job at the cache when this conv can use it (fp32 Winograd, the same blocks as the
 * convs that filled it); otherwise empties it, since the chain's later convs could not trust it. */
static void vcache_attach(const enh_conv_plan *pl, enh_conv_vcache *vc, int cmax, int n, int h, int w,
                          enh_fast_conv *c, size_t units, enh_fast_job *job)
{
    if (!vc)
        return;
    if (pl->algo != ENH_ALGO_WINO || !pl->wpack || cmax < pl->p.cin) {
        vc->done = 0;
        return;
    }
    if (vc->done > 0 && (vc->n != n || vc->h != h || vc->w != w))
        vc->done = 0;
    if (vc->done > 0)
        c->ng = vc->ng; /* the blocks the stored transforms belong to */
    size_t tb = (size_t)c->ng * pl->isa->vw, vps = (size_t)cmax * tb + PSPAD;
    size_t nblocks = (units + c->ng - 1) / c->ng, need = nblocks * 36 * vps;
    if (need * sizeof(float) > VCACHE_MAX_BYTES) {
        vc->done = 0;
        return;
    }
    if (vc->cap_floats < need) {
        enh_free(vc->base);
        vc->cap_floats = 0;
        vc->done = 0;
        if (!(vc->base = enh_alloc(need * sizeof(float))))
            return;
        vc->cap_floats = need;
    }
    job->vc = vc->base;
    job->vc_vps = vps;
    job->vc_done = vc->done < pl->p.cin ? vc->done : pl->p.cin;
}

void enh_conv_plan_run_ex(const enh_conv_plan *pl, const float *in, int n, int h, int w, float *out,
                          const float *residual, enh_pool *pool, enh_conv_post_fn post, void *post_ctx,
                          const enh_conv_plan *next, enh_conv_vcache *vc, int cmax)
{
    int oh, ow;
    enh_conv_out_size(&pl->p, h, w, &oh, &ow);
    if (n <= 0 || oh <= 0 || ow <= 0)
        return;
    if (pl->algo == ENH_ALGO_REF) {
        if (vc)
            vc->done = 0;
        enh_conv2d_ref(&pl->p, in, n, h, w, out, residual, pool);
        post_whole(n, oh, ow, post, post_ctx);
        return;
    }
    if (pl->dwisa) { /* depthwise (dwconv.c): bands of planes, the boxes once all are done */
        if (vc)
            vc->done = 0;
        enh_dw_plan_run(pl, in, n, h, w, out, residual, pool);
        post_whole(n, oh, ow, post, post_ctx);
        return;
    }
    if (!pool)
        pool = enh_pool_default();
    const int nt = enh_pool_threads(pool), vw = pl->isa->vw;
    run_ctx r = {.job = {.c = NULL, .in = in, .out = out, .res = residual,
                         .n = n, .h = h, .w = w, .oh = oh, .ow = ow},
                 .wino = pl->algo == ENH_ALGO_WINO, .vw = vw, .post = post, .post_ctx = post_ctx,
                 .seq = atomic_fetch_add(&g_run_seq, 1) + 1};
    enh_fast_conv c = pl->fc;
    size_t nblocks, units, per_block_units;
    if (pl->algo == ENH_ALGO_WINO) {
        r.job.th = (h + 3) / 4;
        r.job.gx = (w + 4 * vw - 1) / (4 * vw);
        units = (size_t)n * r.job.th * r.job.gx;
    } else {
        units = (size_t)n * (((size_t)oh * ow + vw - 1) / vw);
    }
    /* Blocks as large as the cache budget allows, but at least ~4 per thread. */
    per_block_units = units / (4 * (size_t)nt);
    if (per_block_units < 1)
        per_block_units = 1;
    /* A small map through im2col+GEMM (MobileNet's 14x14 and 7x7 layers): blocks as wide as the
     * budget allows, and the threads split the output channels instead (below). Blocks of one
     * vector of pixels each re-streamed the whole weight matrix for 8 columns of output. */
    const size_t upi = ((size_t)oh * ow + vw - 1) / vw; /* GEMM units per image */
    const int small = pl->algo == ENH_ALGO_GEMM && c.groups == 1 && !post && upi <= 2 * (size_t)pl->ng_max;
    if (small)
        per_block_units = upi;
    c.ng = per_block_units < (size_t)pl->ng_max ? (int)per_block_units : pl->ng_max;
    vcache_attach(pl, vc, cmax, n, h, w, &c, units, &r.job);
    if (pl->algo == ENH_ALGO_WINO) {
        r.job.ngroups = units;
        nblocks = (units + c.ng - 1) / c.ng;
        r.fn = pl->isa->wino_blocks;
    } else {
        size_t tb = (size_t)c.ng * vw;
        r.job.ngroups = ((size_t)oh * ow + tb - 1) / tb;
        nblocks = (size_t)n * r.job.ngroups;
        r.job.csplit = 1;
        if (small && nt > 1 && nblocks < 4 * (size_t)nt) { /* chunks of >= 2 micro-kernel panels */
            int panels = c.coutp_g / pl->isa->mr, cs = (int)((4 * (size_t)nt + nblocks - 1) / nblocks);
            cs = cs < panels / 2 ? cs : panels / 2;
            if (cs > 1) {
                r.job.csplit = cs;
                nblocks *= (size_t)cs;
            }
        }
        r.fn = pl->isa->gemm_blocks;
    }
    r.job.c = &c;
    if (next && next->wpack && pl->algo == ENH_ALGO_WINO && pl->wpack) {
        r.job.nx0 = (const char *)next->wpack;
        r.job.nx1 = r.job.nx0 + next->npack * sizeof(float);
        r.per_thread = (nblocks + nt - 1) / nt;
    }

    size_t need = enh_fast_scratch_floats(&c, pl->isa, pl->algo);
    int nslots = nblocks > 1 ? nt + 1 : 1;
    enh_conv_slots slots;
    if (enh_conv_slots_acquire(&slots, nslots, need)) {
        r.job.scratch = slots.bufs;
        enh_pool_run(pool, nblocks, 1, run_range, &r);
        if (r.job.vc) { /* the transforms of channels [0, cin) are stored now */
            vc->done = vc->done > pl->p.cin ? vc->done : pl->p.cin;
            vc->ng = c.ng, vc->n = n, vc->h = h, vc->w = w;
        }
        enh_conv_slots_release(&slots);
        return;
    }
    /* out of memory: one block at a time on this thread, in the reserve */
    if (vc)
        vc->done = 0;
    r.job.vc = NULL;
    float *res = enh_conv_reserve_take();
    c.ng = 1;
    if (pl->algo == ENH_ALGO_WINO) {
        nblocks = r.job.ngroups;
    } else {
        r.job.ngroups = ((size_t)oh * ow + vw - 1) / vw;
        r.job.csplit = 1;
        nblocks = (size_t)n * r.job.ngroups;
    }
    r.job.wpf = 1;
    r.fn(&r.job, 0, nblocks, res);
    enh_conv_reserve_give();
    post_whole(n, oh, ow, post, post_ctx);
}
