/* test_brisque.c - BRISQUE scores of synthetic images made here (needs Debian's opencv-data for
 * the model; exits 77, SKIP, without it):
 *  - a "natural" scene (1/f value noise, discs and bars) scores better than its noisy and its
 *    blurred copies;
 *  - the clean scene's score and first features are pinned to OpenCV's: `test_brisque --write DIR`
 *    writes the scene as DIR/brisque_scene.png, and
 *    `bench/quality/brisque.py peer DIR/brisque_scene.png` (OpenCV 4.6 QualityBRISQUE, Debian
 *    libopencv-contrib406) printed the values below;
 *  - 16-bit, alpha and grey forms of one image score the same, and so does the reference blur;
 *    images under 8x8 are refused; flat and two-level images score 100, as in OpenCV. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "../check.h"
#include "../xorshift.h"
#include "enhance/brisque.h"
#include "nn/nn_options.h"

#define W 320
#define H 240

/* OpenCV's values for the clean scene (see the header): score and features 1, 2 and 19. Ours
 * were 43.5202 and the same three floats (the score's 1.6e-5 relative difference is OpenCV's own
 * float exp in the SVR); the score's tolerance is 0.2%, the features' 1e-6. */
#define CV_SCORE 43.519516
#define CV_F0 1.23199999
#define CV_F1 0.0944122523
#define CV_F18 1.71300006

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double gauss(void)
{
    double u = xorshift_unit(&rng) + 1e-12, v = xorshift_unit(&rng);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Grey-ish RGB scene in 0..255 floats: octaves of bilinear value noise with amplitude
 * proportional to the cell size (a 1/f spectrum, like photos), plus hard-edged shapes. */
static void scene(float *rgb)
{
    float *v = calloc((size_t)W * H, sizeof(float));
    for (int cell = 64; cell >= 2; cell /= 2) {
        int gw = W / cell + 2, gh = H / cell + 2;
        float *g = malloc(sizeof(float) * (size_t)gw * gh);
        for (int i = 0; i < gw * gh; i++)
            g[i] = (float)(xorshift_unit(&rng) - 0.5);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double fx = (double)x / cell, fy = (double)y / cell;
                int ix = (int)fx, iy = (int)fy;
                double ax = fx - ix, ay = fy - iy;
                double a = g[iy * gw + ix] * (1 - ax) + g[iy * gw + ix + 1] * ax;
                double b = g[(iy + 1) * gw + ix] * (1 - ax) + g[(iy + 1) * gw + ix + 1] * ax;
                v[y * W + x] += (float)((a * (1 - ay) + b * ay) * cell * 2.2);
            }
        free(g);
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double base = 110 + v[y * W + x];
            double r = base + 20, gg = base, bb = base - 15;
            for (int k = 0; k < 5; k++) {
                double cx = 50 + 55 * k, cy = 60 + 30 * (k % 3), rad = 18 + 3 * k;
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < rad * rad)
                    r = 40 + 35 * k + 0.3 * v[y * W + x], gg = 190 - 30 * k, bb = 80 + 25 * k;
            }
            if (y > 170 && y < 215 && (x / 7) % 2)
                r = gg = bb = 35 + 0.5 * v[y * W + x];
            float *p = rgb + 3 * (y * W + x);
            p[0] = (float)r, p[1] = (float)gg, p[2] = (float)bb;
        }
    free(v);
}

/* 8-bit sRGB image from floats (rounded, clipped), plus Gaussian noise of this sigma. */
static VipsImage *to_image(const float *rgb, double noise)
{
    unsigned char *px = malloc((size_t)W * H * 3);
    for (int i = 0; i < W * H * 3; i++) {
        double v = rgb[i] + (noise > 0 ? noise * gauss() : 0);
        px[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
    }
    VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)W * H * 3, W, H, 3, VIPS_FORMAT_UCHAR);
    free(px);
    return im;
}

static double score(const enh_brisque *b, VipsImage *im)
{
    double s = -1;
    enh_error err = {0};
    enh_status st = enh_brisque_score(b, im, &s, &err);
    CHECK_MSG(st == ENH_OK, "%s", err.msg);
    return s;
}

