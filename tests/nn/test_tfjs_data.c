/* test_tfjs_data.c - the TF.js runtime's data movement and shape arithmetic, op by op, on
 * synthetic graph models (tfjs_check.h: reference and fused runs against hand-computed
 * values): Transpose, Reshape, StridedSlice with every mask, ConcatV2, Pack, GatherV2; Cast,
 * int32 arithmetic, Range and the Shape -> StridedSlice -> Pack -> Reshape chain folded per
 * input size; and the weight encodings (uint8 / uint16 with scale and min, float16 with
 * subnormals and infinity, int32, bool) read from shards split over several files. */
#include <stdint.h>

#include "tfjs_check.h"

static void test_movement(void)
{
    tfs_model m;
    static const float tr[] = {0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11};
    /* NHWC -> NCHW */
    tfs_init(&m);
    const char *x = tfs_input(&m, 3);
    const char *y = TFS_TRANSPOSE(&m, x, 0, 3, 1, 2);
    run_case("transpose", &m, y, 2, 2, 3, iota(12, 0), OSHAPE(1, 3, 2, 2), tr, 0);
    CHECK(g_kinds[TFS_EW] == 1 && g_kinds[TFS_REF] == 0);

    /* Reshape with -1, then a 2-D transpose */
    tfs_init(&m);
    x = tfs_input(&m, 3);
    y = TFS_TRANSPOSE(&m, tfs_reshape(&m, x, TFS_VI(&m, -1, 3)), 1, 0);
    run_case("reshape -1", &m, y, 2, 2, 3, iota(12, 0), OSHAPE(3, 4), tr, 0);

    /* StridedSlice on 0..15 as 1x4x4x1 */
    struct {
        const char *label;
        int nb, b[4], e[4], s[4], bm, em, ell, na, sh, rank, shape[5], c;
        float expect[16];
    } ss[] = {
        {"x[:,1:3,::2,:]", 4, {0, 1, 0, 0}, {0, 3, 0, 0}, {1, 1, 2, 1}, 13, 13, 0, 0, 0, 4, {1, 2, 2, 1}, 1,
         {4, 6, 8, 10}},
        {"x[:,-1]", 2, {0, -1}, {0, 0}, {1, 1}, 1, 1, 0, 0, 2, 3, {1, 4, 1}, 1, {12, 13, 14, 15}},
        {"x[:,::-1]", 2, {0, 0}, {0, 0}, {1, -1}, 3, 3, 0, 0, 0, 4, {1, 4, 4, 1}, 1,
         {12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3}},
        {"x[:,3:0:-2]", 2, {0, 3}, {0, 0}, {1, -2}, 1, 1, 0, 0, 0, 4, {1, 2, 4, 1}, 1, {12, 13, 14, 15, 4, 5, 6, 7}},
        {"x[:,newaxis,1:]", 3, {0, 0, 1}, {0, 0, 0}, {1, 1, 1}, 1, 5, 0, 2, 0, 5, {1, 1, 3, 4, 1}, 1,
         {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
        {"x[...,1:3] (c 4)", 2, {0, 1}, {0, 3}, {1, 1}, 0, 0, 1, 0, 0, 4, {1, 2, 2, 2}, 4,
         {1, 2, 5, 6, 9, 10, 13, 14}},
    };
    for (size_t i = 0; i < sizeof ss / sizeof *ss; i++) {
        tfs_init(&m);
        x = tfs_input(&m, ss[i].c);
        y = tfs_sslice(&m, TFS_TF, x, tfs_vi(&m, ss[i].nb, ss[i].b), tfs_vi(&m, ss[i].nb, ss[i].e),
                       tfs_vi(&m, ss[i].nb, ss[i].s), ss[i].bm, ss[i].em, ss[i].ell, ss[i].na, ss[i].sh);
        int hw = ss[i].c == 4 ? 2 : 4;
        run_case(ss[i].label, &m, y, hw, hw, ss[i].c, iota(16, 0), ss[i].rank, ss[i].shape, ss[i].expect, 0);
    }

    /* ConcatV2 of x and 10x on the last axis and on axis 1 */
    for (int ax = 0; ax < 2; ax++) {
        tfs_init(&m);
        x = tfs_input(&m, 1);
        const char *parts[2] = {x, tfs_bin(&m, "Mul", x, tfs_sf(&m, 10))};
        y = tfs_concatv(&m, TFS_TF, 2, parts, ax ? 1 : -1);
        static const float c0[] = {1, 10, 2, 20, 3, 30, 4, 40}, c1[] = {1, 2, 3, 4, 10, 20, 30, 40};
        if (ax)
            run_case("concat axis 1", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(1, 4, 2, 1), c1, 0);
        else
            run_case("concat axis -1", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(1, 2, 2, 2), c0, 0);
    }

    /* Pack of r = [[1,2],[3,4]] and 10r on axes 0, 1, -1 */
    static const float pk[3][8] = {{1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 10, 20, 3, 4, 30, 40},
                                   {1, 10, 2, 20, 3, 30, 4, 40}};
    static const int axes[3] = {0, 1, -1};
    for (int a = 0; a < 3; a++) {
        tfs_init(&m);
        x = tfs_input(&m, 1);
        const char *r = tfs_reshape(&m, x, TFS_VI(&m, 2, 2));
        const char *parts[2] = {r, tfs_bin(&m, "Mul", r, tfs_sf(&m, 10))};
        y = tfs_packv(&m, TFS_TF, axes[a], 2, parts);
        run_case("pack", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(2, 2, 2), pk[a], 0);
    }

    /* GatherV2: rows (axis 1), columns (axis -2), and a 2-D index */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_gather(&m, x, TFS_VI(&m, 2, 0, 2), 1);
    run_case("gather axis 1", &m, y, 3, 2, 1, iota(6, 1), OSHAPE(1, 3, 2, 1), ((float[]){5, 6, 1, 2, 5, 6}), 0);
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_gather(&m, x, TFS_VI(&m, 2, 0), -2);
    run_case("gather axis -2", &m, y, 2, 3, 1, iota(6, 1), OSHAPE(1, 2, 2, 1), ((float[]){3, 1, 6, 4}), 0);
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_gather(&m, x, tfs_ci(&m, TFS_DIMS(2, 1), (int32_t[]){1, 0}), 1);
    run_case("gather 2-D index", &m, y, 2, 3, 1, iota(6, 1), OSHAPE(1, 2, 1, 3, 1), ((float[]){4, 5, 6, 1, 2, 3}), 0);
}

static void test_int_and_shape(void)
{
    tfs_model m;
    /* Cast float -> int32 truncates; int arithmetic on computed values; Cast -> bool */
    static const float cx[] = {1.7f, -1.7f, 2.5f, -0.2f};
    tfs_init(&m);
    const char *x = tfs_input(&m, 1);
    const char *xi = tfs_cast(&m, x, "DT_FLOAT", "DT_INT32");
    const char *y = tfs_cast(&m, xi, "DT_INT32", "DT_FLOAT");
    run_case("cast f->i->f", &m, y, 1, 4, 1, cx, OSHAPE(1, 1, 4, 1), ((float[]){1, -1, 2, 0}), 0);
    tfs_init(&m);
    x = tfs_input(&m, 1);
    xi = tfs_bini(&m, "AddV2", tfs_cast(&m, x, "DT_FLOAT", "DT_INT32"), tfs_si(&m, 5)); /* 6 4 7 5 */
    const char *q = tfs_bini(&m, "FloorDiv", xi, tfs_si(&m, 2));                        /* 3 2 3 2 */
    const char *r = tfs_bini(&m, "FloorMod", xi, tfs_si(&m, 4));                        /* 2 0 3 1 */
    y = tfs_cast(&m, tfs_bini(&m, "Mul", q, tfs_bini(&m, "Sub", r, tfs_si(&m, 1))), "DT_INT32", "DT_FLOAT");
    run_case("int arithmetic", &m, y, 1, 4, 1, cx, OSHAPE(1, 1, 4, 1), ((float[]){3, -2, 6, 0}), 0);
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_cast(&m, tfs_cast(&m, x, "DT_FLOAT", "DT_BOOL"), "DT_BOOL", "DT_FLOAT");
    run_case("cast -> bool", &m, y, 1, 4, 1, ((float[]){1.7f, 0, 2.5f, -0.2f}), OSHAPE(1, 1, 4, 1),
             ((float[]){1, 0, 1, 1}), 0);

    /* Range from the input's width (folded per size), up and down, added along W */
    for (int down = 0; down < 2; down++) {
        tfs_init(&m);
        x = tfs_input(&m, 1);
        const char *W = tfs_elem(&m, tfs_shape(&m, x), 2);
        const char *rg = down ? tfs_range(&m, W, tfs_si(&m, 0), tfs_si(&m, -1)) : tfs_range(&m, tfs_si(&m, 0), W,
                                                                                         tfs_si(&m, 1));
        const char *rf = tfs_reshape(&m, tfs_cast(&m, rg, "DT_INT32", "DT_FLOAT"), TFS_VI(&m, -1, 1));
        y = tfs_bin(&m, down ? "Mul" : "AddV2", x, rf);
        static const float re[2][6] = {{0, 2, 4, 3, 5, 7}, {0, 2, 2, 9, 8, 5}};
        run_case(down ? "range down" : "range", &m, y, 2, 3, 1, iota(6, 0), OSHAPE(1, 2, 3, 1), re[down], 0);
    }

    /* Shape -> StridedSlice -> Mul -> Pack -> Reshape at two sizes: [1, H*W, C] */
    for (int sz = 0; sz < 2; sz++) {
        tfs_init(&m);
        x = tfs_input(&m, 2);
        const char *s = tfs_shape(&m, x);
        const char *hw = tfs_bini(&m, "Mul", tfs_elem(&m, s, 1), tfs_elem(&m, s, 2));
        const char *parts[3] = {tfs_si(&m, 1), hw, tfs_elem(&m, s, 3)};
        y = tfs_reshape(&m, x, tfs_packv(&m, TFS_TI, 0, 3, parts));
        y = tfs_bin(&m, "Mul", y, tfs_sf(&m, 2));
        int h = sz ? 4 : 2, w = sz ? 1 : 3;
        float e[12];
        for (int i = 0; i < 12; i++)
            e[i] = 2.0f * (float)i;
        run_case("shape arithmetic", &m, y, h, w, 2, iota(12, 0), OSHAPE(1, h * w, 2), e, 0);
    }
}

static uint16_t u16le(uint16_t v)
{
    uint16_t r;
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    memcpy(&r, b, 2);
    return r;
}

static void test_quantised(void)
{
    /* x (zeros, 1x1x4x1) + each weight; an unused manifest entry first, an int32 and a float32
     * weight after the quantised ones (their offsets depend on the encodings' sizes), and the
     * shard split in 7-byte files */
    static const unsigned char q8[4] = {0, 1, 128, 255};
    uint16_t q16[4] = {u16le(0), u16le(1), u16le(40000), u16le(65535)};
    uint16_t h[8] = {0x3C00, 0xC000, 0x0001, 0x7BFF, 0x3555, 0x0200, 0x8000, 0x7C00};
    for (int i = 0; i < 8; i++)
        h[i] = u16le(h[i]);
    tfs_model m;
    tfs_init(&m);
    m.shard_bytes = 7;
    const char *x = tfs_input(&m, 1);
    tfs_unused_weight(&m, "unused_by_any_node", 3);
    int d4[4] = {1, 1, 4, 1}, d8[4] = {1, 1, 4, 2};
    const char *w8 = tfs_const_raw(&m, NULL, "float32", 4, d4, q8, 4,
                                   "\"dtype\": \"uint8\", \"min\": -1.0, \"scale\": 0.5, \"original_dtype\": \"float32\"");
    const char *w16 = tfs_const_raw(&m, NULL, "float32", 4, d4, q16, 8,
                                    "\"dtype\": \"uint16\", \"min\": -2, \"scale\": 0.001, \"original_dtype\": \"float32\"");
    const char *wh = tfs_const_raw(&m, NULL, "float32", 4, d8, h, 16, "\"dtype\": \"float16\", \"original_dtype\": \"float32\"");
    const char *wi = tfs_ci(&m, 4, d4, (int32_t[]){-3, 0, 7, 100000});
    const char *wf = tfs_cf(&m, 4, d4, (float[]){0.1f, -0.2f, 1e-30f, 3e38f});
    const char *parts[5] = {tfs_bin(&m, "AddV2", x, w8), tfs_bin(&m, "AddV2", x, w16), tfs_bin(&m, "AddV2", x, wh),
                            tfs_bin(&m, "AddV2", x, tfs_cast(&m, wi, "DT_INT32", "DT_FLOAT")),
                            tfs_bin(&m, "AddV2", x, wf)};
    const char *y = tfs_concatv(&m, TFS_TF, 5, parts, -1);
    float e[24];
    static const float e8[4] = {-1, -0.5f, 63, 126.5f}, ei[4] = {-3, 0, 7, 100000}, ef[4] = {0.1f, -0.2f, 1e-30f, 3e38f};
    static const float eh[8] = {1, -2, 5.9604645e-8f, 65504, 0.33325195f, 3.0517578e-05f, 0, INFINITY};
    static const unsigned q16v[4] = {0, 1, 40000, 65535};
    for (int i = 0; i < 4; i++) {
        e[i * 6 + 0] = e8[i];
        e[i * 6 + 1] = (float)q16v[i] * 0.001f + -2.0f;
        e[i * 6 + 2] = eh[2 * i], e[i * 6 + 3] = eh[2 * i + 1];
        e[i * 6 + 4] = ei[i], e[i * 6 + 5] = ef[i];
    }
    float zero[4] = {0};
    run_case("quantised weights", &m, y, 1, 4, 1, zero, OSHAPE(1, 1, 4, 6), e, 1e-6f);
}

int main(void)
{
    if (tfjs_check_begin("tfjs-data"))
        return 1;
    test_movement();
    test_int_and_shape();
    test_quantised();
    tfjs_check_end();
    CHECK_MAIN_END();
}
