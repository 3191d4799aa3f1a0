/* test_conv_bf16.c - the opt-in bf16 Winograd kernel (conv_fast_avx512bf16.c) against the fp32
 * reference kernel, and the precision selection rules (precision.h, enh_conv_plan_create_ex).
 *
 * Error bounds (relative to the reference's RMS / max magnitude), stated for bf16 Winograd F(4x4,3x3):
 * bf16 keeps 8 significant bits, so each Winograd-domain input V and weight U is rounded by up to
 * 2^-9 (products exact, sums fp32); the transforms (entries up to 5 in B, 8 in A) amplify that
 * about 5-10x. A numpy model of exactly this rounding (V and U to bf16, exact sums) predicts RMS
 * 1.5e-2 on image-like data and 2.5e-2 on white noise for 64 channels, U and V contributing equally,
 * which the kernel reproduces. Bounds ~1.5x above that:
 *   image-like inputs: RMS <= 2e-2, max <= 6e-2;   white noise: RMS <= 4e-2, max <= 1.5e-1.
 * Any indexing / pairing / epilogue bug gives O(1) errors. The whole-model figure that matters is
 * the PSNR of bf16 vs fp32 output on photos (bench/README.md: >= 49 dB, the bar is 40). A lower
 * bound too: the worst error must exceed 1e-4, or the "bf16" plan is secretly computing in fp32.
 * On CPUs without AVX512_BF16 the kernel cases are skipped (exit 77 = CTest SKIP) after checking
 * that bf16 is refused with ENH_EUNSUPPORTED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/pool.h"
#include "kern_util.h"
#include "nn/conv.h"
#include "nn/conv_fast.h"

#define TOL_RMS_IMAGE 2e-2
#define TOL_RMS_NOISE 4e-2
#define TOL_MAX_IMAGE 6e-2
#define TOL_MAX_NOISE 1.5e-1
#define MIN_BF16 1e-4

typedef struct {
    int n, cin, cout, h, w;
    enh_act act;
    int residual;
} shape;

static double worst_smooth, worst_noise, worst_rms;

/* sqrt(mean (a-b)^2) / sqrt(mean b^2); NaN in a gives NaN (which fails every bound) */
static double rms_rel_err(const float *a, const float *b, size_t n)
{
    double e = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        e += d * d;
        r += (double)b[i] * b[i];
    }
    return sqrt(e / (r > 1e-30 ? r : 1e-30));
}
static int ran;

/* Image-like planes: a few low-frequency waves (periods >= 6 px) per channel + 2 % noise, |v| < 1.2.
 * Photos and the activations of image models look like this; white noise is the worst case of
 * Winograd F(4x4) (its high-frequency basis functions carry the largest transform coefficients). */
static float *smooth_planes(int planes, int h, int w)
{
    float *v = malloc((size_t)planes * h * w * sizeof *v);
    for (int c = 0; c < planes; c++) {
        float a[3], fx[3], fy[3], ph[3];
        for (int k = 0; k < 3; k++) {
            a[k] = 0.3f * ku_rand();
            fx[k] = 1.0f * ku_rand(), fy[k] = 1.0f * ku_rand(), ph[k] = 3.0f * ku_rand();
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float s = 0.1f * ku_rand();
                for (int k = 0; k < 3; k++)
                    s += a[k] * sinf(fx[k] * x + fy[k] * y + ph[k]);
                v[((size_t)c * h + y) * w + x] = s;
            }
    }
    return v;
}

static enh_conv_params conv3(int cin, int cout, const float *w)
{
    enh_conv_params p = {.cin = cin, .cout = cout, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                         .dil_h = 1, .dil_w = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,
                         .pad_right = 1, .groups = 1, .weight = w};
    return p;
}

