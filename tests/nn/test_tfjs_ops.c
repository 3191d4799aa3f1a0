/* test_tfjs_ops.c - the TF.js runtime's compute ops, one by one, on small synthetic graph
 * models (tfjs_check.h: written in the tfjs-converter format, loaded by the real loader, run
 * as reference steps and fused) against values computed by hand: Conv2D (SAME / VALID /
 * EXPLICIT, stride 1 and 2, dilation, 1x1 as Dense), Conv2DBackpropInput, the Dense and resize
 * Einsums, reductions, broadcasting binary and unary ops, SelectV2, the activations as Flax
 * writes them (GELU tanh, sigmoid, leaky ReLU; also inside a GEMM's epilogue) and LayerNorm. */
#include <stdint.h>

#include "tfjs_check.h"

static void test_conv(void)
{
    tfs_model m;
    /* SAME, stride 1, 2 output channels: a 3x3 box sum and 2x the centre */
    tfs_init(&m);
    const char *x = tfs_input(&m, 1);
    float f[18];
    for (int k = 0; k < 9; k++)
        f[2 * k] = 1, f[2 * k + 1] = k == 4 ? 2 : 0;
    const char *y = tfs_conv(&m, x, tfs_cf(&m, TFS_DIMS(3, 3, 1, 2), f), "SAME", 1);
    static const float e1[] = {12, 2, 21, 4, 16, 6, 27, 8, 45, 10, 33, 12, 24, 14, 39, 16, 28, 18};
    run_case("conv SAME s1", &m, y, 3, 3, 1, iota(9, 1), OSHAPE(1, 3, 3, 2), e1, 1e-6f);
    CHECK(g_kinds[TFS_CONV] == 1 && g_kinds[TFS_REF] == 0);

    /* VALID, stride 2, + bias: 3x3 box sums of x[i][j] = 5i + j at (0,0) (0,2) (2,0) (2,2), + 1 */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    for (int k = 0; k < 9; k++)
        f[k] = 1;
    y = tfs_conv(&m, x, tfs_cf(&m, TFS_DIMS(3, 3, 1, 1), f), "VALID", 2);
    y = tfs_bin(&m, "AddV2", y, tfs_cf(&m, TFS_DIMS(1), (float[]){1}));
    static const float e2[] = {55, 73, 145, 163};
    run_case("conv VALID s2 + bias", &m, y, 5, 5, 1, iota(25, 0), OSHAPE(1, 2, 2, 1), e2, 1e-6f);
    CHECK(g_kinds[TFS_CONV] == 1 && g_kinds[TFS_REF] == 0 && g_kinds[TFS_EW] == 0);

    /* SAME, stride 2 on an even size: TF pads 0 before and 1 after */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_conv(&m, x, tfs_cf(&m, TFS_DIMS(3, 3, 1, 1), f), "SAME", 2);
    static const float e3[] = {45, 39, 66, 50};
    run_case("conv SAME s2", &m, y, 4, 4, 1, iota(16, 0), OSHAPE(1, 2, 2, 1), e3, 1e-6f);

    /* EXPLICIT padding: 1 row on top, 1 column on the right */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_op(&m, "Conv2D",
               tfs_fmt("\"padding\": {\"s\": \"%s\"}, \"explicit_paddings\": {\"list\": {\"i\": [\"0\", \"0\", \"1\", "
                       "\"0\", \"0\", \"1\", \"0\", \"0\"]}}, " TFS_TF, tfs_b64("EXPLICIT")),
               x, tfs_cf(&m, TFS_DIMS(3, 3, 1, 1), f), NULL);
    run_case("conv EXPLICIT", &m, y, 3, 3, 1, iota(9, 1), OSHAPE(1, 2, 2, 1), ((float[]){21, 16, 45, 33}), 1e-6f);
    CHECK(g_kinds[TFS_CONV] == 1 && g_kinds[TFS_REF] == 0);

    /* dilation 2, VALID: x[i][j] = 5i + j at rows and columns 0, 2, 4 */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_op(&m, "Conv2D",
               tfs_fmt("\"padding\": {\"s\": \"%s\"}, \"dilations\": {\"list\": {\"i\": [\"1\", \"2\", \"2\", \"1\"]}}, "
                       TFS_TF, tfs_b64("VALID")),
               x, tfs_cf(&m, TFS_DIMS(3, 3, 1, 1), f), NULL);
    run_case("conv dilation 2", &m, y, 5, 5, 1, iota(25, 0), OSHAPE(1, 1, 1, 1), ((float[]){108}), 1e-6f);

    /* 1x1 SAME: a Dense over channels; x = (1,2),(3,4) -> (x0 - x1, 2 x1) */
    tfs_init(&m);
    x = tfs_input(&m, 2);
    y = tfs_conv(&m, x, tfs_cf(&m, TFS_DIMS(1, 1, 2, 2), (float[]){1, 0, -1, 2}), "SAME", 1);
    static const float e4[] = {-1, 4, -1, 8};
    run_case("conv 1x1", &m, y, 1, 2, 2, iota(4, 1), OSHAPE(1, 1, 2, 2), e4, 1e-6f);
    CHECK(g_kinds[TFS_DENSE] == 1 && g_kinds[TFS_REF] == 0);
}

