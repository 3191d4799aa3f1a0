/* conv_plan.c - conv plans (conv.h): choose the kernel path for the CPU and the shape,
 * pre-pack / pre-transform the weights once. Running them: conv_run.c; their bounded,
 * recycled scratch and the reserve: conv_scratch.c.
 *
 * Choice (runtime options, nn_options.h): ISA = kernels (ref|portable|avx2|avx512|auto; default
 * the best the CPU has). Algorithm = conv_algo (wino|gemm|auto) or, by default, Winograd F(4x4,3x3)
 * for every 3x3/s1/d1/pad1/groups1 conv (bench/kernels/bench_conv: faster than im2col+GEMM on
 * every such layer of both models, thin 3->64 and 64->3 ones included), the depthwise kernel for
 * groups == cin == cout (dwconv.c), else im2col+GEMM.
 * Precision (precision.h): fp32 by default; BF16 (options' precision)
 * gives 3x3/s1/p1 layers with >= 16 input and output channels the avx512bf16 Winograd kernel
 * (conv_fast_avx512bf16.c: bf16 weight pairs packed here from the same Winograd-domain weights).
 * Tuning knob: wino_budget_kb (default 512) caps the Winograd V + M scratch of one block
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/conv_plan_internal.h"

#define WINO_BUDGET_BYTES (512u * 1024u) /* V + M per block: stays in L2 */
#define WINO_COB 4                        /* output-channel chunk, in MR panels */
#define GEMM_BUDGET_BYTES (192u * 1024u) /* im2col panel per block */

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

static enh_status create_plan(const enh_conv_params *p, enh_isa isa, enh_conv_algo algo, enh_precision prec,
                              int wino_budget_kb, enh_conv_plan **out, enh_error *err);

enh_status enh_conv_plan_create_forced(const enh_conv_params *p, enh_isa isa, enh_conv_algo algo,
                                       enh_conv_plan **out, enh_error *err)
{
    return enh_conv_plan_create_forced_prec(p, isa, algo, ENH_PRECISION_FP32, out, err);
}

enh_status enh_conv_plan_create_forced_prec(const enh_conv_params *p, enh_isa isa, enh_conv_algo algo,
                                            enh_precision prec, enh_conv_plan **out, enh_error *err)
{
    return create_plan(p, isa, algo, prec, enh_nn_options_default()->wino_budget_kb, out, err);
}

/* The plan for a resolved choice; wino_budget_kb 0 = WINO_BUDGET_BYTES. */
static enh_status create_plan(const enh_conv_params *p, enh_isa isa, enh_conv_algo algo, enh_precision prec,
                              int wino_budget_kb, enh_conv_plan **out, enh_error *err)
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
                        "kernel path '%s' is not supported by this CPU (use auto, or a path it has)",
                        enh_isa_name(isa));
    if (isa == ENH_ISA_REF)
        algo = ENH_ALGO_REF;
    /* depthwise: a kernel of its own (dwconv.c) unless an algorithm is forced */
    const int dw = algo == ENH_ALGO_AUTO && enh_dw_applies(p);
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
    if (dw && prec == ENH_PRECISION_FP32) {
        if (!enh_dw_plan_init(pl, isa))
            goto oom;
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
        size_t budget = wino_budget_kb > 0 ? (size_t)wino_budget_kb * 1024 : WINO_BUDGET_BYTES;
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
            case ENH_ACT_CLIP: pl->fslope[i] = 1.0f; break;
            }
        }
    c->act = p->act == ENH_ACT_CLIP ? 2 : p->act != ENH_ACT_NONE;
    c->lo = p->clip_lo;
    c->hi = p->clip_hi;
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
    if (!enh_conv_reserve_ensure(enh_fast_scratch_floats(c, pl->isa, algo)))
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
    return enh_conv_plan_create_ex(p, NULL, out, err);
}

enh_status enh_conv_plan_create_ex(const enh_conv_params *p, const enh_nn_options *opt, enh_conv_plan **out,
                                   enh_error *err)
{
    *out = NULL;
    opt = enh_nn_options_or_default(opt);
    enh_status st = enh_nn_options_check(opt, err);
    if (st != ENH_OK)
        return st;
    enh_isa isa = opt->kernels;
    enh_conv_algo algo = opt->conv_algo;
    enh_precision prec;
    enh_precision_resolve(opt->precision, &prec, NULL); /* checked above */
    if (prec == ENH_PRECISION_BF16) {
        if (enh_conv_bf16_applies(p))
            return create_plan(p, ENH_ISA_AVX512, ENH_ALGO_WINO, prec, opt->wino_budget_kb, out, err);
        prec = ENH_PRECISION_FP32; /* thin or non-3x3 layers stay fp32 */
    }
    /* A forced algorithm applies where it can; other shapes keep the automatic choice. */
    if (algo == ENH_ALGO_WINO && !enh_conv_wino_applies(p))
        algo = ENH_ALGO_AUTO;
    return create_plan(p, isa, algo, prec, opt->wino_budget_kb, out, err);
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

const char *enh_conv_plan_kernel(const enh_conv_plan *pl) { return pl->name; }


enh_precision enh_conv_plan_precision(const enh_conv_plan *pl) { return pl->prec; }