static void run_case(const shape *s, int smooth, enh_pool *pool)
{
    size_t nw = (size_t)s->cout * s->cin * 9;
    /* weights ~ He-scaled as in trained nets, so outputs stay O(1) whatever cin is */
    float *wt = ku_randv(nw, 1.7f / sqrtf((float)(s->cin * 9))), *bias = ku_randv((size_t)s->cout, 0.1f);
    float *prelu = ku_randv((size_t)s->cout, 0.4f);
    enh_conv_params p = conv3(s->cin, s->cout, wt);
    p.act = s->act;
    p.act_slope = 0.2f;
    p.bias = bias;
    p.prelu = prelu;
    p.prelu_count = s->cout;
    size_t nin = (size_t)s->n * s->cin * s->h * s->w, nout = (size_t)s->n * s->cout * s->h * s->w;
    float *in = smooth ? smooth_planes(s->n * s->cin, s->h, s->w) : ku_randv(nin, 1.0f);
    float *res = s->residual ? ku_randv(nout, 1.0f) : NULL;
    float *ref = malloc(nout * sizeof *ref), *out = malloc(nout * sizeof *out);
    enh_conv2d_ref(&p, in, s->n, s->h, s->w, ref, res, pool);
    enh_conv_plan *plan = NULL;
    enh_error err;
    enh_status st = enh_conv_plan_create_forced_prec(&p, ENH_ISA_AUTO, ENH_ALGO_AUTO, ENH_PRECISION_BF16, &plan,
                                                     &err);
    CHECK_MSG(st == ENH_OK, "%s", err.msg);
    if (st == ENH_OK) {
        CHECK(!strcmp(enh_conv_plan_kernel(plan), "avx512bf16-winograd4x4"));
        CHECK(enh_conv_plan_precision(plan) == ENH_PRECISION_BF16);
        for (size_t i = 0; i < nout; i++)
            out[i] = NAN; /* every element must be written */
        enh_conv_plan_run(plan, in, s->n, s->h, s->w, out, res, pool);
        double e = ku_rel_err(out, ref, nout), tol = smooth ? TOL_MAX_IMAGE : TOL_MAX_NOISE;
        double rms = rms_rel_err(out, ref, nout), trms = smooth ? TOL_RMS_IMAGE : TOL_RMS_NOISE;
        CHECK_MSG(e <= tol && rms <= trms, "%s n=%d %d->%d %dx%d act%d res%d: max rel err %.3g (bound %.3g), "
                  "rms rel err %.3g (bound %.3g)", smooth ? "image" : "noise", s->n, s->cin, s->cout, s->h, s->w,
                  (int)s->act, s->residual, e, tol, rms, trms);
        printf("  %-5s n=%d %3d->%-3d %3dx%-3d act%d res%d: max rel err %.2e, rms rel err %.2e\n",
               smooth ? "image" : "noise", s->n, s->cin, s->cout, s->h, s->w, (int)s->act, s->residual, e, rms);
        if (smooth && rms > worst_rms)
            worst_rms = rms;
        double *worst = smooth ? &worst_smooth : &worst_noise;
        if (e > *worst)
            *worst = e;
        ran++;
        /* another pool (other thread count, so other block sizes) gives the same bytes */
        float *out2 = malloc(nout * sizeof *out2);
        enh_conv_plan_run(plan, in, s->n, s->h, s->w, out2, res, NULL);
        CHECK(memcmp(out, out2, nout * sizeof *out) == 0);
        free(out2);
        enh_conv_plan_free(plan);
    }
    free(wt), free(bias), free(prelu), free(in), free(res), free(ref), free(out);
}

static const char *kernel_ex(const enh_conv_params *p, enh_precision prec, enh_isa isa, enh_conv_algo algo,
                             enh_status *st)
{
    static char name[64];
    enh_nn_options o = {.precision = prec, .kernels = isa, .conv_algo = algo};
    enh_conv_plan *plan = NULL;
    enh_error err;
    name[0] = 0;
    *st = enh_conv_plan_create_ex(p, &o, &plan, &err);
    if (*st == ENH_OK)
        snprintf(name, sizeof name, "%s", enh_conv_plan_kernel(plan));
    enh_conv_plan_free(plan);
    return name;
}