static void test_deconv(void)
{
    /* 2x2 stride 2 VALID, 1 -> 2 channels: each input pixel scales the 2x2 filter */
    static const float ch0[] = {1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16};
    static const float ch1[] = {-1, 0, -2, 0, 0, 1, 0, 2, -3, 0, -4, 0, 0, 3, 0, 4};
    float e[32], f[8] = {1, -1, 2, 0, 3, 0, 4, 1}; /* [ky][kx][out][in] */
    for (int i = 0; i < 16; i++)
        e[2 * i] = ch0[i], e[2 * i + 1] = ch1[i];
    tfs_model m;
    tfs_init(&m);
    const char *x = tfs_input(&m, 1);
    const char *y = tfs_deconv(&m, TFS_VI(&m, 1, 4, 4, 2), tfs_cf(&m, TFS_DIMS(2, 2, 2, 1), f), x, "VALID", 2);
    run_case("deconv 2x2 s2", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(1, 4, 4, 2), e, 1e-6f);
    CHECK(g_kinds[TFS_DECONV] == 1 && g_kinds[TFS_REF] == 0);

    /* + bias (fused into the scatter) */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_deconv(&m, TFS_VI(&m, 1, 4, 4, 2), tfs_cf(&m, TFS_DIMS(2, 2, 2, 1), f), x, "VALID", 2);
    y = tfs_bin(&m, "AddV2", y, tfs_cf(&m, TFS_DIMS(2), (float[]){0.5f, -1}));
    float eb[32];
    for (int i = 0; i < 32; i++)
        eb[i] = e[i] + (i % 2 ? -1 : 0.5f);
    run_case("deconv + bias", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(1, 4, 4, 2), eb, 1e-6f);
    CHECK(g_kinds[TFS_DECONV] == 1 && g_kinds[TFS_EW] == 0);

    /* 3x3 stride 2 SAME (the reference path): 2x2 -> 4x4, TF pads 0 before and 1 after */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    y = tfs_deconv(&m, TFS_VI(&m, 1, 4, 4, 1), tfs_cf(&m, TFS_DIMS(3, 3, 1, 1), ones), x, "SAME", 2);
    run_case("deconv 3x3 s2 SAME", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(1, 4, 4, 1),
             ((float[]){1, 1, 3, 2, 1, 1, 3, 2, 4, 4, 10, 6, 3, 3, 7, 4}), 1e-6f);

    /* input_sizes one larger than 2 x input (TF allows it with VALID): the extra last row and
     * column are 0 */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_deconv(&m, TFS_VI(&m, 1, 5, 5, 1), tfs_cf(&m, TFS_DIMS(2, 2, 1, 1), (float[]){1, 2, 3, 4}), x, "VALID", 2);
    float e5[25] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            e5[i * 5 + j] = ch0[i * 4 + j];
    run_case("deconv to 5x5", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(1, 5, 5, 1), e5, 1e-6f);
}

