/* test_dwconv.c - the depthwise conv kernel (dwconv.h; groups == cin == cout) on every ISA
 * path this CPU has against the reference kernel enh_conv2d_ref (its twin: the generic grouped
 * conv), on odd shapes: channel counts not multiples of the vector width, widths 1..17 and a
 * few wide rows (interior tiles of 4 vectors), strides 1/2/3, asymmetric pads (MobileNet's
 * stride-2 (0,0,1,1) included), dilation, 3x3 and other kernel sizes, every epilogue activation
 * (ReLU6 as Clip), with and without residual, batch 1 and 2, 1 and 3 threads. Every output
 * element must be written (the output starts as NaN). Also: Clip in the GEMM and Winograd
 * epilogues, and which plans take the depthwise kernel.
 * Error bound: max|fast - ref| <= 1e-5 * max|ref| (fp32 sums of <= 49 taps vs double). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/pool.h"
#include "kern_util.h"
#include "nn/conv.h"
#include "nn/conv_fast.h"

#define TOL 1e-5

typedef struct {
    int n, c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    enh_act act;
    int residual, prelu_shared;
} shape;

static double worst;
static int cases[5];

static void run_case(const shape *s, enh_pool *pool)
{
    enh_conv_params p = {.cin = s->c, .cout = s->c, .kh = s->kh, .kw = s->kw, .stride_h = s->sh,
                         .stride_w = s->sw, .dil_h = s->dh, .dil_w = s->dw, .pad_top = s->pt,
                         .pad_left = s->pl, .pad_bottom = s->pb, .pad_right = s->pr, .groups = s->c,
                         .act = s->act, .act_slope = 0.2f, .clip_lo = -0.3f, .clip_hi = 0.6f};
    size_t nw = (size_t)s->c * s->kh * s->kw;
    float *wt = ku_randv(nw, 0.4f), *bias = ku_randv((size_t)s->c, 0.3f), *prelu = ku_randv((size_t)s->c, 0.4f);
    p.weight = wt;
    p.bias = s->residual ? NULL : bias; /* no bias at all on some */
    p.prelu = prelu;
    p.prelu_count = s->prelu_shared ? 1 : s->c;
    int oh, ow;
    enh_conv_out_size(&p, s->h, s->w, &oh, &ow);
    if (oh <= 0 || ow <= 0) {
        free(wt), free(bias), free(prelu);
        return;
    }
    size_t nin = (size_t)s->n * s->c * s->h * s->w, nout = (size_t)s->n * s->c * oh * ow;
    float *in = ku_randv(nin, 1.0f), *res = s->residual ? ku_randv(nout, 1.0f) : NULL;
    float *ref = malloc(nout * sizeof *ref), *out = malloc(nout * sizeof *out);
    enh_conv2d_ref(&p, in, s->n, s->h, s->w, ref, res, pool);
    const enh_isa isas[] = {ENH_ISA_PORTABLE, ENH_ISA_AVX2, ENH_ISA_AVX512};
    for (int ii = 0; ii < 3; ii++) {
        if (!enh_cpu_isa_supported(isas[ii]))
            continue;
        enh_conv_plan *plan = NULL;
        enh_error err;
        enh_status st = enh_conv_plan_create_forced(&p, isas[ii], ENH_ALGO_AUTO, &plan, &err);
        CHECK_MSG(st == ENH_OK, "%s", err.msg);
        if (st != ENH_OK)
            continue;
        CHECK_MSG(strstr(enh_conv_plan_kernel(plan), "-dw") != NULL, "%s: plan %s is not depthwise",
                  enh_isa_name(isas[ii]), enh_conv_plan_kernel(plan));
        for (size_t i = 0; i < nout; i++)
            out[i] = NAN;
        enh_conv_plan_run(plan, in, s->n, s->h, s->w, out, res, pool);
        double e = ku_rel_err(out, ref, nout);
        CHECK_MSG(e <= TOL, "%s n=%d c=%d %dx%d k%dx%d s%d,%d d%d,%d pad %d,%d,%d,%d act%d res%d: rel err %.3g",
                  enh_conv_plan_kernel(plan), s->n, s->c, s->h, s->w, s->kh, s->kw, s->sh, s->sw, s->dh, s->dw,
                  s->pt, s->pl, s->pb, s->pr, (int)s->act, s->residual, e);
        if (e > worst)
            worst = e;
        cases[isas[ii]]++;
        enh_conv_plan_free(plan);
    }
    free(wt), free(bias), free(prelu), free(in), free(res), free(ref), free(out);
}

