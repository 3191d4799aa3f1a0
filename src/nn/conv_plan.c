/* conv_plan.c - conv plans (conv.h): choose the kernel path for the CPU and the shape,
 * pre-pack / pre-transform the weights once, run through the pool with bounded scratch.
 *
 * Owner: fast-kernels engineer (issue 4).
 * Choice: ISA = ENHANCE_KERNELS (ref|portable|avx2|avx512|auto; default the best the CPU
 * has). Algorithm = ENHANCE_CONV_ALGO (wino|gemm|auto) or, by default, Winograd F(4x4,3x3)
 * for every 3x3/s1/d1/pad1/groups1 conv (bench/kernels/bench_conv: faster than im2col+GEMM on
 * every such layer of both models, thin 3->64 and 64->3 ones included), else im2col+GEMM.
 * Precision (precision.h): fp32 by default; BF16 (enh_conv_plan_create_ex, ENHANCE_PRECISION=bf16)
 * gives 3x3/s1/p1 layers with >= 16 input and output channels the avx512bf16 Winograd kernel
 * (conv_fast_avx512bf16.c: bf16 weight pairs packed here from the same Winograd-domain weights).
 * Tuning knob: ENH_WINO_BUDGET_KB (default 512) caps the Winograd V + M scratch of one block
 * (but a block always gets at least 2 tile groups when the image has them).
 * Memory: a fast plan keeps only its packed weights (Winograd: 36/9 = 4x the raw weights);
 * the raw copy is dropped after packing. Scratch per call is bounded (one L2-sized buffer per
 * pool slot, recycled through a free list).
 * Thread-safety: plans are immutable; the scratch free list and the reserve are mutex-protected.
 * Errors: create returns ENH_EINVAL (bad shape), ENH_EUNSUPPORTED (forced path the CPU or
 * the shape cannot run), ENH_ENOMEM. Run never fails: creation also makes sure a process-wide
 * reserve buffer can hold the plan's smallest scratch (one block), and a run that cannot get
 * per-slot scratch waits for the reserve and runs single-threaded with it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/conv.h"
#include "nn/conv_fast.h"

#define WINO_BUDGET_BYTES (512u * 1024u) /* V + M per block: stays in L2 */
#define WINO_COB 4                        /* output-channel chunk, in MR panels */
#define GEMM_BUDGET_BYTES (192u * 1024u) /* im2col panel per block */

struct enh_conv_plan {
    enh_conv_params p; /* ref plans: owned copies of weight/bias/prelu; fast plans: NULLs */
    float *weight, *bias, *prelu;
    enh_conv_algo algo;
    const enh_fast_isa *isa;
    enh_fast_conv fc;
    float *wpack, *fbias, *fslope;
    uint32_t *wbf;      /* bf16 Winograd plans: packed bf16 weight pairs (wpack is NULL) */
    enh_precision prec; /* FP32 or BF16 */
    int ng_max;
    size_t npack; /* floats in wpack */
    char name[48];
};

/* ---- scratch free list: buffers survive calls so a model run does not page-fault
 * fresh megabytes for each of its hundreds of convolutions. */
#define SCRATCH_KEEP 64
static pthread_mutex_t g_scr_mu = PTHREAD_MUTEX_INITIALIZER;
static struct { float *p; size_t n; } g_scr[SCRATCH_KEEP];
static int g_scr_count;

static float *scratch_acquire(size_t n)
{
    float *old = NULL;
    pthread_mutex_lock(&g_scr_mu);
    int best = -1;
    for (int i = 0; i < g_scr_count; i++)
        if (g_scr[i].n >= n && (best < 0 || g_scr[i].n < g_scr[best].n))
            best = i;
    if (best < 0 && g_scr_count > 0)
        best = g_scr_count - 1, old = g_scr[best].p; /* too small: replace it */
    float *p = NULL;
    if (best >= 0) {
        if (!old)
            p = g_scr[best].p;
        g_scr[best] = g_scr[--g_scr_count];
    }
    pthread_mutex_unlock(&g_scr_mu);
    if (p)
        return p;
    enh_free(old);
    return enh_alloc(n * sizeof(float));
}