int main(int argc, char **argv)
{
    if (VIPS_INIT(argv[0]))
        return 1;
    float *rgb = malloc(sizeof(float) * W * H * 3);
    scene(rgb);
    VipsImage *clean = to_image(rgb, 0);
    if (argc == 3 && !strcmp(argv[1], "--write")) {
        char path[1024];
        snprintf(path, sizeof path, "%s/brisque_scene.png", argv[2]);
        int rc = vips_pngsave(clean, path, NULL) ? 1 : 0;
        printf("%s %s\n", rc ? "cannot write" : "wrote", path);
        return rc;
    }
    enh_brisque *b = NULL;
    enh_error err = {0};
    enh_status st = enh_brisque_load(NULL, NULL, &b, &err);
    if (st == ENH_ENOTFOUND) {
        printf("SKIP: %s\n", err.msg);
        return 77;
    }
    CHECK_MSG(st == ENH_OK, "%s", err.msg);
    if (!b)
        CHECK_MAIN_END();

    /* ordering: noise and blur both make it worse */
    double s_clean = score(b, clean);
    VipsImage *noisy = to_image(rgb, 20), *blurred = NULL;
    CHECK(vips_gaussblur(clean, &blurred, 2.5, NULL) == 0);
    double s_noisy = score(b, noisy), s_blur = score(b, blurred);
    printf("clean %.4f noisy %.4f blurred %.4f\n", s_clean, s_noisy, s_blur);
    CHECK(s_clean + 5 < s_noisy);
    CHECK(s_clean + 5 < s_blur);

    /* pinned to OpenCV (features are bit-identical there; the score differs by OpenCV's own exp) */
    float f[ENH_BRISQUE_FEATURES];
    CHECK(enh_brisque_features(clean, f, &err) == ENH_OK);
    printf("features %.9g %.9g %.9g\n", f[0], f[1], f[18]);
    CHECK_NEAR(s_clean, CV_SCORE, 0.002 * CV_SCORE);
    CHECK_NEAR(f[0], CV_F0, 1e-6 * CV_F0);
    CHECK_NEAR(f[1], CV_F1, 1e-6 * CV_F1);
    CHECK_NEAR(f[18], CV_F18, 1e-6 * CV_F18);

    /* the reference blur (the process default kernel path set to ref) gives the same score */
    enh_nn_options ref = *enh_nn_options_default(), saved = ref;
    ref.kernels = ENH_ISA_REF;
    enh_nn_options_set_default(&ref);
    CHECK_NEAR(score(b, clean), s_clean, 0);
    enh_nn_options_set_default(&saved);

    /* other forms of the same pixels */
    VipsImage *t = NULL, *u = NULL;
    CHECK(vips_cast(clean, &t, VIPS_FORMAT_USHORT, NULL) == 0);
    CHECK(vips_linear1(t, &u, 257.0, 0.0, "uchar", FALSE, NULL) == 0); /* v * 257: the 16-bit copy */
    g_object_unref(t);
    CHECK(vips_cast(u, &t, VIPS_FORMAT_USHORT, NULL) == 0);
    g_object_unref(u);
    CHECK(vips_copy(t, &u, "interpretation", VIPS_INTERPRETATION_RGB16, NULL) == 0);
    g_object_unref(t);
    CHECK_NEAR(score(b, u), s_clean, 0);
    g_object_unref(u);
    CHECK(vips_bandjoin_const1(clean, &t, 77, NULL) == 0); /* RGBA */
    CHECK_NEAR(score(b, t), s_clean, 0);
    g_object_unref(t);
    VipsImage *grey = NULL, *grey3 = NULL, *arr[3];
    CHECK(vips_extract_band(clean, &grey, 1, NULL) == 0);
    arr[0] = arr[1] = arr[2] = grey;
    CHECK(vips_bandjoin(arr, &grey3, 3, NULL) == 0);
    double s_grey = score(b, grey);
    CHECK_NEAR(score(b, grey3), s_grey, 0);
    CHECK(vips_bandjoin_const1(grey, &t, 255, NULL) == 0); /* grey + alpha */
    CHECK_NEAR(score(b, t), s_grey, 0);
    g_object_unref(t);

    /* too small: refused; flat or two-level: 100, as OpenCV (its peer scores both 100) */
    double s = 0;
    CHECK(vips_crop(clean, &t, 0, 0, 7, 64, NULL) == 0);
    CHECK(enh_brisque_score(b, t, &s, &err) == ENH_EINVAL && strstr(err.msg, "at least"));
    g_object_unref(t);
    CHECK(vips_black(&t, 64, 64, "bands", 3, NULL) == 0);
    CHECK(vips_linear1(t, &u, 1.0, 128.0, "uchar", TRUE, NULL) == 0);
    CHECK(enh_brisque_score(b, u, &s, &err) == ENH_OK && s == 100);
    g_object_unref(t);
    g_object_unref(u);
    VipsImage *step = NULL, *bars = NULL;
    CHECK(vips_xyz(&t, 64, 64, NULL) == 0);
    CHECK(vips_moreeq_const1(t, &bars, 32, NULL) == 0); /* band 0 is x: 0 left of 32, 255 from it */
    CHECK(vips_extract_band(bars, &step, 0, NULL) == 0);
    CHECK(enh_brisque_score(b, step, &s, &err) == ENH_OK && s == 100);
    g_object_unref(t);
    g_object_unref(bars);
    g_object_unref(step);
    CHECK(enh_brisque_score(NULL, clean, &s, &err) == ENH_EINVAL);

    g_object_unref(grey);
    g_object_unref(grey3);
    g_object_unref(noisy);
    g_object_unref(blurred);
    g_object_unref(clean);
    enh_brisque_free(b);
    free(rgb);
    vips_shutdown();
    CHECK_MAIN_END();
}
