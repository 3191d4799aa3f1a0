/* test_nn_x4plus_feather.c - realesrgan-x4plus (receptive field too large for exact tiles)
 * with feathered tiles stays within 0.5/255 of whole-image inference on a photo crop. Slow:
 * release tree only. */
#include "../check.h"
#include "nn/tiler.h"
#include "nn_util.h"
#include "photo_crop.h"

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 1;
    enh_model *m = nn_load_or_skip("realesrgan-x4plus");
    if (!m)
        return SKIP_CODE;
    const int W = 200, H = 16;
    const char *src;
    float *in = photo_crop(W, H, &src);
    size_t nout = (size_t)3 * 16 * W * H;
    float *whole = enh_alloc(nout * 4), *tiled = enh_alloc(nout * 4);
    enh_error err;
    CHECK(enh_model_run(m, in, 1, H, W, whole, NULL, &err) == ENH_OK);
    for (size_t i = 0; i < nout; i++)
        whole[i] = whole[i] < 0 ? 0 : whole[i] > 1 ? 1 : whole[i];
    enh_tiler_opts o;
    enh_tiler_stats st;
    enh_tiler_opts_init(&o);
    o.tile = 64;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
    double d = nn_max_diff(whole, tiled, nout), psnr = nn_psnr(whole, tiled, nout);
    printf("x4plus %dx%d (%s), tile %d: %d tiles, feathered=%d overlap %d: max |tiled - whole| = %.3g (%.2f/255), "
           "PSNR %.1f dB\n", W, H, src, o.tile, st.tiles, st.feathered, st.overlap, d, d * 255, psnr);
    CHECK(st.feathered && st.tiles > 1 && st.overlap == 64);
    CHECK_MSG(d <= 0.5 / 255, "max diff %g > 0.5/255", d);
    enh_free(in);
    enh_free(whole);
    enh_free(tiled);
    enh_model_free(m);
    CHECK_MAIN_END();
}