static void test_einsum(void)
{
    /* Dense abcg,gf->abcf + bias: (x0 + x2, x1 + x2) + (0.5, -0.5) */
    tfs_model m;
    tfs_init(&m);
    const char *x = tfs_input(&m, 3);
    const char *y = tfs_einsum(&m, "abcg,gf->abcf", x, tfs_cf(&m, TFS_DIMS(3, 2), (float[]){1, 0, 0, 1, 1, 1}));
    y = tfs_bin(&m, "AddV2", y, tfs_cf(&m, TFS_DIMS(2), (float[]){0.5f, -0.5f}));
    static const float e1[] = {4.5f, 4.5f, 10.5f, 10.5f, 16.5f, 16.5f, 22.5f, 22.5f};
    run_case("einsum dense + bias", &m, y, 2, 2, 3, iota(12, 1), OSHAPE(1, 2, 2, 2), e1, 1e-6f);
    CHECK(g_kinds[TFS_DENSE] == 1 && g_kinds[TFS_REF] == 0 && g_kinds[TFS_EW] == 0);

    /* the resize forms with a sparse matrix M[g][b] = (b / 2 == g) * (1 + b % 2) */
    float mat[32] = {0};
    for (int b = 0; b < 8; b++)
        mat[(b / 2) * 8 + b] = (float)(1 + b % 2);
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_einsum(&m, "gb,cgef->bcef", tfs_cf(&m, TFS_DIMS(4, 8), mat), x);
    static const float e2[] = {1, 2, 2, 4, 3, 4, 6, 8, 5, 6, 10, 12, 7, 8, 14, 16};
    run_case("einsum gb,cgef->bcef", &m, y, 4, 2, 1, iota(8, 1), OSHAPE(8, 1, 2, 1), e2, 1e-6f);
    CHECK(g_kinds[TFS_AXISMIX] == 1 && g_kinds[TFS_REF] == 0);

    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_einsum(&m, "abgd,gf->abdf", x, tfs_cf(&m, TFS_DIMS(4, 8), mat));
    static const float e3[] = {1, 2, 2, 4, 3, 6, 4, 8, 5, 10, 6, 12, 7, 14, 8, 16};
    run_case("einsum abgd,gf->abdf", &m, y, 2, 4, 1, iota(8, 1), OSHAPE(1, 2, 1, 8), e3, 1e-6f);
    CHECK(g_kinds[TFS_AXISMIX] == 1 && g_kinds[TFS_REF] == 0);
}

static void test_reduce(void)
{
    /* x = 1..12 as 1x2x3x2 */
    struct {
        const char *label, *op;
        int na, ax[2], keep, rank, shape[4];
        float e[6];
    } rc[] = {
        {"sum H,W keep", "Sum", 2, {1, 2}, 1, 4, {1, 1, 1, 2}, {36, 42}},
        {"sum -1", "Sum", 1, {-1}, 0, 3, {1, 2, 3}, {3, 7, 11, 15, 19, 23}},
        {"mean H,W keep", "Mean", 2, {1, 2}, 1, 4, {1, 1, 1, 2}, {6, 7}},
        {"sum H,C keep", "Sum", 2, {1, 3}, 1, 4, {1, 1, 3, 1}, {18, 26, 34}},
        {"sum W", "Sum", 1, {2}, 0, 3, {1, 2, 2}, {9, 12, 27, 30}},
    };
    for (size_t i = 0; i < sizeof rc / sizeof *rc; i++) {
        tfs_model m;
        tfs_init(&m);
        const char *x = tfs_input(&m, 2);
        const char *y = tfs_sum(&m, rc[i].op, x, tfs_vi(&m, rc[i].na, rc[i].ax), rc[i].keep);
        run_case(rc[i].label, &m, y, 2, 3, 2, iota(12, 1), rc[i].rank, rc[i].shape, rc[i].e, 1e-6f);
    }
}

/* y = op(x, const) or op(const, x) with x = [1, 2] as 1x2x1x1 and const [3, 1]. */
static void bin_case(const char *op, int const_first, const float *cv, const float *e)
{
    tfs_model m;
    tfs_init(&m);
    const char *x = tfs_input(&m, 1), *c = tfs_cf(&m, TFS_DIMS(3, 1), cv);
    const char *y = const_first ? tfs_bin(&m, op, c, x) : tfs_bin(&m, op, x, c);
    run_case(op, &m, y, 2, 1, 1, iota(2, 1), OSHAPE(1, 2, 3, 1), e, 1e-6f);
}

