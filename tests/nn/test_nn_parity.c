/* test_nn_parity.c - the real models against an independent float64 reference (committed,
 * see data/README.md): realesrgan-x4fast and realesrgan-x4plus on a 16x16 photo crop, with
 * the default conv plans and (x4fast) with the reference kernels (kernels option ref). Also the model facts
 * computed from the graph: receptive radius (x4fast: 34 LR px), FLOPs per pixel, scale. */
#include "../check.h"
#include "core/fsutil.h"
#include "nn_util.h"

static float *read_f32(const char *name, size_t n)
{
    char path[4096], *d;
    size_t len;
    enh_error err;
    snprintf(path, sizeof path, "%s/%s", ENH_TEST_DATA, name);
    if (enh_read_file(path, 1 << 24, &d, &len, &err) != ENH_OK || len != n * 4) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        free(d);
        return NULL;
    }
    return (float *)d;
}

static int check_model(const char *name, const char *out_file, double flops, int radius, int also_ref)
{
    enh_model *m = nn_load_or_skip(name);
    if (!m)
        return 0;
    const enh_model_info *info = enh_model_get_info(m);
    CHECK(info->scale == 4 && info->in_channels == 3 && info->out_channels == 3);
    CHECK_MSG(fabs(info->flops_per_pixel - flops) < 1, "%s flops/px %.0f", name, info->flops_per_pixel);
    if (radius >= 0)
        CHECK_MSG(info->receptive_radius == radius, "%s radius %d", name, info->receptive_radius);
    const size_t nin = 3 * 16 * 16, nout = 3 * 64 * 64;
    float *in = read_f32("astronaut-16-in.f32", nin), *want = read_f32(out_file, nout);
    float *got = malloc(nout * sizeof *got);
    enh_error err;
    CHECK(in && want);
    for (int pass = 0; pass < (also_ref ? 2 : 1) && in && want; pass++) {
        enh_model *mm = m;
        if (pass == 1) { /* the reference kernels: plans created with the kernels option ref */
            const enh_nn_options ref = {.kernels = ENH_ISA_REF};
            mm = nn_load_or_skip_ex(name, &ref);
        }
        CHECK(enh_model_run(mm, in, 1, 16, 16, got, NULL, &err) == ENH_OK);
        double d = nn_max_diff(got, want, nout), psnr = nn_psnr(got, want, nout);
        printf("%s (%s kernels): max |diff| %.3g, PSNR %.1f dB vs float64 reference\n", name,
               enh_model_kernel_name(mm), d, psnr);
        CHECK_MSG(d <= 1e-4 && psnr >= 45, "%s: max diff %g psnr %.1f", name, d, psnr);
        if (pass == 1)
            enh_model_free(mm);
    }
    free(in);
    free(want);
    free(got);
    enh_model_free(m);
    return 1;
}

int main(void)
{
    int ran = check_model("realesrgan-x4fast", "x4fast-16-out.f32", 2418048, 34, 1);
    ran += check_model("realesrgan-x4plus", "x4plus-16-out.f32", 35853696, -1, 0);
    if (!ran) {
        printf("SKIP: no model installed (enhance models fetch realesrgan-x4fast realesrgan-x4plus)\n");
        return SKIP_CODE;
    }
    CHECK_MAIN_END();
}