static void scratch_release(float *p, size_t n)
{
    if (!p)
        return;
    pthread_mutex_lock(&g_scr_mu);
    if (g_scr_count < SCRATCH_KEEP) {
        g_scr[g_scr_count].p = p;
        g_scr[g_scr_count].n = n;
        g_scr_count++;
        p = NULL;
    }
    pthread_mutex_unlock(&g_scr_mu);
    enh_free(p);
}

/* ---- the reserve: one buffer, as large as the smallest scratch of any plan created, that a
 * run waits for when it cannot allocate scratch (so runs always finish). */
static pthread_cond_t g_res_cv = PTHREAD_COND_INITIALIZER;
static float *g_res;
static size_t g_res_n;
static int g_res_busy;

static int reserve_ensure(size_t n)
{
    int ok = 1;
    pthread_mutex_lock(&g_scr_mu);
    while (g_res_busy && g_res_n < n)
        pthread_cond_wait(&g_res_cv, &g_scr_mu);
    if (g_res_n < n) {
        float *p = enh_alloc(n * sizeof(float));
        if (p) {
            enh_free(g_res);
            g_res = p;
            g_res_n = n;
        } else {
            ok = 0;
        }
    }
    pthread_mutex_unlock(&g_scr_mu);
    return ok;
}

static float *reserve_take(void)
{
    pthread_mutex_lock(&g_scr_mu);
    while (g_res_busy)
        pthread_cond_wait(&g_res_cv, &g_scr_mu);
    g_res_busy = 1;
    float *p = g_res;
    pthread_mutex_unlock(&g_scr_mu);
    return p;
}

static void reserve_give(void)
{
    pthread_mutex_lock(&g_scr_mu);
    g_res_busy = 0;
    pthread_cond_broadcast(&g_res_cv);
    pthread_mutex_unlock(&g_scr_mu);
}

/* ---- shape rules */
int enh_conv_wino_applies(const enh_conv_params *p)
{
    return p->kh == 3 && p->kw == 3 && p->stride_h == 1 && p->stride_w == 1 && p->dil_h == 1 &&
           p->dil_w == 1 && p->groups == 1 && p->pad_top == 1 && p->pad_left == 1 &&
           p->pad_bottom == 1 && p->pad_right == 1;
}

static const enh_fast_isa *isa_table(enh_isa isa)
{
    switch (isa) {
    case ENH_ISA_AVX512: return &enh_fast_isa_avx512;
    case ENH_ISA_AVX2: return &enh_fast_isa_avx2;
    case ENH_ISA_PORTABLE: return &enh_fast_isa_portable;
    default: return NULL;
    }
}

size_t enh_fast_scratch_floats(const enh_fast_conv *c, const enh_fast_isa *isa, enh_conv_algo algo)
{
    size_t tb = (size_t)c->ng * isa->vw;
    if (algo == ENH_ALGO_WINO && isa == &enh_fast_isa_avx512bf16)
        return enh_bf16_wino_scratch_floats(c);
    if (algo == ENH_ALGO_WINO)
        return 36 * ((size_t)(c->cin + c->cob) * tb + 2 * PSPAD) + 64;
    return (size_t)c->K * tb + (size_t)c->coutp_g * tb + 64;
}

/* ---- weight packing */
/* U = G g G^T per (co, ci), into [36][coutp/MR][cin][MR]. Two passes so that the (large)
 * packed array is written once, sequentially: a model load is dominated by first-touch page
 * faults otherwise. Returns 0 when the temporary cannot be allocated. */
