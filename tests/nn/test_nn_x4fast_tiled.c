/* test_nn_x4fast_tiled.c - realesrgan-x4fast tiled == whole image (max |diff| <= 1e-5) on
 * non-square photo crops whose sides are not multiples of the tile, with windows smaller
 * than the image (overlap = the 34 px receptive radius). Also realesr-animevideov3-x2/x3
 * when installed (bicubic downsampling inside: radius 19). Slow: release tree only. */
#include "../check.h"
#include "nn/tiler.h"
#include "nn_util.h"
#include "photo_crop.h"

static void compare(enh_model *m, int W, int H, int tile)
{
    const int S = enh_model_get_info(m)->scale, R = enh_model_get_info(m)->receptive_radius;
    const char *src;
    float *in = photo_crop(W, H, &src);
    size_t nout = (size_t)3 * S * S * W * H;
    float *whole = enh_alloc(nout * 4), *tiled = enh_alloc(nout * 4);
    enh_error err;
    CHECK(enh_model_run(m, in, 1, H, W, whole, NULL, &err) == ENH_OK);
    for (size_t i = 0; i < nout; i++)
        whole[i] = whole[i] < 0 ? 0 : whole[i] > 1 ? 1 : whole[i];
    enh_tiler_opts o;
    enh_tiler_stats st;
    enh_tiler_opts_init(&o);
    o.tile = tile;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
    double d = nn_max_diff(whole, tiled, nout);
    printf("x%d model %dx%d (%s), tile %d: %d tiles, overlap %d, exact=%d, max |tiled - whole| = %.3g\n", S, W, H, src, tile,
           st.tiles, st.overlap, !st.feathered, d);
    CHECK(st.overlap == R && !st.feathered && st.tiles > 1);
    CHECK_MSG(d <= 1e-5, "max diff %g", d);
    enh_free(in);
    enh_free(whole);
    enh_free(tiled);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 1;
    enh_model *m = nn_load_or_skip("realesrgan-x4fast");
    if (!m)
        return SKIP_CODE;
    CHECK(enh_model_get_info(m)->receptive_radius == 34);
    compare(m, 110, 29, 30); /* 4 windows of 96x29 across, 1 row */
    compare(m, 107, 35, 30); /* 4 x 2 tiles: rows split too */
    enh_model_free(m);
    const char *art[] = {"realesr-animevideov3-x2", "realesr-animevideov3-x3"};
    for (int i = 0; i < 2; i++) {
        char p[4096], b[4096];
        if (nn_find_model(art[i], p, b, sizeof p))
            continue;
        m = nn_load_or_skip(art[i]);
        CHECK(m && enh_model_get_info(m)->receptive_radius == 19);
        if (m)
            compare(m, 77, 31, 20);
        enh_model_free(m);
    }
    CHECK_MAIN_END();
}