static void test_elementwise(void)
{
    static const float b[3] = {10, 20, 30}, mm[3] = {1.5f, 0, 5};
    bin_case("AddV2", 0, b, (float[]){11, 21, 31, 12, 22, 32});
    bin_case("Sub", 1, b, (float[]){9, 19, 29, 8, 18, 28});
    bin_case("Mul", 0, b, (float[]){10, 20, 30, 20, 40, 60});
    bin_case("RealDiv", 1, b, (float[]){10, 20, 30, 5, 10, 15});
    bin_case("Maximum", 0, mm, (float[]){1.5f, 1, 5, 2, 2, 5});
    bin_case("Minimum", 0, mm, (float[]){1, 0, 1, 1.5f, 0, 2});
    bin_case("SquaredDifference", 0, b, (float[]){81, 361, 841, 64, 324, 784});

    tfs_model m;
    /* Pow, FloorDiv, FloorMod (float): x = [-7, 7] */
    const char *ops[3] = {"Pow", "FloorDiv", "FloorMod"};
    static const float pe[3][2] = {{-343, 343}, {-3, 2}, {2, 1}};
    for (int i = 0; i < 3; i++) {
        tfs_init(&m);
        const char *x = tfs_input(&m, 1);
        const char *y = tfs_bin(&m, ops[i], x, tfs_sf(&m, i ? 3.0f : 3.0f));
        run_case(ops[i], &m, y, 2, 1, 1, ((float[]){-7, 7}), OSHAPE(1, 2, 1, 1), pe[i], 1e-6f);
    }

    /* SelectV2: where(x > 0, x, -1), and a bool constant condition broadcast over rows */
    static const float sx[] = {-2, -0.5f, 0, 1.5f};
    tfs_init(&m);
    const char *x = tfs_input(&m, 1);
    const char *y = tfs_select(&m, tfs_op(&m, "Greater", TFS_TF, x, tfs_sf(&m, 0), NULL), x, tfs_sf(&m, -1));
    run_case("select", &m, y, 2, 2, 1, sx, OSHAPE(1, 2, 2, 1), ((float[]){-1, -1, -1, 1.5f}), 0);
    tfs_init(&m);
    x = tfs_input(&m, 1);
    const char *cb = tfs_const_raw(&m, NULL, "bool", 4, (int[]){1, 1, 2, 1}, (unsigned char[]){1, 0}, 2, NULL);
    y = tfs_select(&m, cb, x, tfs_un(&m, "Neg", x));
    run_case("select bool const", &m, y, 2, 2, 1, sx, OSHAPE(1, 2, 2, 1), ((float[]){-2, 0.5f, 0, -1.5f}), 0);

    /* unary ops on [0.25, 1, 4, 9] */
    static const float ux[] = {0.25f, 1, 4, 9};
    struct {
        const char *op;
        float e[4];
        float tol;
    } un[] = {
        {"Sqrt", {0.5f, 1, 2, 3}, 0},   {"Rsqrt", {2, 1, 0.5f, 1 / 3.f}, 0}, {"Reciprocal", {4, 1, 0.25f, 1 / 9.f}, 0},
        {"Square", {0.0625f, 1, 16, 81}, 0}, {"Neg", {-0.25f, -1, -4, -9}, 0}, {"Log", {-1.3862944f, 0, 1.3862944f, 2.1972246f}, 0},
        {"Exp", {1.2840254f, 2.7182818f, 54.59815f, 8103.084f}, 1e-5f /* the fused exp: ~6e-6 */}, {"Abs", {0.25f, 1, 4, 9}, 0},
    };
    for (size_t i = 0; i < sizeof un / sizeof *un; i++) {
        tfs_init(&m);
        x = tfs_input(&m, 1);
        y = tfs_un(&m, un[i].op, x);
        run_case(un[i].op, &m, y, 1, 4, 1, ux, OSHAPE(1, 1, 4, 1), un[i].e, un[i].tol > 0 ? un[i].tol : 1e-6f);
    }
}

static float gelu_ref(float x)
{
    return (float)(0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * (double)x * x * x))));
}

