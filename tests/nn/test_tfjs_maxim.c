/* test_tfjs_maxim.c - the real MAXIM-2S low-light network (maxim-enhancement, when installed;
 * exit 77 = skip otherwise) through the fast kernels against the reference twin: the same graph
 * specialised with every fusion (GEMMs, element-wise programs, LayerNorm, copies, resize mixes)
 * and with none (tf_ops_eval.c for every node), on a 64x64 photo crop: >= 100 dB apart.
 * Then the public entry points on sizes that are not multiples of 64: padding and cropping
 * (a 70x45 run equals the padded 128x64 plan's output cropped), and tiles (a 128x128 image
 * in 64-px tiles with 16 px of overlap stays close to the whole-image run: MAXIM mixes
 * globally, so this is a sanity bound, not exactness; bench/README.md has the 512-px seams).
 * Slow (the reference path is ~20 s): release tree only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/mem.h"
#include "nn/manifest.h"
#include "nn/tf_plan.h"
#include "nn/tfjs.h"
#include "nn/tfjs_load.h"
#include "nn_util.h"
#include "photo_crop.h"

static double psnr(const float *a, const float *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++)
        se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return se > 0 ? 10 * log10((double)n / se) : 999;
}

/* planar RGB -> NHWC */
static float *nhwc_crop(int w, int h)
{
    const char *src;
    float *pl = photo_crop(w, h, &src), *x = enh_alloc((size_t)w * h * 3 * sizeof *x);
    for (int i = 0; i < w * h; i++)
        for (int k = 0; k < 3; k++)
            x[(size_t)i * 3 + k] = pl[(size_t)k * w * h + i];
    enh_free(pl);
    return x;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 1;
    nn_use_env_models_dir();
    const enh_model_entry *e = enh_manifest_find_tfjs("maxim-enhancement");
    char path[4096];
    enh_error err;
    if (!e || !enh_model_installed(e, NULL) || enh_model_tfjs_path(e, NULL, path, sizeof path, &err) != ENH_OK) {
        printf("SKIP: maxim-enhancement is not installed (enhance models fetch maxim-enhancement)\n");
        return 77;
    }
    enh_pool *pool = enh_pool_create(2);
    /* fused against the reference twin */
    tf_graph *g = NULL;
    CHECK_MSG(enh_tfjs_load_graph(path, &g, &err) == ENH_OK, "%s", err.msg);
    tf_plan *fast = NULL, *ref = NULL;
    CHECK_MSG(tf_plan_build_ex(g, 64, 64, 3, 1, &fast, &err) == ENH_OK, "%s", err.msg);
    CHECK_MSG(tf_plan_build_ex(g, 64, 64, 3, 0, &ref, &err) == ENH_OK, "%s", err.msg);
    int kinds[TFS_DEAD + 1] = {0};
    for (int i = 0; i < fast->nsteps; i++)
        kinds[fast->steps[i].kind]++;
    printf("fused plan: %d dense, %d conv, %d deconv, %d element-wise, %d layernorm, %d resize mixes, %d reference\n",
           kinds[TFS_DENSE], kinds[TFS_CONV], kinds[TFS_DECONV], kinds[TFS_EW], kinds[TFS_LAYERNORM],
           kinds[TFS_AXISMIX], kinds[TFS_REF]);
    CHECK(kinds[TFS_DENSE] > 100 && kinds[TFS_LAYERNORM] > 100 && kinds[TFS_AXISMIX] > 10);
    float *x = nhwc_crop(64, 64), *yf = enh_alloc(64 * 64 * 3 * 4), *yr = enh_alloc(64 * 64 * 3 * 4);
    CHECK_MSG(tf_plan_run(fast, x, yf, 64 * 64 * 3, pool, NULL, &err) == ENH_OK, "%s", err.msg);
    CHECK_MSG(tf_plan_run(ref, x, yr, 64 * 64 * 3, pool, NULL, &err) == ENH_OK, "%s", err.msg);
    double p = psnr(yf, yr, 64 * 64 * 3);
    printf("64x64: fused vs reference %.1f dB\n", p);
    CHECK(p >= 100);
    tf_plan_free(fast), tf_plan_free(ref), tf_graph_free(g);
    enh_free(x), enh_free(yf), enh_free(yr);

    enh_tf_model *m = NULL;
    CHECK_MSG(enh_tf_model_load(path, &m, &err) == ENH_OK, "%s", err.msg);
    const enh_tf_model_info *inf = enh_tf_model_get_info(m);
    CHECK(inf->in_channels == 3 && inf->out_channels == 3 && inf->scale == 1);
    /* padding and cropping: 70x45 -> padded 128x64 */
    x = nhwc_crop(70, 45);
    float *y = enh_alloc(70 * 45 * 3 * 4), *xp = enh_calloc(128 * 64 * 3, 4), *yp = enh_alloc(128 * 64 * 3 * 4);
    CHECK_MSG(enh_tf_model_run(m, x, 45, 70, 64, y, pool, &err) == ENH_OK, "%s", err.msg);
    for (int r = 0; r < 45; r++)
        memcpy(xp + (size_t)r * 128 * 3, x + (size_t)r * 70 * 3, 70 * 3 * 4);
    CHECK_MSG(enh_tf_model_run(m, xp, 64, 128, 64, yp, pool, &err) == ENH_OK, "%s", err.msg);
    double md = 0;
    for (int r = 0; r < 45; r++)
        for (int i = 0; i < 70 * 3; i++) {
            double d = fabs(y[(size_t)r * 70 * 3 + i] - yp[(size_t)r * 128 * 3 + i]);
            md = d > md ? d : md;
        }
    printf("70x45 padded run vs the 128x64 run cropped: max |diff| %.3g\n", md);
    CHECK(md == 0);
    enh_free(x), enh_free(y), enh_free(xp), enh_free(yp);
    /* tiles against the whole image */
    x = nhwc_crop(128, 128);
    float *yw = enh_alloc(128 * 128 * 3 * 4), *yt = enh_alloc(128 * 128 * 3 * 4);
    CHECK_MSG(enh_tf_model_run(m, x, 128, 128, 64, yw, pool, &err) == ENH_OK, "%s", err.msg);
    CHECK_MSG(enh_tf_model_run_tiled(m, x, 128, 128, 64, 64, 16, yt, pool, &err) == ENH_OK, "%s", err.msg);
    p = psnr(yt, yw, 128 * 128 * 3);
    printf("128x128 in 64-px tiles (16 px overlap) vs whole: %.1f dB\n", p);
    CHECK(p >= 25);
    /* the memory budget chooses: whole within it, tiles below it, a clear error below a tile */
    CHECK(enh_tf_model_run_fit(m, x, 128, 128, 64, (size_t)1 << 30, yt, pool, &err) == ENH_OK);
    CHECK(psnr(yt, yw, 128 * 128 * 3) > 200);
    CHECK(enh_tf_model_run_fit(m, x, 128, 128, 64, (size_t)1 << 20, yt, pool, &err) == ENH_ETOOBIG);
    printf("1 MB budget: %s\n", err.msg);
    enh_free(x), enh_free(yw), enh_free(yt);
    enh_tf_model_free(m);
    enh_pool_destroy(pool);
    vips_shutdown();
    CHECK_MAIN_END();
}
