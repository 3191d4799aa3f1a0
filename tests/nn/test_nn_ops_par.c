/* test_nn_ops_par.c - the pool-parallel ops (ops_par.h) give bit-identical results to their
 * reference oracles (ops_ref.h) on a 3-thread pool, on shapes that cross the chunk
 * boundaries (more than 16384 values, odd sizes, several images) and with every
 * broadcasting form of the binary op. */
#include <string.h>

#include "../check.h"
#include "nn/ops_par.h"
#include "nn/ops_ref.h"
#include "nn_util.h"

static enh_pool *g_pool;

static size_t vol(int n, enh_shape s) { return (size_t)n * s.c * s.h * s.w; }

static void same(const float *got, const float *want, size_t n, const char *what)
{
    CHECK_MSG(memcmp(got, want, n * sizeof *got) == 0, "%s differs from the reference", what);
}

static void test_pixelshuffle(void)
{
    static const struct { int c, h, w, r, n; } cases[] = {{4, 5, 7, 2, 1}, {27, 9, 11, 3, 2}, {48, 33, 21, 4, 1}};
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++)
        for (int dcr = 0; dcr < 2; dcr++) {
            enh_shape s = {cases[t].c, cases[t].h, cases[t].w};
            int n = cases[t].n;
            float *in = nn_rand_buf(vol(n, s), 1.f);
            float *a = enh_alloc(vol(n, s) * sizeof *a), *b = enh_alloc(vol(n, s) * sizeof *b);
            enh_pixelshuffle_ref(in, n, s, cases[t].r, dcr, a);
            memset(b, 0xff, vol(n, s) * sizeof *b); /* NaN: a value not written shows */
            enh_pixelshuffle(in, n, s, cases[t].r, dcr, b, g_pool);
            same(b, a, vol(n, s), "pixelshuffle");
            enh_free(in), enh_free(a), enh_free(b);
        }
}

static void test_binary(void)
{
    const int n = 2;
    const enh_shape so = {3, 37, 29};
    /* b broadcast as numpy does: full, per channel, per row, per column, scalar tensor */
    const enh_shape sbs[] = {{3, 37, 29}, {3, 1, 1}, {1, 37, 1}, {1, 1, 29}, {1, 1, 1}};
    float *a = nn_rand_buf(vol(n, so), 2.f);
    float *want = enh_alloc(vol(n, so) * sizeof *want), *got = enh_alloc(vol(n, so) * sizeof *got);
    for (int op = ENH_BIN_ADD; op <= ENH_BIN_RDIV; op++) {
        if (op == ENH_BIN_POW)
            continue; /* powf of negative bases: NaN patterns, same code path as the others */
        for (size_t k = 0; k < sizeof sbs / sizeof *sbs; k++) {
            float *b = nn_rand_buf(vol(n, sbs[k]), 2.f);
            enh_binary_ref((enh_binop)op, a, so, b, sbs[k], 0, n, so, want);
            memset(got, 0xff, vol(n, so) * sizeof *got);
            enh_binary((enh_binop)op, a, so, b, sbs[k], 0, n, so, got, g_pool);
            same(got, want, vol(n, so), "binary");
            /* a broadcast against a full b */
            enh_binary_ref((enh_binop)op, b, sbs[k], a, so, 0, n, so, want);
            enh_binary((enh_binop)op, b, sbs[k], a, so, 0, n, so, got, g_pool);
            same(got, want, vol(n, so), "binary (a broadcast)");
            enh_free(b);
        }
        enh_binary_ref((enh_binop)op, a, so, NULL, so, 0.75f, n, so, want);
        enh_binary((enh_binop)op, a, so, NULL, so, 0.75f, n, so, got, g_pool);
        same(got, want, vol(n, so), "binary with scalar");
    }
    enh_free(a), enh_free(want), enh_free(got);
}

static void test_eltwise(void)
{
    const enh_shape s = {5, 61, 67}; /* 20435 values per image: two chunks and a tail */
    const int n = 2;
    float *ins[3], coeffs[3] = {0.2f, 1.f, -0.5f};
    for (int k = 0; k < 3; k++)
        ins[k] = nn_rand_buf(vol(n, s), 1.f);
    float *want = enh_alloc(vol(n, s) * sizeof *want), *got = enh_alloc(vol(n, s) * sizeof *got);
    for (int op = ENH_ELT_PROD; op <= ENH_ELT_MAX; op++)
        for (int withc = 0; withc < 2; withc++) {
            const float *c = withc ? coeffs : NULL;
            enh_eltwise_ref((enh_eltop)op, c, (const float *const *)ins, 3, n, s, want);
            memset(got, 0xff, vol(n, s) * sizeof *got);
            enh_eltwise((enh_eltop)op, c, (const float *const *)ins, 3, n, s, got, g_pool);
            same(got, want, vol(n, s), "eltwise");
        }
    for (int k = 0; k < 3; k++)
        enh_free(ins[k]);
    enh_free(want), enh_free(got);
}

static void test_concat(void)
{
    const int n = 2;
    for (int axis = 0; axis < 3; axis++) {
        /* three inputs that differ along the concat axis only */
        enh_shape sh[3];
        enh_shape so = {64, axis == 0 ? 230 : 23, 19}; /* channel concat: 3 bands of rows per plane */
        int sizes[3] = {64, 32, 7};
        int total = 0;
        for (int k = 0; k < 3; k++) {
            sh[k] = so;
            if (axis == 0) sh[k].c = sizes[k];
            if (axis == 1) sh[k].h = sizes[k];
            if (axis == 2) sh[k].w = sizes[k];
            total += sizes[k];
        }
        if (axis == 0) so.c = total;
        if (axis == 1) so.h = total;
        if (axis == 2) so.w = total;
        float *ins[3];
        for (int k = 0; k < 3; k++)
            ins[k] = nn_rand_buf(vol(n, sh[k]), 1.f);
        float *want = enh_alloc(vol(n, so) * sizeof *want), *got = enh_alloc(vol(n, so) * sizeof *got);
        enh_concat_ref(axis, (const float *const *)ins, sh, 3, n, so, want);
        memset(got, 0xff, vol(n, so) * sizeof *got);
        enh_concat(axis, (const float *const *)ins, sh, 3, n, so, got, g_pool);
        same(got, want, vol(n, so), "concat");
        for (int k = 0; k < 3; k++)
            enh_free(ins[k]);
        enh_free(want), enh_free(got);
    }
}

int main(void)
{
    nn_seed(7);
    g_pool = enh_pool_create(3);
    CHECK(g_pool != NULL);
    if (!g_pool)
        CHECK_MAIN_END();
    test_pixelshuffle();
    test_binary();
    test_eltwise();
    test_concat();
    enh_pool_destroy(g_pool);
    CHECK_MAIN_END();
}