static void test_activations(void)
{
    enum { N = 24 };
    float x[N], eg[N], es[N], el[N];
    for (int i = 0; i < N; i++) {
        x[i] = -6.0f + 0.5f * (float)i + 0.01f;
        eg[i] = gelu_ref(x[i]);
        es[i] = (float)(1 / (1 + exp(-(double)x[i])));
        el[i] = x[i] >= 0 ? x[i] : 0.2f * x[i];
    }
    tfs_model m;
    tfs_init(&m);
    const char *in = tfs_input(&m, 1);
    run_case("gelu tanh", &m, tfs_gelu(&m, in), 1, N, 1, x, OSHAPE(1, 1, N, 1), eg, 2e-6f);
    CHECK(g_kinds[TFS_EW] == 1 && g_kinds[TFS_REF] == 0);
    tfs_init(&m);
    in = tfs_input(&m, 1);
    const char *y = tfs_sigmoid(&m, in);
    run_case("sigmoid", &m, y, 1, N, 1, x, OSHAPE(1, 1, N, 1), es, 2e-6f);
    tfs_init(&m);
    in = tfs_input(&m, 1);
    y = tfs_select(&m, tfs_op(&m, "GreaterEqual", TFS_TF, in, tfs_sf(&m, 0), NULL), in,
                   tfs_bin(&m, "Mul", in, tfs_sf(&m, 0.2f)));
    run_case("leaky relu", &m, y, 1, N, 1, x, OSHAPE(1, 1, N, 1), el, 1e-6f);

    /* the same after a Dense + bias: moved into the GEMM's epilogue */
    for (int a = 0; a < 3; a++) {
        tfs_init(&m);
        in = tfs_input(&m, 1);
        y = tfs_einsum(&m, "abcg,gf->abcf", in, tfs_cf(&m, TFS_DIMS(1, 1), (float[]){2}));
        y = tfs_bin(&m, "AddV2", y, tfs_cf(&m, TFS_DIMS(1), (float[]){-0.25f}));
        float e[N];
        for (int i = 0; i < N; i++) {
            float v = 2 * x[i] - 0.25f;
            e[i] = a == 0 ? gelu_ref(v) : a == 1 ? (float)(1 / (1 + exp(-(double)v))) : v >= 0 ? v : 0.2f * v;
        }
        if (a == 0)
            y = tfs_gelu(&m, y);
        else if (a == 1)
            y = tfs_sigmoid(&m, y);
        else
            y = tfs_select(&m, tfs_op(&m, "GreaterEqual", TFS_TF, y, tfs_sf(&m, 0), NULL), y,
                           tfs_bin(&m, "Mul", y, tfs_sf(&m, 0.2f)));
        run_case("dense + activation", &m, y, 1, N, 1, x, OSHAPE(1, 1, N, 1), e, 2e-6f);
        CHECK_MSG(g_kinds[TFS_DENSE] == 1 && g_kinds[TFS_EW] == 0 && g_kinds[TFS_REF] == 0,
                  "activation %d not in the epilogue (%d EW steps)", a, g_kinds[TFS_EW]);
    }
}

static void test_layernorm(void)
{
    /* Flax: mean = sum(x)/C, var = max(0, sum(x^2)/C - mean^2), (x - mean) rsqrt(var + eps) g + b,
     * the per-pixel statistics reshaped back with a shape built from Shape */
    enum { H = 2, W = 3, C = 4 };
    float x[H * W * C], e[H * W * C];
    static const float gam[C] = {1, 0.5f, 2, -1}, bet[C] = {0, 0.25f, -1, 0.5f};
    for (int i = 0; i < H * W * C; i++)
        x[i] = (float)((i * 7) % 11) * 0.3f - 1.2f;
    for (int p = 0; p < H * W; p++) {
        double s = 0, s2 = 0;
        for (int c = 0; c < C; c++)
            s += x[p * C + c], s2 += (double)x[p * C + c] * x[p * C + c];
        double mean = s / C, var = fmax(0, s2 / C - mean * mean);
        for (int c = 0; c < C; c++)
            e[p * C + c] = (float)((x[p * C + c] - mean) / sqrt(var + 1e-6) * gam[c] + bet[c]);
    }
    tfs_model m;
    tfs_init(&m);
    const char *in = tfs_input(&m, C);
    const char *y = tfs_layernorm(&m, in, C, tfs_cf(&m, TFS_DIMS(C), gam), tfs_cf(&m, TFS_DIMS(C), bet));
    run_case("layernorm", &m, y, H, W, C, x, OSHAPE(1, H, W, C), e, 2e-6f);
    CHECK((g_kinds[TFS_LAYERNORM] == 1 || g_kinds[TFS_REDUCE] == 2) && g_kinds[TFS_REF] == 0);
}