/* Clip in the GEMM and Winograd epilogues (and in the reference kernel: ref against a
 * clip pass over an unclipped ref). */
static void clip_epilogues(enh_pool *pool)
{
    const int cin = 13, cout = 19, h = 11, w = 21;
    float *wt = ku_randv((size_t)cout * cin * 9, 0.3f), *bias = ku_randv((size_t)cout, 0.5f);
    float *in = ku_randv((size_t)2 * cin * h * w, 1.0f), *res = ku_randv((size_t)2 * cout * h * w, 1.0f);
    size_t nout = (size_t)2 * cout * h * w;
    float *ref = malloc(nout * sizeof *ref), *out = malloc(nout * sizeof *out), *raw = malloc(nout * sizeof *raw);
    enh_conv_params p = {.cin = cin, .cout = cout, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1,
                         .dil_w = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .groups = 1,
                         .act = ENH_ACT_NONE, .weight = wt, .bias = bias};
    enh_conv2d_ref(&p, in, 2, h, w, raw, NULL, pool);
    p.act = ENH_ACT_CLIP, p.clip_lo = 0.0f, p.clip_hi = 0.5f; /* a ReLU6-like clip at this scale */
    enh_conv2d_ref(&p, in, 2, h, w, ref, res, pool);
    int clipped = 0;
    for (size_t i = 0; i < nout; i++) {
        float v = raw[i] < 0.0f ? 0.0f : raw[i] > 0.5f ? 0.5f : raw[i];
        clipped += raw[i] < 0.0f || raw[i] > 0.5f;
        CHECK_MSG(fabsf(ref[i] - (v + res[i])) <= 1e-6f, "ref clip at %zu", i);
    }
    CHECK(clipped > (int)nout / 4);
    const enh_isa isas[] = {ENH_ISA_PORTABLE, ENH_ISA_AVX2, ENH_ISA_AVX512};
    for (int ii = 0; ii < 3; ii++)
        for (int algo = ENH_ALGO_WINO; algo <= ENH_ALGO_GEMM; algo++) {
            if (!enh_cpu_isa_supported(isas[ii]))
                continue;
            enh_conv_plan *plan;
            enh_error err;
            CHECK(enh_conv_plan_create_forced(&p, isas[ii], (enh_conv_algo)algo, &plan, &err) == ENH_OK);
            for (size_t i = 0; i < nout; i++)
                out[i] = NAN;
            enh_conv_plan_run(plan, in, 2, h, w, out, res, pool);
            double e = ku_rel_err(out, ref, nout);
            CHECK_MSG(e <= 3e-5, "%s clip: rel err %.3g", enh_conv_plan_kernel(plan), e);
            enh_conv_plan_free(plan);
        }
    free(wt), free(bias), free(in), free(res), free(ref), free(out), free(raw);
}

/* Which plans are depthwise: groups == cin == cout > 1 on the automatic choice only. */
static void selection(void)
{
    float wt[8 * 2 * 9] = {0}; /* enough for groups 4 below */
    enh_conv_params p = {.cin = 8, .cout = 8, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1,
                         .dil_w = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .groups = 8,
                         .weight = wt};
    enh_conv_plan *plan;
    enh_error err;
    CHECK(enh_conv_plan_create_forced(&p, ENH_ISA_AUTO, ENH_ALGO_GEMM, &plan, &err) == ENH_OK);
    CHECK(strstr(enh_conv_plan_kernel(plan), "-gemm") != NULL); /* a forced algorithm is obeyed */
    enh_conv_plan_free(plan);
    CHECK(enh_conv_plan_create_forced(&p, ENH_ISA_REF, ENH_ALGO_AUTO, &plan, &err) == ENH_OK);
    CHECK(!strcmp(enh_conv_plan_kernel(plan), "ref"));
    enh_conv_plan_free(plan);
    p.groups = 4; /* grouped but not depthwise */
    CHECK(enh_conv_plan_create_forced(&p, ENH_ISA_AUTO, ENH_ALGO_AUTO, &plan, &err) == ENH_OK);
    CHECK(strstr(enh_conv_plan_kernel(plan), "-dw") == NULL);
    enh_conv_plan_free(plan);
}