#define KERNEL(p, prec, st) kernel_ex(p, prec, ENH_ISA_AUTO, ENH_ALGO_AUTO, st)

static void selection(void)
{
    float *w = ku_randv(64 * 64 * 9, 0.05f);
    enh_conv_params p64 = conv3(64, 64, w), p3 = conv3(3, 64, w), pout = conv3(64, 3, w), p1 = conv3(64, 64, w);
    p1.kh = p1.kw = 1;
    p1.pad_top = p1.pad_left = p1.pad_bottom = p1.pad_right = 0;
    enh_status st;
    /* fp32 stays the default */
    CHECK(!strcmp(KERNEL(&p64, ENH_PRECISION_DEFAULT, &st), "avx512-winograd4x4"));
    CHECK(!strcmp(KERNEL(&p64, ENH_PRECISION_FP32, &st), "avx512-winograd4x4"));
    /* bf16: wide Winograd layers only */
    CHECK(!strcmp(KERNEL(&p64, ENH_PRECISION_BF16, &st), "avx512bf16-winograd4x4") && st == ENH_OK);
    CHECK(enh_conv_bf16_applies(&p64) && !enh_conv_bf16_applies(&p3) && !enh_conv_bf16_applies(&pout) &&
          !enh_conv_bf16_applies(&p1));
    CHECK(!strcmp(KERNEL(&p3, ENH_PRECISION_BF16, &st), "avx512-winograd4x4"));
    CHECK(!strcmp(KERNEL(&pout, ENH_PRECISION_BF16, &st), "avx512-winograd4x4"));
    CHECK(!strcmp(KERNEL(&p1, ENH_PRECISION_BF16, &st), "avx512-gemm"));
    /* the process default options decide what no options means; explicit options win over it */
    enh_nn_options def = {.precision = ENH_PRECISION_BF16};
    enh_nn_options_set_default(&def);
    enh_conv_plan *plan = NULL;
    enh_error err;
    CHECK(enh_conv_plan_create(&p64, &plan, &err) == ENH_OK && enh_conv_plan_precision(plan) == ENH_PRECISION_BF16);
    enh_conv_plan_free(plan);
    CHECK(enh_conv_plan_create_ex(&p64, NULL, &plan, &err) == ENH_OK &&
          enh_conv_plan_precision(plan) == ENH_PRECISION_BF16);
    enh_conv_plan_free(plan);
    CHECK(!strcmp(KERNEL(&p64, ENH_PRECISION_FP32, &st), "avx512-winograd4x4"));
    /* forced fp32 test paths are not affected by the default precision */
    CHECK(enh_conv_plan_create_forced(&p64, ENH_ISA_AVX512, ENH_ALGO_WINO, &plan, &err) == ENH_OK &&
          enh_conv_plan_precision(plan) == ENH_PRECISION_FP32);
    enh_conv_plan_free(plan);
    enh_nn_options_set_default(NULL);
    /* bf16 with another path forced is a conflict, reported */
    kernel_ex(&p64, ENH_PRECISION_BF16, ENH_ISA_AVX2, ENH_ALGO_AUTO, &st);
    CHECK(st == ENH_EINVAL);
    CHECK(!strcmp(kernel_ex(&p64, ENH_PRECISION_BF16, ENH_ISA_AVX512, ENH_ALGO_AUTO, &st),
                  "avx512bf16-winograd4x4"));
    kernel_ex(&p64, ENH_PRECISION_BF16, ENH_ISA_AUTO, ENH_ALGO_GEMM, &st);
    CHECK(st == ENH_EINVAL);
    /* forced bf16 where it cannot run */
    CHECK(enh_conv_plan_create_forced_prec(&p64, ENH_ISA_AVX512, ENH_ALGO_GEMM, ENH_PRECISION_BF16, &plan, &err) ==
          ENH_EUNSUPPORTED);
    CHECK(enh_conv_plan_create_forced_prec(&p64, ENH_ISA_AVX2, ENH_ALGO_WINO, ENH_PRECISION_BF16, &plan, &err) ==
          ENH_EUNSUPPORTED);
    CHECK(enh_conv_plan_create_forced_prec(&p1, ENH_ISA_AUTO, ENH_ALGO_AUTO, ENH_PRECISION_BF16, &plan, &err) ==
          ENH_EUNSUPPORTED);
    /* names and parsing */
    enh_precision pr;
    CHECK(enh_precision_parse("bf16", &pr) == 0 && pr == ENH_PRECISION_BF16);
    CHECK(enh_precision_parse("fp32", &pr) == 0 && pr == ENH_PRECISION_FP32);
    CHECK(enh_precision_parse("auto", &pr) == 0 && pr == ENH_PRECISION_DEFAULT);
    CHECK(enh_precision_parse("int8", &pr) == -1);
    CHECK(!strcmp(enh_precision_name(ENH_PRECISION_BF16), "bf16"));
    free(w);
}

