/* test_gemm.c - the GEMM of nn/gemm.h: every kernel path this CPU has (ref, portable, avx2,
 * avx512) against enh_gemm_ref on odd shapes (m in {1,5,7,13,97,1000}, k in {1,3,7,17,64,300},
 * n in {1,3,8,15,16,17,33,100}), row strides longer than the rows, every activation, residual
 * off / separate / aliasing C, 1 and 2 threads. C starts as NaN (unwritten elements fail) and
 * the padding after each row of C holds a sentinel that must survive.
 * Error bound: max|fast - ref| <= TOL * max(max|ref|, 1e-3), TOL 1e-5 (fp32 sums in blocked order
 * vs the double reference, and the vector exp of GELU/sigmoid). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/mem.h"
#include "core/pool.h"
#include "kern_util.h"
#include "nn/gemm.h"

#define TOL 1e-5
#define SENTINEL 12345.0f

enum { RES_NONE, RES_SEP, RES_ALIAS };

static double worst[5];
static int ran[5];

/* One shape and epilogue: the reference once, then every path. */
static void run_case(int m, int k, int n, enh_gemm_act act, int resmode, enh_pool *pool)
{
    const int lda = k + 3, ldb = n + 1, ldc = n + 5, ldr = resmode == RES_ALIAS ? ldc : n + 2;
    float *a = ku_randv((size_t)m * lda, 1.0f), *b = ku_randv((size_t)k * ldb, 0.5f);
    float *bias = ku_randv((size_t)n, 0.5f);
    float *res = resmode != RES_NONE ? ku_randv((size_t)m * ldr, 1.0f) : NULL;
    float *ref = malloc((size_t)m * ldc * sizeof *ref), *c = malloc((size_t)m * ldc * sizeof *c);
    const int use_bias = (m + k + n) % 4 != 0; /* now and then without a bias */
    enh_gemm_epi epi = {act, 0.1f, res, ldr};
    for (size_t i = 0; i < (size_t)m * ldc; i++)
        ref[i] = SENTINEL;
    enh_gemm_ref(a, m, k, lda, b, n, ldb, use_bias ? bias : NULL, ref, ldc, &epi);
    const enh_isa isas[] = {ENH_ISA_REF, ENH_ISA_PORTABLE, ENH_ISA_AVX2, ENH_ISA_AVX512};
    for (int ii = 0; ii < 4; ii++) {
        if (!enh_cpu_isa_supported(isas[ii]))
            continue;
        enh_gemm_b *pb = NULL;
        enh_error err;
        enh_status st = enh_gemm_pack_b_isa(b, k, n, ldb, use_bias ? bias : NULL, isas[ii], &pb, &err);
        CHECK_MSG(st == ENH_OK, "%s", err.msg);
        if (st != ENH_OK)
            continue;
        CHECK(enh_gemm_b_k(pb) == k && enh_gemm_b_n(pb) == n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
                c[(size_t)i * ldc + j] = j < n ? NAN : SENTINEL;
        enh_gemm_epi e = epi;
        if (resmode == RES_ALIAS) { /* C starts as the residual and is overwritten in place */
            for (int i = 0; i < m; i++)
                memcpy(c + (size_t)i * ldc, res + (size_t)i * ldr, (size_t)n * sizeof *c);
            e.residual = c;
        }
        enh_gemm_run(pb, a, m, lda, c, ldc, &e, pool);
        int pad_ok = 1;
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++)
                pad_ok &= c[(size_t)i * ldc + j] == SENTINEL;
        float *cc = malloc((size_t)m * n * sizeof *cc), *rr = malloc((size_t)m * n * sizeof *rr);
        for (int i = 0; i < m; i++) {
            memcpy(cc + (size_t)i * n, c + (size_t)i * ldc, (size_t)n * sizeof *cc);
            memcpy(rr + (size_t)i * n, ref + (size_t)i * ldc, (size_t)n * sizeof *rr);
        }
        double err_rel = ku_rel_err(cc, rr, (size_t)m * n);
        CHECK_MSG(err_rel <= TOL && pad_ok, "%s m=%d k=%d n=%d act=%d res=%d bias=%d threads=%d: rel err %.3g%s",
                  enh_gemm_b_kernel(pb), m, k, n, (int)act, resmode, use_bias, pool ? enh_pool_threads(pool) : 1,
                  err_rel, pad_ok ? "" : ", wrote past the row");
        if (err_rel > worst[isas[ii]])
            worst[isas[ii]] = err_rel;
        ran[isas[ii]]++;
        free(cc), free(rr);
        enh_gemm_b_free(pb);
    }
    free(a), free(b), free(bias), free(res), free(ref), free(c);
}