static int pack_wino(enh_conv_plan *pl)
{
    const enh_conv_params *p = &pl->p;
    const int mr = pl->isa->mr, cin = p->cin, cout = p->cout, coutp = pl->fc.coutp_g;
    static const float G[6][3] = {{1.0f / 4, 0, 0},
                                  {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                  {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                  {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                  {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                  {0, 0, 1}};
    float *T = enh_alloc((size_t)cout * cin * 36 * sizeof *T);
    if (!T)
        return 0;
    for (size_t oc = 0; oc < (size_t)cout * cin; oc++) {
        const float *g = p->weight + oc * 9;
        double t[6][3];
        for (int i = 0; i < 6; i++)
            for (int k = 0; k < 3; k++)
                t[i][k] = (double)G[i][0] * g[k] + (double)G[i][1] * g[3 + k] + (double)G[i][2] * g[6 + k];
        float *u = T + oc * 36;
        for (int i = 0; i < 6; i++)
            for (int jx = 0; jx < 6; jx++)
                u[i * 6 + jx] = (float)(t[i][0] * G[jx][0] + t[i][1] * G[jx][1] + t[i][2] * G[jx][2]);
    }
    if (pl->wbf) {
        enh_bf16_pack_wino(T, cout, cin, coutp, mr, pl->wbf);
        enh_free(T);
        return 1;
    }
    float *dst = pl->wpack;
    for (int pnt = 0; pnt < 36; pnt++)
        for (int cb = 0; cb < coutp; cb += mr)
            for (int ci = 0; ci < cin; ci++)
                for (int r = 0; r < mr; r++) {
                    int co = cb + r;
                    *dst++ = co < cout ? T[((size_t)co * cin + ci) * 36 + pnt] : 0.0f;
                }
    enh_free(T);
    return 1;
}

static void pack_gemm(enh_conv_plan *pl)
{
    const enh_fast_conv *c = &pl->fc;
    const int mr = pl->isa->mr, K = c->K;
    memset(pl->wpack, 0, (size_t)c->groups * c->coutp_g * K * sizeof(float));
    for (int g = 0; g < c->groups; g++)
        for (int co = 0; co < c->cout_g; co++) {
            const float *src = pl->p.weight + ((size_t)g * c->cout_g + co) * K; /* borrowed */
            float *dst = pl->wpack + (size_t)g * c->coutp_g * K + (size_t)(co / mr) * mr * K + co % mr;
            for (int k = 0; k < K; k++)
                dst[(size_t)k * mr] = src[k];
        }
}

static float *dup_floats(const float *src, size_t n)
{
    if (!src || !n)
        return NULL;
    float *d = enh_alloc(n * sizeof *d);
    if (d)
        memcpy(d, src, n * sizeof *d);
    return d;
}

static int parse_algo(const char *s, enh_conv_algo *out)
{
    if (!s || !*s || !strcmp(s, "auto"))
        *out = ENH_ALGO_AUTO;
    else if (!strcmp(s, "wino") || !strcmp(s, "winograd"))
        *out = ENH_ALGO_WINO;
    else if (!strcmp(s, "gemm"))
        *out = ENH_ALGO_GEMM;
    else if (!strcmp(s, "ref"))
        *out = ENH_ALGO_REF;
    else
        return -1;
    return 0;
}

enh_status enh_conv_plan_create_forced(const enh_conv_params *p, enh_isa isa, enh_conv_algo algo,
                                       enh_conv_plan **out, enh_error *err)
{
    return enh_conv_plan_create_forced_prec(p, isa, algo, ENH_PRECISION_FP32, out, err);
}

enh_status enh_conv_plan_create_forced_prec(const enh_conv_params *p, enh_isa isa, enh_conv_algo algo,
                                            enh_precision prec, enh_conv_plan **out, enh_error *err)
{
    *out = NULL;
    if (p->cin <= 0 || p->cout <= 0 || p->kh <= 0 || p->kw <= 0 || p->groups <= 0 ||
        p->cin % p->groups || p->cout % p->groups || p->stride_h <= 0 || p->stride_w <= 0 ||
        p->dil_h <= 0 || p->dil_w <= 0 || p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 ||
        p->pad_right < 0 || !p->weight)
        return enh_fail(err, ENH_EINVAL, "invalid convolution shape");
    if (p->act == ENH_ACT_PRELU && (!p->prelu || (p->prelu_count != 1 && p->prelu_count != p->cout)))
        return enh_fail(err, ENH_EINVAL, "PReLU needs 1 or %d slopes, got %d", p->cout, p->prelu_count);
    if (isa == ENH_ISA_AUTO)
        isa = enh_cpu_best_isa();
    if (!enh_cpu_isa_supported(isa))
        return enh_fail(err, ENH_EUNSUPPORTED,
                        "kernel path '%s' is not supported by this CPU (unset ENHANCE_KERNELS "
                        "or use auto)", enh_isa_name(isa));
    if (isa == ENH_ISA_REF)
        algo = ENH_ALGO_REF;
    if (algo == ENH_ALGO_AUTO)
        algo = enh_conv_wino_applies(p) ? ENH_ALGO_WINO : ENH_ALGO_GEMM;
    if (algo == ENH_ALGO_WINO && !enh_conv_wino_applies(p))
        return enh_fail(err, ENH_EUNSUPPORTED,
                        "Winograd needs a 3x3 stride-1 pad-1 ungrouped convolution");
    enh_status pst = enh_precision_resolve(prec, &prec, err);
    if (pst != ENH_OK)
        return pst;
    if (prec == ENH_PRECISION_BF16 && (isa != ENH_ISA_AVX512 || algo != ENH_ALGO_WINO))
        return enh_fail(err, ENH_EUNSUPPORTED,
                        "bf16 precision runs only the avx512 Winograd kernel (3x3 stride-1 pad-1 "
                        "ungrouped convolutions), not %s %s", enh_isa_name(isa),
                        algo == ENH_ALGO_GEMM ? "im2col+GEMM" : algo == ENH_ALGO_REF ? "reference" : "Winograd");

    enh_conv_plan *pl = calloc(1, sizeof *pl);
    if (!pl)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    pl->p = *p;
    pl->algo = algo;
    pl->prec = prec;
    if (algo == ENH_ALGO_REF) {
        size_t nw = (size_t)p->cout * (p->cin / p->groups) * p->kh * p->kw;
        pl->weight = dup_floats(p->weight, nw);
        pl->bias = dup_floats(p->bias, (size_t)p->cout);
        pl->prelu = p->act == ENH_ACT_PRELU ? dup_floats(p->prelu, (size_t)p->prelu_count) : NULL;
        if (!pl->weight || (p->bias && !pl->bias) || (p->act == ENH_ACT_PRELU && !pl->prelu))
            goto oom;
        pl->p.weight = pl->weight;
        pl->p.bias = pl->bias;
        pl->p.prelu = pl->prelu;
        strcpy(pl->name, "ref");
        *out = pl;
        return ENH_OK;
    }

    pl->isa = prec == ENH_PRECISION_BF16 ? &enh_fast_isa_avx512bf16 : isa_table(isa);
    enh_fast_conv *c = &pl->fc;
    const int mr = pl->isa->mr, vw = pl->isa->vw;
    c->cin = p->cin;
    c->cout = p->cout;
    c->kh = p->kh, c->kw = p->kw, c->sh = p->stride_h, c->sw = p->stride_w;
    c->dh = p->dil_h, c->dw = p->dil_w, c->pt = p->pad_top, c->pl = p->pad_left;
    c->groups = p->groups;
    c->cin_g = p->cin / p->groups;
    c->cout_g = p->cout / p->groups;
    c->coutp_g = (c->cout_g + mr - 1) / mr * mr;
    size_t npack;
    if (algo == ENH_ALGO_WINO) {
        c->K = c->cin;
        npack = 36 * (size_t)c->coutp_g * c->cin;
        c->cob = c->coutp_g < WINO_COB * mr ? c->coutp_g : WINO_COB * mr;
        /* bf16: V holds (cin+1)/2 rows of pairs, i.e. half the bytes */
        size_t vrows = prec == ENH_PRECISION_BF16 ? (size_t)(c->cin + 1) / 2 : (size_t)c->cin;
        size_t per_group = 36 * (vrows + (size_t)c->cob) * vw * sizeof(float);
        size_t budget = WINO_BUDGET_BYTES;
        if (getenv("ENH_WINO_BUDGET_KB"))
            budget = (size_t)atoi(getenv("ENH_WINO_BUDGET_KB")) * 1024;
        pl->ng_max = (int)(budget / per_group);
        snprintf(pl->name, sizeof pl->name, "%s-winograd4x4", pl->isa->name);
    } else {
        c->K = c->cin_g * c->kh * c->kw;
        npack = (size_t)c->groups * c->coutp_g * c->K;
        pl->ng_max = (int)(GEMM_BUDGET_BYTES / ((size_t)c->K * vw * sizeof(float)));
        snprintf(pl->name, sizeof pl->name, "%s-gemm", pl->isa->name);
    }
    /* Winograd blocks of at least 2 groups even when V + M then overflow the budget: with one
     * group (16 tiles) every block re-streams the layer's whole weight set (1.8 MB for
     * x4plus's 192->64) for one FMA per weight loaded; measured on x4plus 64x64 (enhance
     * bench, same run): 1 thread 345-490 -> 332-352 ms, 2 threads 198-247 -> 190-228 ms. */
    int ng_floor = algo == ENH_ALGO_WINO ? 2 : 1;
    if (pl->ng_max < ng_floor)
        pl->ng_max = ng_floor;
    if (pl->ng_max > 16)
        pl->ng_max = 16;
    size_t nb = (size_t)c->groups * c->coutp_g;
    if (prec == ENH_PRECISION_BF16)
        pl->wbf = enh_alloc(36 * (size_t)c->coutp_g * ((c->cin + 1) / 2) * sizeof(uint32_t));
    else
        pl->wpack = enh_alloc(npack * sizeof(float));
    pl->npack = npack;
    pl->fbias = enh_calloc(nb, sizeof(float));
    pl->fslope = enh_calloc(nb, sizeof(float));
    if ((!pl->wpack && !pl->wbf) || !pl->fbias || !pl->fslope)
        goto oom;
    for (int g = 0; g < c->groups; g++)
        for (int co = 0; co < c->cout_g; co++) {
            int oc = g * c->cout_g + co;
            size_t i = (size_t)g * c->coutp_g + co;
            pl->fbias[i] = p->bias ? p->bias[oc] : 0.0f;
            switch (p->act) {
            case ENH_ACT_NONE: pl->fslope[i] = 1.0f; break;
            case ENH_ACT_RELU: pl->fslope[i] = 0.0f; break;
            case ENH_ACT_LEAKY: pl->fslope[i] = p->act_slope; break;
            case ENH_ACT_PRELU: pl->fslope[i] = p->prelu[p->prelu_count == 1 ? 0 : oc]; break;
            }
        }
    c->act = p->act != ENH_ACT_NONE;
    c->wpack = pl->wpack;
    c->wbf = pl->wbf;
    c->bias = pl->fbias;
    c->slope = pl->fslope;
    if (algo == ENH_ALGO_WINO) {
        if (!pack_wino(pl))
            goto oom;
    } else {
        pack_gemm(pl);
    }
    /* the raw weights are no longer needed: the caller's arrays were only borrowed */
    pl->p.weight = pl->p.bias = pl->p.prelu = NULL;
    c->ng = 1;
    if (!reserve_ensure(enh_fast_scratch_floats(c, pl->isa, algo)))
        goto oom;
    *out = pl;
    return ENH_OK;
oom:
    enh_conv_plan_free(pl);
    return enh_fail(err, ENH_ENOMEM, "out of memory packing convolution weights");
}

int enh_conv_bf16_applies(const enh_conv_params *p)
{
    return enh_conv_wino_applies(p) && p->cin >= 16 && p->cout >= 16;
}

enh_status enh_conv_plan_create(const enh_conv_params *p, enh_conv_plan **out, enh_error *err)
{
    return enh_conv_plan_create_ex(p, ENH_PRECISION_DEFAULT, out, err);
}

enh_status enh_conv_plan_create_ex(const enh_conv_params *p, enh_precision prec, enh_conv_plan **out,
                                   enh_error *err)
{
    enh_isa isa;
    enh_conv_algo algo;
    *out = NULL;
    if (enh_cpu_requested_isa(&isa) != 0)
        return enh_fail(err, ENH_EINVAL, "ENHANCE_KERNELS must be ref, portable, avx2, avx512 or auto");
    if (parse_algo(getenv("ENHANCE_CONV_ALGO"), &algo) != 0)
        return enh_fail(err, ENH_EINVAL, "ENHANCE_CONV_ALGO must be wino, gemm, ref or auto");
    enh_status st = enh_precision_resolve(prec, &prec, err);
    if (st != ENH_OK)
        return st;
    if (prec == ENH_PRECISION_BF16) {
        if ((isa != ENH_ISA_AUTO && isa != ENH_ISA_AVX512) || (algo != ENH_ALGO_AUTO && algo != ENH_ALGO_WINO))
            return enh_fail(err, ENH_EINVAL,
                            "bf16 precision runs the avx512 Winograd kernels: unset ENHANCE_KERNELS / "
                            "ENHANCE_CONV_ALGO (or set them to avx512 / wino), or use fp32");
        if (enh_conv_bf16_applies(p))
            return enh_conv_plan_create_forced_prec(p, ENH_ISA_AVX512, ENH_ALGO_WINO, prec, out, err);
        prec = ENH_PRECISION_FP32; /* thin or non-3x3 layers stay fp32 */
    }
    /* A forced algorithm applies where it can; other shapes keep the automatic choice. */
    if (algo == ENH_ALGO_WINO && !enh_conv_wino_applies(p))
        algo = ENH_ALGO_AUTO;
    return enh_conv_plan_create_forced_prec(p, isa, algo, prec, out, err);
}

void enh_conv_plan_free(enh_conv_plan *pl)
{
    if (!pl)
        return;
    enh_free(pl->weight);
    enh_free(pl->bias);
    enh_free(pl->prelu);
    enh_free(pl->wpack);
    enh_free(pl->wbf);
    enh_free(pl->fbias);
    enh_free(pl->fslope);
    free(pl);
}

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
    float *stack_bufs[17];
    float **bufs = nslots <= 17 ? stack_bufs : malloc((size_t)nslots * sizeof *bufs);
    int got = 0;
    if (bufs)
        for (; got < nslots; got++)
            if (!(bufs[got] = scratch_acquire(need)))
                break;
    if (got == nslots) {
        r.job.scratch = bufs;
        enh_pool_run(pool, nblocks, 1, run_range, &r);
        if (r.job.vc) { /* the transforms of channels [0, cin) are stored now */
            vc->done = vc->done > pl->p.cin ? vc->done : pl->p.cin;
            vc->ng = c.ng, vc->n = n, vc->h = h, vc->w = w;
        }
    }
    for (int i = 0; i < got; i++)
        scratch_release(bufs[i], need);
    if (bufs && bufs != stack_bufs)
        free(bufs);
    if (got == nslots)
        return;
    /* out of memory: one block at a time on this thread, in the reserve */
    if (vc)
        vc->done = 0;
    r.job.vc = NULL;
    float *res = reserve_take();
    c.ng = 1;
    if (pl->algo == ENH_ALGO_WINO) {
        nblocks = r.job.ngroups;
    } else {
        r.job.ngroups = ((size_t)oh * ow + vw - 1) / vw;
        nblocks = (size_t)n * r.job.ngroups;
    }
    r.job.wpf = 1;
    r.fn(&r.job, 0, nblocks, res);
    reserve_give();
    post_whole(n, oh, ow, post, post_ctx);
}

const char *enh_conv_plan_kernel(const enh_conv_plan *pl) { return pl->name; }

enh_conv_algo enh_conv_plan_algo(const enh_conv_plan *pl) { return pl->algo; }

enh_precision enh_conv_plan_precision(const enh_conv_plan *pl) { return pl->prec; }