static void test_more_ops(void)
{
    tfs_model m;
    /* BiasAdd after a 1x1 conv: into the GEMM */
    tfs_init(&m);
    const char *x = tfs_input(&m, 2);
    const char *y = tfs_conv(&m, x, tfs_cf(&m, TFS_DIMS(1, 1, 2, 2), (float[]){1, 0, 0, 1}), "VALID", 1);
    y = tfs_op(&m, "BiasAdd", TFS_TF ", \"data_format\": {\"s\": \"TkhXQw==\"}", y,
               tfs_cf(&m, TFS_DIMS(2), (float[]){10, 20}), NULL);
    run_case("BiasAdd", &m, y, 1, 2, 2, iota(4, 1), OSHAPE(1, 1, 2, 2), ((float[]){11, 22, 13, 24}), 0);
    CHECK(g_kinds[TFS_DENSE] == 1 && g_kinds[TFS_EW] == 0 && g_kinds[TFS_REF] == 0);

    /* Squeeze then ExpandDims: views */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_op(&m, "Squeeze", TFS_TF ", \"squeeze_dims\": {\"list\": {\"i\": [\"-1\"]}}", x, NULL);
    y = tfs_op(&m, "ExpandDims", TFS_TF ", \"Tdim\": {\"type\": \"DT_INT32\"}", y, tfs_si(&m, 1), NULL);
    y = tfs_bin(&m, "Mul", y, tfs_sf(&m, 2));
    run_case("Squeeze, ExpandDims", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(1, 1, 2, 2), ((float[]){2, 4, 6, 8}), 0);

    /* BroadcastTo of a computed row over H and C */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_op(&m, "BroadcastTo", TFS_TF ", \"Tidx\": {\"type\": \"DT_INT32\"}", x, TFS_VI(&m, 1, 2, 3, 2), NULL);
    run_case("BroadcastTo", &m, y, 1, 3, 1, iota(3, 1), OSHAPE(1, 2, 3, 2), ((float[]){1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}),
             0);

    /* AddN, OnesLike, and Fill with a shape from Shape */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    const char *terms[3] = {x, tfs_bin(&m, "Mul", x, tfs_sf(&m, 2)), tfs_op(&m, "OnesLike", TFS_TF, x, NULL)};
    y = tfs_nodev(&m, NULL, "AddN", TFS_TF ", \"N\": {\"i\": \"3\"}", terms, 3);
    const char *fill = tfs_op(&m, "Fill", TFS_TF ", \"index_type\": {\"type\": \"DT_INT32\"}", tfs_shape(&m, x),
                              tfs_sf(&m, 0.5f), NULL);
    y = tfs_bin(&m, "AddV2", y, fill);
    run_case("AddN, OnesLike, Fill", &m, y, 2, 2, 1, iota(4, 1), OSHAPE(1, 2, 2, 1), ((float[]){4.5f, 7.5f, 10.5f, 13.5f}),
             0);

    /* Relu, Sigmoid, Sign, Floor as ops; where(0 < x < 1, x, 0) with LogicalAnd */
    static const float ux[4] = {-1.5f, 0, 0.5f, 2};
    struct {
        const char *op;
        float e[4];
    } un[] = {{"Relu", {0, 0, 0.5f, 2}}, {"Sign", {-1, 0, 1, 1}}, {"Floor", {-2, 0, 0, 2}},
              {"Sigmoid", {0.18242552f, 0.5f, 0.62245933f, 0.88079708f}}};
    for (size_t i = 0; i < sizeof un / sizeof *un; i++) {
        tfs_init(&m);
        x = tfs_input(&m, 1);
        run_case(un[i].op, &m, tfs_un(&m, un[i].op, x), 1, 4, 1, ux, OSHAPE(1, 1, 4, 1), un[i].e, 2e-6f);
    }
    tfs_init(&m);
    x = tfs_input(&m, 1);
    const char *c = tfs_op(&m, "LogicalAnd", "", tfs_op(&m, "Greater", TFS_TF, x, tfs_sf(&m, 0), NULL),
                           tfs_op(&m, "Less", TFS_TF, x, tfs_sf(&m, 1), NULL), NULL);
    y = tfs_select(&m, c, x, tfs_sf(&m, 0));
    run_case("LogicalAnd", &m, y, 1, 4, 1, ux, OSHAPE(1, 1, 4, 1), ((float[]){0, 0, 0.5f, 0}), 0);
}

int main(void)
{
    if (tfjs_check_begin("tfjs-ops"))
        return 1;
    test_conv();
    test_deconv();
    test_einsum();
    test_reduce();
    test_elementwise();
    test_activations();
    test_layernorm();
    test_more_ops();
    tfjs_check_end();
    CHECK_MAIN_END();
}
