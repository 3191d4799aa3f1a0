/* test_conv_plan.c - plan selection logic (the kernels and conv_algo runtime options, shape rules),
 * error returns, the plain enh_conv_plan_create/run API on an asymmetric 2x3 kernel, and the
 * fallback to the reference kernel when scratch memory cannot be allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/mem.h"
#include "core/pool.h"
#include "kern_util.h"
#include "nn/conv.h"
#include "nn/conv_fast.h"

static enh_conv_params conv3(int cin, int cout, float *w)
{
    enh_conv_params p = {.cin = cin, .cout = cout, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                         .dil_h = 1, .dil_w = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,
                         .pad_right = 1, .groups = 1, .weight = w};
    return p;
}

static enh_nn_options g_opt; /* the runtime options the plans are made with */

static const char *kernel_for(const enh_conv_params *p, enh_status *st)
{
    static char name[64];
    enh_conv_plan *plan = NULL;
    enh_error err;
    *st = enh_conv_plan_create_ex(p, &g_opt, &plan, &err);
    if (*st != ENH_OK)
        return "";
    snprintf(name, sizeof name, "%s", enh_conv_plan_kernel(plan));
    enh_conv_plan_free(plan);
    return name;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int main(void)
{
    float *w = ku_randv(64 * 64 * 9, 0.1f);
    enh_status st;
    enh_conv_params p64 = conv3(64, 64, w), p3 = conv3(3, 64, w), p1 = conv3(64, 64, w);
    p1.kh = p1.kw = 1;
    p1.pad_top = p1.pad_left = p1.pad_bottom = p1.pad_right = 0;
    const char *best = enh_isa_name(enh_cpu_best_isa());
    char expect[64];

    /* automatic choice */
    snprintf(expect, sizeof expect, "%s-winograd4x4", best);
    CHECK_MSG(!strcmp(kernel_for(&p64, &st), expect) && st == ENH_OK, "64->64 3x3 got %s", kernel_for(&p64, &st));
    CHECK_MSG(!strcmp(kernel_for(&p3, &st), expect), "3->64 3x3 got %s", kernel_for(&p3, &st));
    snprintf(expect, sizeof expect, "%s-gemm", best);
    CHECK_MSG(!strcmp(kernel_for(&p1, &st), expect), "1x1 got %s", kernel_for(&p1, &st));
    enh_conv_params pstride = p64;
    pstride.stride_h = 2;
    CHECK(ends_with(kernel_for(&pstride, &st), "-gemm"));
    enh_conv_params pgroup = p64;
    pgroup.groups = 4;
    CHECK(ends_with(kernel_for(&pgroup, &st), "-gemm"));

    /* the kernels option */
    g_opt.kernels = ENH_ISA_REF;
    CHECK(!strcmp(kernel_for(&p64, &st), "ref"));
    g_opt.kernels = ENH_ISA_PORTABLE;
    CHECK(!strcmp(kernel_for(&p64, &st), "portable-winograd4x4"));
    g_opt.kernels = ENH_ISA_AVX512;
    kernel_for(&p64, &st);
    CHECK(st == (enh_cpu_isa_supported(ENH_ISA_AVX512) ? ENH_OK : ENH_EUNSUPPORTED));
    g_opt.kernels = ENH_ISA_AVX2;
    kernel_for(&p64, &st);
    CHECK(st == (enh_cpu_isa_supported(ENH_ISA_AVX2) ? ENH_OK : ENH_EUNSUPPORTED));
    g_opt.kernels = ENH_ISA_AUTO;
    CHECK(ends_with(kernel_for(&p64, &st), "-winograd4x4"));
    enh_isa isa;
    CHECK(enh_isa_parse("sse9", &isa) == -1);
    CHECK(enh_isa_parse("portable", &isa) == 0 && isa == ENH_ISA_PORTABLE);
    CHECK(enh_isa_parse("auto", &isa) == 0 && isa == ENH_ISA_AUTO);
    /* the process default is what no options means (enh_conv_plan_create) */
    enh_nn_options def = {.kernels = ENH_ISA_REF};
    enh_nn_options_set_default(&def);
    enh_conv_plan *ref_plan = NULL;
    enh_error ref_err;
    CHECK(enh_conv_plan_create(&p64, &ref_plan, &ref_err) == ENH_OK && !strcmp(enh_conv_plan_kernel(ref_plan), "ref"));
    CHECK(enh_cpu_requested_isa(&isa) == 0 && isa == ENH_ISA_REF);
    enh_conv_plan_free(ref_plan);
    enh_nn_options_set_default(NULL);

    /* the conv_algo option: gemm everywhere; wino where it applies, automatic elsewhere */
    g_opt.conv_algo = ENH_ALGO_GEMM;
    CHECK(ends_with(kernel_for(&p64, &st), "-gemm"));
    CHECK(ends_with(kernel_for(&p3, &st), "-gemm"));
    g_opt.conv_algo = ENH_ALGO_WINO;
    CHECK(ends_with(kernel_for(&p3, &st), "-winograd4x4"));
    CHECK(ends_with(kernel_for(&p1, &st), "-gemm"));
    g_opt.conv_algo = ENH_ALGO_AUTO;
    enh_conv_algo algo;
    CHECK(enh_conv_algo_parse("fft", &algo) == -1);
    CHECK(enh_conv_algo_parse("winograd", &algo) == 0 && algo == ENH_ALGO_WINO);
    /* a budget below zero is refused; options describe themselves canonically (the cache key) */
    g_opt.wino_budget_kb = -1;
    kernel_for(&p64, &st);
    CHECK(st == ENH_EINVAL);
    g_opt.wino_budget_kb = 0;
    char d1[128], d2[128];
    enh_nn_options fp32 = {.precision = ENH_PRECISION_FP32, .wino_budget_kb = 512};
    enh_nn_options_describe(&g_opt, d1, sizeof d1);
    enh_nn_options_describe(&fp32, d2, sizeof d2);
    CHECK_MSG(!strcmp(d1, d2) && !strcmp(d1, "fp32 kernels=auto algo=auto wino_kb=512 vcache=on"), "%s / %s", d1, d2);

    /* forced algorithm that does not apply; invalid shapes */
    enh_conv_plan *plan = NULL;
    enh_error err;
    CHECK(enh_conv_plan_create_forced(&p1, ENH_ISA_AUTO, ENH_ALGO_WINO, &plan, &err) == ENH_EUNSUPPORTED);
    CHECK(plan == NULL && strstr(err.msg, "Winograd") != NULL);
    enh_conv_params bad = p64;
    bad.groups = 3;
    CHECK(enh_conv_plan_create(&bad, &plan, &err) == ENH_EINVAL);
    bad = p64;
    bad.act = ENH_ACT_PRELU; /* no slopes */
    CHECK(enh_conv_plan_create(&bad, &plan, &err) == ENH_EINVAL);

    /* plain API on an asymmetric 2x3 kernel with uneven padding, batch 2, residual */
    enh_pool *pool = enh_pool_create(2);
    enh_conv_params pa = {.cin = 5, .cout = 7, .kh = 2, .kw = 3, .stride_h = 1, .stride_w = 2,
                          .dil_h = 1, .dil_w = 1, .pad_top = 0, .pad_left = 2, .pad_bottom = 1,
                          .pad_right = 0, .groups = 1, .act = ENH_ACT_LEAKY, .act_slope = 0.1f,
                          .weight = w, .bias = w + 100};
    int oh, ow;
    enh_conv_out_size(&pa, 9, 11, &oh, &ow);
    size_t nin = 2 * 5 * 9 * 11, nout = 2 * 7 * (size_t)oh * ow;
    float *in = ku_randv(nin, 1), *res = ku_randv(nout, 1);
    float *ref = calloc(nout, sizeof *ref), *out = calloc(nout, sizeof *out);
    enh_conv2d_ref(&pa, in, 2, 9, 11, ref, res, pool);
    CHECK(enh_conv_plan_create(&pa, &plan, &err) == ENH_OK);
    enh_conv_plan_run(plan, in, 2, 9, 11, out, res, pool);
    CHECK(ku_rel_err(out, ref, nout) <= 1e-5);
    enh_conv_plan_free(plan);

    /* scratch cannot be allocated: the run waits for the reserve and runs single-threaded */
    float *in64 = ku_randv(64 * 20 * 20, 1), *ref64 = calloc(64 * 400, 4), *out64 = calloc(64 * 400, 4);
    CHECK(enh_conv_plan_create(&p64, &plan, &err) == ENH_OK);
    enh_conv2d_ref(&p64, in64, 1, 20, 20, ref64, NULL, pool);
    enh_mem_set_fail_above(4096);
    enh_conv_plan_run(plan, in64, 1, 20, 20, out64, NULL, pool);
    enh_mem_set_fail_above(0);
    CHECK(ku_rel_err(out64, ref64, 64 * 400) <= 3e-5);
    /* and works again, fast, afterwards */
    memset(out64, 0, 64 * 400 * 4);
    enh_conv_plan_run(plan, in64, 1, 20, 20, out64, NULL, pool);
    CHECK(ku_rel_err(out64, ref64, 64 * 400) <= 3e-5);
    enh_conv_plan_free(plan);
    /* the caller's weights were only borrowed: the plan still runs after they are gone */
    float *w2 = ku_randv(64 * 64 * 9, 0.1f);
    enh_conv_params p2 = conv3(64, 64, w2);
    CHECK(enh_conv_plan_create(&p2, &plan, &err) == ENH_OK);
    enh_conv2d_ref(&p2, in64, 1, 20, 20, ref64, NULL, pool);
    for (int i = 0; i < 64 * 64 * 9; i++)
        w2[i] = 1e9f;
    free(w2);
    enh_conv_plan_run(plan, in64, 1, 20, 20, out64, NULL, pool);
    CHECK(ku_rel_err(out64, ref64, 64 * 400) <= 3e-5);
    enh_conv_plan_free(plan);

    enh_pool_destroy(pool);
    free(w), free(in), free(res), free(ref), free(out), free(in64), free(ref64), free(out64);
    CHECK_MAIN_END();
}
