/* test_model_bf16.c - the bf16 precision end to end on the real realesrgan-x4fast: the model
 * loaded with ENH_PRECISION_BF16 (and through the process default options) runs its wide 3x3
 * layers in bf16, and its output on a real photo crop stays >= 40 dB PSNR from the fp32 output
 * (the bar; bench/README.md has the figures on 256x256 crops: ~51-60 dB). Also the refusals: bf16 with
 * another kernel path forced, bf16 on a CPU without AVX512_BF16.
 * Skips (exit 77) when the model is not installed or the CPU lacks AVX512_BF16 (after checking
 * the refusal). */
#include "../check.h"
#include "../nn/nn_util.h"
#include "../nn/photo_crop.h"
#include "nn/cpu.h"

static double psnr_clipped(const float *a, const float *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i] < 0 ? 0 : a[i] > 1 ? 1 : a[i], y = b[i] < 0 ? 0 : b[i] > 1 ? 1 : b[i];
        se += (x - y) * (x - y);
    }
    if (!(se == se)) /* NaN */
        return -1;
    return se > 0 ? 10 * log10((double)n / se) : 999;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 1;
    char param[4096], bin[4096];
    if (nn_find_model("realesrgan-x4fast", param, bin, sizeof param)) {
        printf("SKIP: model realesrgan-x4fast is not installed (enhance models fetch realesrgan-x4fast)\n");
        return SKIP_CODE;
    }
    enh_model *m32 = NULL, *m16 = NULL, *menv = NULL;
    enh_error err;
    const enh_nn_options fp32 = {.precision = ENH_PRECISION_FP32}, bf16 = {.precision = ENH_PRECISION_BF16};
    if (!enh_cpu_has_bf16()) {
        CHECK(enh_model_load_ncnn_ex(param, bin, &bf16, &m16, &err) == ENH_EUNSUPPORTED && !m16);
        printf("this CPU lacks AVX512_BF16 (refused: %s): SKIP\n", err.msg);
        if (check_failures)
            CHECK_MAIN_END();
        return SKIP_CODE;
    }
    CHECK(enh_model_load_ncnn_ex(param, bin, &fp32, &m32, &err) == ENH_OK);
    CHECK(enh_model_load_ncnn_ex(param, bin, &bf16, &m16, &err) == ENH_OK);
    enh_nn_options_set_default(&bf16);
    CHECK(enh_model_load_ncnn(param, bin, &menv, &err) == ENH_OK);
    enh_nn_options_set_default(NULL);
    const enh_nn_options conflict = {.precision = ENH_PRECISION_BF16, .kernels = ENH_ISA_AVX2};
    enh_model *bad = NULL;
    CHECK(enh_model_load_ncnn_ex(param, bin, &conflict, &bad, &err) == ENH_EINVAL && !bad);
    CHECK(strstr(err.msg, "avx2") != NULL);
    if (!m32 || !m16 || !menv) {
        enh_model_free(m32), enh_model_free(m16), enh_model_free(menv);
        CHECK_MAIN_END();
    }
    const enh_model_info *i32 = enh_model_get_info(m32), *i16 = enh_model_get_info(m16);
    printf("x4fast: %d convolutions, bf16 in %d (fp32 model: %d, default options bf16: %d)\n", i16->convs,
           i16->bf16_convs, i32->bf16_convs, enh_model_get_info(menv)->bf16_convs);
    CHECK(i32->bf16_convs == 0 && i32->convs == i16->convs);
    /* all but the 3->64 first layer */
    CHECK(i16->bf16_convs == i16->convs - 1 && i16->bf16_convs > 0);
    CHECK(enh_model_get_info(menv)->bf16_convs == i16->bf16_convs);

    const int W = 83, H = 61; /* not multiples of the 4x4 tile nor of 16 */
    const char *src;
    float *in = photo_crop(W, H, &src);
    size_t nout = (size_t)3 * 16 * W * H;
    float *o32 = enh_alloc(nout * sizeof *o32), *o16 = enh_alloc(nout * sizeof *o16), *oenv = enh_alloc(nout * 4);
    CHECK(enh_model_run(m32, in, 1, H, W, o32, NULL, &err) == ENH_OK);
    CHECK(enh_model_run(m16, in, 1, H, W, o16, NULL, &err) == ENH_OK);
    CHECK(enh_model_run(menv, in, 1, H, W, oenv, NULL, &err) == ENH_OK);
    double p = psnr_clipped(o16, o32, nout);
    printf("x4fast %dx%d crop of %s: PSNR bf16 vs fp32 = %.2f dB (bar 40)\n", W, H, src, p);
    CHECK_MSG(p >= 40, "PSNR %.2f dB < 40", p);
    CHECK_MSG(p < 90, "PSNR %.2f dB: the bf16 model computes exactly the fp32 result?", p);
    CHECK(memcmp(o16, oenv, nout * sizeof *o16) == 0);
    enh_free(in), enh_free(o32), enh_free(o16), enh_free(oenv);
    enh_model_free(m32), enh_model_free(m16), enh_model_free(menv);
    CHECK_MAIN_END();
}
