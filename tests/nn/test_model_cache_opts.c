/* test_model_cache_opts.c - the runtime options are values and part of the model cache's key:
 * the same .param loaded with other options is another model (so a server can hold one network
 * in fp32 and in bf16 side by side), alike options (DEFAULT precision = fp32, budget 0 = 512)
 * share one, NULL means the process default options, and a model keeps the options it was
 * loaded with (reference kernels when asked). Synthetic ncnn model (ncnn_synth.h): runs
 * everywhere; the bf16 pair only on CPUs with AVX512_BF16. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "ncnn_synth.h"
#include "nn/cpu.h"
#include "nn/model.h"
#include "nn/model_cache.h"

int main(void)
{
    char dir[] = "/tmp/enh_cache_opts_XXXXXX", param[256], bin[256];
    CHECK(mkdtemp(dir) != NULL);
    CHECK(synth_write_files(dir, param, bin, sizeof param));
    enh_error err;
    enh_model *a = NULL, *b = NULL, *c = NULL, *d = NULL, *r = NULL;
    const enh_nn_options fp32 = {.precision = ENH_PRECISION_FP32, .wino_budget_kb = 512};
    const enh_nn_options ref = {.kernels = ENH_ISA_REF};
    CHECK_MSG(enh_model_cache_get(param, dir, NULL, &a, &err) == ENH_OK, "%s", err.msg);
    CHECK(enh_model_cache_get(param, dir, &fp32, &b, &err) == ENH_OK);
    CHECK_MSG(a && a == b, "the default options and explicit fp32 are two models");
    CHECK(enh_model_cache_get(param, dir, &ref, &c, &err) == ENH_OK);
    CHECK_MSG(c && c != a, "other kernels share the fp32 model");
    CHECK(enh_model_options(c)->kernels == ENH_ISA_REF && !strcmp(enh_model_kernel_name(c), "ref"));
    CHECK(enh_model_cache_get(param, dir, &ref, &d, &err) == ENH_OK && d == c);
    /* the process default decides what NULL means, at each get */
    enh_nn_options_set_default(&ref);
    CHECK(enh_model_cache_get(param, dir, NULL, &r, &err) == ENH_OK && r == c);
    enh_model_cache_release(r);
    enh_nn_options_set_default(NULL);
    /* the same output either way (the reference kernels against the fast ones) */
    const int H = 9, W = 13;
    float in[3 * 9 * 13], o1[3 * 4 * 9 * 13], o2[3 * 4 * 9 * 13];
    for (int i = 0; i < 3 * H * W; i++)
        in[i] = (float)((i * 37) % 101) / 100.0f;
    CHECK(enh_model_run(a, in, 1, H, W, o1, NULL, &err) == ENH_OK);
    CHECK(enh_model_run(c, in, 1, H, W, o2, NULL, &err) == ENH_OK);
    double md = 0;
    for (int i = 0; i < 3 * 4 * H * W; i++)
        md = fabs(o1[i] - o2[i]) > md ? fabs(o1[i] - o2[i]) : md;
    CHECK_MSG(md < 1e-4, "fast vs ref kernels differ by %g", md);
    if (enh_cpu_has_bf16()) {
        const enh_nn_options bf16 = {.precision = ENH_PRECISION_BF16};
        enh_model *h = NULL;
        CHECK(enh_model_cache_get(param, dir, &bf16, &h, &err) == ENH_OK && h && h != a && h != c);
        CHECK(enh_model_options(h)->precision == ENH_PRECISION_BF16);
        enh_model_cache_release(h);
    } else {
        const enh_nn_options bf16 = {.precision = ENH_PRECISION_BF16};
        enh_model *h = NULL;
        CHECK(enh_model_cache_get(param, dir, &bf16, &h, &err) == ENH_EUNSUPPORTED && !h);
        printf("this CPU lacks AVX512_BF16: the bf16 entry is refused (%s)\n", err.msg);
    }
    /* options the CPU cannot run are refused at load, not at the first run */
    if (!enh_cpu_isa_supported(ENH_ISA_AVX512)) {
        const enh_nn_options avx512 = {.kernels = ENH_ISA_AVX512};
        enh_model *x = NULL;
        CHECK(enh_model_cache_get(param, dir, &avx512, &x, &err) == ENH_EUNSUPPORTED && !x);
    }
    enh_model_cache_release(a);
    enh_model_cache_release(b);
    enh_model_cache_release(c);
    enh_model_cache_release(d);
    CHECK(enh_model_cache_clear() == 0);
    unlink(param);
    unlink(bin);
    rmdir(dir);
    CHECK_MAIN_END();
}