/* The reference itself on values worked out by hand. */
static void test_ref_known(void)
{
    const float a[2 * 2] = {1, 2, 3, 4}, b[2 * 2] = {1, 0, 0.5f, -1}, bias[2] = {0.25f, 0};
    float c[4], r[4] = {1, 1, 1, 1};
    enh_gemm_ref(a, 2, 2, 2, b, 2, 2, bias, c, 2, NULL);
    CHECK_NEAR(c[0], 2.25, 1e-6);
    CHECK_NEAR(c[1], -2, 1e-6);
    CHECK_NEAR(c[2], 5.25, 1e-6);
    CHECK_NEAR(c[3], -4, 1e-6);
    enh_gemm_epi e = {ENH_GEMM_ACT_LEAKY, 0.5f, r, 2};
    enh_gemm_ref(a, 2, 2, 2, b, 2, 2, bias, c, 2, &e);
    CHECK_NEAR(c[0], 3.25, 1e-6);
    CHECK_NEAR(c[1], 0, 1e-6);
    CHECK_NEAR(c[3], -1, 1e-6);
    const float one = 1, zero = 0, id = 1;
    e = (enh_gemm_epi){ENH_GEMM_ACT_GELU_TANH, 0, NULL, 0};
    enh_gemm_ref(&one, 1, 1, 1, &id, 1, 1, NULL, c, 1, &e);
    CHECK_NEAR(c[0], 0.8411920, 1e-6);
    e.act = ENH_GEMM_ACT_SIGMOID;
    enh_gemm_ref(&zero, 1, 1, 1, &id, 1, 1, NULL, c, 1, &e);
    CHECK_NEAR(c[0], 0.5, 1e-7);
}

static void test_errors(void)
{
    float b[4] = {0};
    enh_gemm_b *pb = (enh_gemm_b *)1;
    enh_error err;
    CHECK(enh_gemm_pack_b(b, 0, 2, 2, NULL, &pb, &err) == ENH_EINVAL && pb == NULL);
    CHECK(enh_gemm_pack_b(b, 2, 2, 1, NULL, &pb, &err) == ENH_EINVAL);
    CHECK(enh_gemm_pack_b(NULL, 2, 2, 2, NULL, &pb, &err) == ENH_EINVAL);
    if (!enh_cpu_isa_supported(ENH_ISA_AVX512))
        CHECK(enh_gemm_pack_b_isa(b, 2, 2, 2, NULL, ENH_ISA_AVX512, &pb, &err) == ENH_EUNSUPPORTED);
    float wide[2 * 64] = {0};
    CHECK(enh_gemm_pack_b(wide, 2, 64, 64, NULL, &pb, &err) == ENH_OK); /* N > 16: the widest kernel */
    CHECK(!strcmp(enh_gemm_b_kernel(pb), enh_gemm_kernel_name()));
    enh_gemm_run(pb, b, 0, 2, b, 2, NULL, NULL); /* m = 0: nothing */
    enh_gemm_b_free(pb);
    enh_gemm_b_free(NULL);
}

/* C is the residual and K has several blocks, so a run needs partial-sum scratch: with every
 * large allocation failing it must still finish, in the reserve that packing set aside. */
static void test_no_scratch(enh_pool *pool)
{
    const int m = 150, k = 600, n = 200;
    float *a = ku_randv((size_t)m * k, 1.0f), *b = ku_randv((size_t)k * n, 0.5f), *bias = ku_randv((size_t)n, 0.5f);
    float *res = ku_randv((size_t)m * n, 1.0f), *ref = malloc((size_t)m * n * sizeof *ref);
    float *c = malloc((size_t)m * n * sizeof *c);
    enh_gemm_epi e = {ENH_GEMM_ACT_RELU, 0, res, n};
    enh_gemm_ref(a, m, k, k, b, n, n, bias, ref, n, &e);
    enh_gemm_b *pb = NULL;
    CHECK(enh_gemm_pack_b(b, k, n, n, bias, &pb, NULL) == ENH_OK);
    memcpy(c, res, (size_t)m * n * sizeof *c);
    e.residual = c;
    enh_mem_set_fail_above(16384);
    enh_gemm_run(pb, a, m, k, c, n, &e, pool);
    enh_mem_set_fail_above(0);
    double err_rel = ku_rel_err(c, ref, (size_t)m * n);
    CHECK_MSG(err_rel <= TOL, "%s without scratch: rel err %.3g", enh_gemm_b_kernel(pb), err_rel);
    enh_gemm_b_free(pb);
    free(a), free(b), free(bias), free(res), free(ref), free(c);
}

int main(void)
{
    enh_pool *pool = enh_pool_create(2);
    CHECK(pool != NULL);
    test_ref_known();
    test_errors();
    test_no_scratch(pool);
    static const int ms[] = {1, 5, 7, 13, 97, 1000}, ks[] = {1, 3, 7, 17, 64, 300};
    static const int ns[] = {1, 3, 8, 15, 16, 17, 33, 100};
    int idx = 0;
    /* every shape, with the epilogue and thread count rotating */
    for (int mi = 0; mi < 6; mi++)
        for (int ki = 0; ki < 6; ki++)
            for (int ni = 0; ni < 8; ni++, idx++) {
                int v = idx % 15;
                run_case(ms[mi], ks[ki], ns[ni], (enh_gemm_act)(v % 5), v / 5, idx % 2 ? pool : NULL);
            }
    /* every epilogue x residual mode x thread count on a few shapes, 3 K blocks included */
    static const int full[][3] = {{97, 300, 33}, {13, 17, 17}, {200, 600, 40}, {7, 64, 100}};
    for (int s = 0; s < 4; s++)
        for (int v = 0; v < 15; v++)
            for (int t = 0; t < 2; t++)
                run_case(full[s][0], full[s][1], full[s][2], (enh_gemm_act)(v % 5), v / 5, t ? pool : NULL);
    for (int i = 0; i < 4; i++)
        if (ran[i])
            printf("%-9s %4d cases, worst rel err %.3g\n", enh_isa_name((enh_isa)i), ran[i], worst[i]);
    printf("default kernel: %s\n", enh_gemm_kernel_name());
    enh_pool_destroy(pool);
    CHECK_MAIN_END();
}