int main(void)
{
    if (!enh_cpu_has_bf16()) {
        float *w = ku_randv(64 * 64 * 9, 0.05f);
        enh_conv_params p64 = conv3(64, 64, w);
        enh_conv_plan *plan = NULL;
        enh_error err;
        enh_nn_options bf16 = {.precision = ENH_PRECISION_BF16}, fp32 = {.precision = ENH_PRECISION_FP32};
        CHECK(enh_conv_plan_create_ex(&p64, &bf16, &plan, &err) == ENH_EUNSUPPORTED);
        CHECK(strstr(err.msg, "AVX512_BF16") != NULL);
        CHECK(enh_conv_plan_create_ex(&p64, &fp32, &plan, &err) == ENH_OK);
        enh_conv_plan_free(plan);
        free(w);
        printf("this CPU lacks AVX512_BF16: bf16 kernel cases skipped\n");
        if (check_failures)
            CHECK_MAIN_END();
        return 77;
    }
    enh_pool *pool = enh_pool_create(3);
    CHECK(pool != NULL);
    const shape shapes[] = {
        {1, 3, 17, 5, 7, ENH_ACT_NONE, 0},     /* cin odd and < a pair of pairs */
        {1, 17, 33, 13, 9, ENH_ACT_PRELU, 0},  /* odd cin: the zero-padded last pair */
        {2, 33, 48, 7, 5, ENH_ACT_LEAKY, 1},   /* batch 2, residual */
        {1, 64, 64, 9, 13, ENH_ACT_RELU, 1},
        {1, 48, 3, 11, 6, ENH_ACT_NONE, 1},    /* cout < MR */
        {2, 16, 17, 21, 150, ENH_ACT_LEAKY, 1}, /* interior groups, several blocks */
        {1, 8, 8, 1, 1, ENH_ACT_PRELU, 0},
        {1, 1, 1, 4, 4, ENH_ACT_NONE, 0},
        {1, 64, 64, 64, 64, ENH_ACT_LEAKY, 0}, /* the x4fast/x4plus body layer */
        {1, 192, 32, 20, 36, ENH_ACT_LEAKY, 0}, /* x4plus dense-block shapes */
        {1, 64, 192, 17, 23, ENH_ACT_NONE, 0},
    };
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    for (int smooth = 1; smooth >= 0; smooth--)
        for (int i = 0; i < nshapes; i++)
            run_case(&shapes[i], smooth, pool);
    printf("bf16 vs fp32 reference, worst on image-like data: rms rel err %.3g (bound %g), max rel err %.3g "
           "(bound %g); white noise max rel err %.3g (bound %g); must exceed %g\n", worst_rms, TOL_RMS_IMAGE,
           worst_smooth, TOL_MAX_IMAGE, worst_noise, TOL_MAX_NOISE, MIN_BF16);
    CHECK(ran == 2 * nshapes);
    CHECK_MSG(worst_smooth > MIN_BF16, "worst error %.3g: is the bf16 plan really rounding to bf16?", worst_smooth);
    selection();
    enh_pool_destroy(pool);
    CHECK_MAIN_END();
}
