/* test_conv_fast.c - every fast conv kernel (each ISA this CPU has x each algorithm that
 * applies) against the reference kernel enh_conv2d_ref, on odd shapes: spatial sizes that are
 * not multiples of the tile or vector width, channel counts 1/3/17/33/48/64, every activation,
 * with and without residual, batch 1 and 2, strides, dilation, groups, 1x1 and 5x5 kernels.
 * Error bound: max|fast - ref| <= TOL * max|ref| with TOL 1e-5 for im2col+GEMM (fp32 sums
 * in another order) and 3e-5 for Winograd F(4x4,3x3) (transform rounding, weights of |G| <= 1/4
 * and B, A entries up to 8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/pool.h"
#include "kern_util.h"
#include "nn/conv.h"
#include "nn/conv_fast.h"

#define TOL_GEMM 1e-5
#define TOL_WINO 3e-5

typedef struct {
    int n, cin, cout, h, w, k, stride, dil, pad, groups;
    enh_act act;
    int residual;
} shape;

static double worst_gemm, worst_wino;
static int ran_isa[5][4];

static void run_case(const shape *s, enh_pool *pool)
{
    enh_conv_params p = {.cin = s->cin, .cout = s->cout, .kh = s->k, .kw = s->k,
                         .stride_h = s->stride, .stride_w = s->stride, .dil_h = s->dil,
                         .dil_w = s->dil, .pad_top = s->pad, .pad_left = s->pad,
                         .pad_bottom = s->pad, .pad_right = s->pad, .groups = s->groups,
                         .act = s->act, .act_slope = 0.2f};
    size_t nw = (size_t)s->cout * (s->cin / s->groups) * s->k * s->k;
    float *wt = ku_randv(nw, 0.3f), *bias = ku_randv((size_t)s->cout, 0.5f);
    float *prelu = ku_randv((size_t)s->cout, 0.4f);
    p.weight = wt;
    p.bias = bias;
    p.prelu = prelu;
    p.prelu_count = s->cout;
    int oh, ow;
    enh_conv_out_size(&p, s->h, s->w, &oh, &ow);
    size_t nin = (size_t)s->n * s->cin * s->h * s->w, nout = (size_t)s->n * s->cout * oh * ow;
    float *in = ku_randv(nin, 1.0f), *res = s->residual ? ku_randv(nout, 1.0f) : NULL;
    float *ref = malloc(nout * sizeof *ref), *out = malloc(nout * sizeof *out);
    enh_conv2d_ref(&p, in, s->n, s->h, s->w, ref, res, pool);
    const enh_isa isas[] = {ENH_ISA_PORTABLE, ENH_ISA_AVX2, ENH_ISA_AVX512};
    for (int ii = 0; ii < 3; ii++) {
        if (!enh_cpu_isa_supported(isas[ii]))
            continue;
        for (int algo = ENH_ALGO_WINO; algo <= ENH_ALGO_GEMM; algo++) {
            if (algo == ENH_ALGO_WINO && !enh_conv_wino_applies(&p))
                continue;
            enh_conv_plan *plan = NULL;
            enh_error err;
            enh_status st = enh_conv_plan_create_forced(&p, isas[ii], (enh_conv_algo)algo, &plan, &err);
            CHECK_MSG(st == ENH_OK, "%s", err.msg);
            if (st != ENH_OK)
                continue;
            for (size_t i = 0; i < nout; i++)
                out[i] = NAN; /* every element must be written */
            enh_conv_plan_run(plan, in, s->n, s->h, s->w, out, res, pool);
            double e = ku_rel_err(out, ref, nout);
            double tol = algo == ENH_ALGO_WINO ? TOL_WINO : TOL_GEMM;
            CHECK_MSG(e <= tol, "%s n=%d %d->%d %dx%d k%d s%d d%d p%d g%d act%d res%d: rel err %.3g > %.3g",
                      enh_conv_plan_kernel(plan), s->n, s->cin, s->cout, s->h, s->w, s->k, s->stride,
                      s->dil, s->pad, s->groups, (int)s->act, s->residual, e, tol);
            if (algo == ENH_ALGO_WINO && e > worst_wino)
                worst_wino = e;
            if (algo == ENH_ALGO_GEMM && e > worst_gemm)
                worst_gemm = e;
            ran_isa[isas[ii]][algo]++;
            enh_conv_plan_free(plan);
        }
    }
    free(wt), free(bias), free(prelu), free(in), free(res), free(ref), free(out);
}

int main(void)
{
    enh_pool *pool = enh_pool_create(3);
    CHECK(pool != NULL);
    const shape shapes[] = {
        /* 3x3 s1 p1: the Winograd shapes */
        {1, 3, 17, 5, 7, 3, 1, 1, 1, 1, ENH_ACT_NONE, 0},
        {1, 17, 33, 13, 9, 3, 1, 1, 1, 1, ENH_ACT_PRELU, 0},
        {2, 33, 48, 7, 5, 3, 1, 1, 1, 1, ENH_ACT_LEAKY, 1},
        {1, 64, 64, 9, 13, 3, 1, 1, 1, 1, ENH_ACT_RELU, 1},
        {1, 48, 3, 11, 6, 3, 1, 1, 1, 1, ENH_ACT_NONE, 1},
        {2, 16, 17, 21, 150, 3, 1, 1, 1, 1, ENH_ACT_LEAKY, 1}, /* interior fast path, 2+ groups */
        {1, 8, 8, 1, 1, 3, 1, 1, 1, 1, ENH_ACT_PRELU, 0},
        {1, 1, 1, 4, 4, 3, 1, 1, 1, 1, ENH_ACT_NONE, 0},
        /* generic shapes: GEMM only */
        {1, 17, 33, 5, 7, 1, 1, 1, 0, 1, ENH_ACT_PRELU, 1},
        {2, 33, 3, 13, 9, 1, 1, 1, 0, 1, ENH_ACT_NONE, 0},
        {1, 17, 33, 13, 9, 3, 2, 1, 1, 1, ENH_ACT_RELU, 0},
        {1, 6, 10, 13, 9, 5, 1, 2, 3, 1, ENH_ACT_LEAKY, 1},
        {2, 6, 10, 9, 11, 3, 1, 1, 1, 2, ENH_ACT_PRELU, 1},
        {1, 3, 64, 7, 5, 3, 1, 1, 0, 1, ENH_ACT_NONE, 0},
        {1, 64, 48, 5, 7, 3, 1, 1, 2, 1, ENH_ACT_RELU, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        run_case(&shapes[i], pool);
    printf("worst relative error: gemm %.3g (bound %g), winograd %.3g (bound %g)\n", worst_gemm,
           TOL_GEMM, worst_wino, TOL_WINO);
    for (int i = ENH_ISA_PORTABLE; i <= ENH_ISA_AVX512; i++)
        if (enh_cpu_isa_supported((enh_isa)i)) {
            printf("%s: %d winograd + %d gemm cases\n", enh_isa_name((enh_isa)i),
                   ran_isa[i][ENH_ALGO_WINO], ran_isa[i][ENH_ALGO_GEMM]);
            CHECK(ran_isa[i][ENH_ALGO_WINO] == 8 && ran_isa[i][ENH_ALGO_GEMM] == 15);
        }
    enh_pool_destroy(pool);
    CHECK_MAIN_END();
}