int main(void)
{
    enh_pool *pools[2] = {enh_pool_create(1), enh_pool_create(3)};
    CHECK(pools[0] && pools[1]);
    static const enh_act acts[] = {ENH_ACT_NONE, ENH_ACT_RELU, ENH_ACT_LEAKY, ENH_ACT_PRELU, ENH_ACT_CLIP};
    int k = 0;
    /* MobileNet's two shapes over widths 1..17, every activation in turn */
    for (int w = 1; w <= 17; w++) {
        const int h = 1 + (w * 5) % 9;
        shape s1 = {1, 3 + w % 13, h, w, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, acts[k++ % 5], w % 3 == 0, w % 4 == 1};
        shape s2 = {1 + w % 2, 2 + w % 11, h + 1, w, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, acts[k++ % 5], w % 3 == 1, 0};
        run_case(&s1, pools[w % 2]);
        run_case(&s2, pools[(w + 1) % 2]);
    }
    const shape odd[] = {
        /* wide rows: interior tiles of 4 vectors, 2-row tiles, a last odd row */
        {1, 17, 13, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, ENH_ACT_CLIP, 0, 0},
        {2, 9, 15, 113, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, ENH_ACT_CLIP, 1, 0},
        {1, 33, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, ENH_ACT_RELU, 1, 0},
        {1, 7, 14, 57, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, ENH_ACT_PRELU, 0, 0}, /* PyTorch-style s2 pad 1 */
        /* asymmetric pads, dilation, other kernels and strides */
        {1, 5, 9, 17, 3, 3, 1, 1, 2, 2, 2, 0, 1, 3, ENH_ACT_LEAKY, 1, 0},
        {2, 6, 11, 23, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, ENH_ACT_NONE, 0, 0},
        {1, 3, 10, 30, 3, 5, 2, 3, 1, 2, 1, 0, 2, 1, ENH_ACT_CLIP, 1, 0},
        {1, 4, 19, 41, 7, 7, 3, 3, 1, 1, 3, 3, 3, 3, ENH_ACT_RELU, 0, 0},
        {1, 11, 8, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, ENH_ACT_PRELU, 1, 1},
        {1, 2, 6, 40, 1, 3, 1, 2, 1, 3, 0, 4, 0, 0, ENH_ACT_NONE, 0, 0},
        {1, 9, 3, 4, 3, 3, 1, 1, 1, 1, 5, 6, 5, 6, ENH_ACT_CLIP, 0, 0},  /* pads wider than the row */
        {1, 19, 5, 100, 3, 3, 2, 2, 3, 3, 3, 3, 3, 3, ENH_ACT_LEAKY, 1, 0}, /* dilated stride 2 */
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        run_case(&odd[i], pools[1]);
        run_case(&odd[i], pools[0]);
    }
    clip_epilogues(pools[1]);
    selection();
    printf("worst relative error %.3g (bound %g)\n", worst, TOL);
    for (int i = ENH_ISA_PORTABLE; i <= ENH_ISA_AVX512; i++)
        if (enh_cpu_isa_supported((enh_isa)i)) {
            printf("%s: %d depthwise cases\n", enh_isa_name((enh_isa)i), cases[i]);
            CHECK(cases[i] == 57); /* 34 MobileNet shapes (one has no output) + 2 x 12 */
        }
    enh_pool_destroy(pools[0]);
    enh_pool_destroy(pools[1]);
    CHECK_MAIN_END();
}
