/* test_colour_learned.c - the learned illuminant estimator (colour_learned.c):
 *  1. the C implementation reproduces bench/quality/cast_learn.py's prediction on the trainer's
 *     integer test pattern (its expected value is generated with the coefficients, so a change on
 *     either side without the other fails here);
 *  2. a cast on a constructed scene (textured grey walls, coloured objects, nothing clipped) is
 *     recovered: the estimate moves with the gains and auto colour cuts the a*b* error. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "../check.h"
#include "../xorshift.h"
#include "colour_scene.h"
#include "enhance/colour.h"
#include "enhance/colour_estimate.h"
#include "enhance/colour_learned.h"
#include "enhance/ops.h"
#include "enhance/pipeline.h"

/* cast_learn.py synthetic(): 640x480, shrunk by 2 in the estimator (> 250k pixels) */
static void test_matches_trainer(void)
{
    enum { SW = 640, SH = 480 };
    unsigned char *p = malloc((size_t)SW * SH * 3);
    for (long y = 0; y < SH; y++)
        for (long x = 0; x < SW; x++) {
            unsigned char *q = p + 3 * ((size_t)y * SW + x);
            q[0] = (unsigned char)(30 + (x * x / 64 + 3 * y) % 200);
            q[1] = (unsigned char)(20 + (x * y / 128 + 5 * x / 3) % 215);
            q[2] = (unsigned char)(10 + (y * y / 96 + x / 2) % 230);
        }
    enh_illuminant il;
    enh_error err = {0};
    CHECK(enh_estimate_illuminant(p, SW, SH, &il, &err) == ENH_OK);
    CHECK_MSG(fabs(il.learned_uv[0] - enh_learned_check_uv[0]) < 1e-4 &&
                  fabs(il.learned_uv[1] - enh_learned_check_uv[1]) < 1e-4,
              "C estimate u %.6f v %.6f, trainer %.6f %.6f", il.learned_uv[0], il.learned_uv[1],
              enh_learned_check_uv[0], enh_learned_check_uv[1]);
    free(p);
}

#define W 320
#define H 240
static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double urand(void) { return xorshift_unit(&rng); }

/* shaded, textured grey walls with coloured objects, in linear light; brightest value 0.7 */
static void scene(double *lin)
{
    static const double refl[6][3] = {{0.6, 0.1, 0.08}, {0.1, 0.45, 0.1}, {0.08, 0.12, 0.55},
                                      {0.6, 0.5, 0.05}, {0.3, 0.1, 0.4},  {0.5, 0.3, 0.2}};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double *p = lin + 3 * ((size_t)y * W + x);
            double shade = (0.05 + 0.4 * x / W) * (0.8 + 0.2 * sin(y / 7.0)) * (0.85 + 0.3 * urand());
            p[0] = p[1] = p[2] = shade;
            for (int k = 0; k < 6; k++) {
                double cx = 30 + 52 * k, cy = 60 + 90 * (k % 2), r = 22;
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) {
                    double s = (0.6 + 0.4 * (x - cx) / r) * (0.9 + 0.2 * urand());
                    for (int c = 0; c < 3; c++)
                        p[c] = refl[k][c] * s;
                }
            }
        }
}

static void test_cast_recovery(void)
{
    double *lin = malloc(sizeof(double) * W * H * 3);
    scene(lin);
    static const double one[3] = {1, 1, 1}, casts[3][3] = {{1.3, 1.0, 0.75}, {0.8, 1.0, 1.25}, {1.0, 1.25, 0.9}};
    VipsImage *c0 = scene_render(lin, W, H, one);
    size_t n = 0;
    unsigned char *p0 = vips_image_write_to_memory(c0, &n);
    enh_illuminant e0;
    enh_error err = {0};
    CHECK(enh_estimate_illuminant(p0, W, H, &e0, &err) == ENH_OK);
    CHECK_MSG(e0.neutral_deg < 4, "clean scene: estimate %.2f deg from neutral", e0.neutral_deg);
    for (int k = 0; k < 3; k++) {
        VipsImage *c = scene_render(lin, W, H, casts[k]);
        unsigned char *p = vips_image_write_to_memory(c, &n);
        enh_illuminant il;
        CHECK(enh_estimate_illuminant(p, W, H, &il, &err) == ENH_OK);
        double truth = enh_rgb_angle_deg(il.e, casts[k]);
        CHECK_MSG(!il.clip.found && truth < 3, "cast %d: estimate %.2f deg from the gains (%.2f from neutral)", k,
                  truth, enh_rgb_angle_deg(casts[k], one));
        /* the shift of the estimate follows the gains (log G/R, log G/B) */
        double du = il.learned_uv[0] - e0.learned_uv[0], dv = il.learned_uv[1] - e0.learned_uv[1];
        double tu = log(casts[k][1] / casts[k][0]), tv = log(casts[k][1] / casts[k][2]);
        CHECK_MSG(fabs(du - tu) < 0.05 && fabs(dv - tv) < 0.05, "cast %d: shift %.3f %.3f, gains %.3f %.3f", k, du,
                  dv, tu, tv);
        enh_ops ops;
        const char *json = "{\"adjustments\":{\"auto_color\":true}}";
        CHECK(enh_ops_from_json(json, strlen(json), &ops, &err) == ENH_OK);
        VipsImage *o = NULL;
        CHECK(enh_pipeline_run(c, &ops, NULL, &o, NULL, &err) == ENH_OK);
        if (o) {
            VipsImage *m = vips_image_copy_memory(o);
            double before = scene_ab_error(c, c0), after = scene_ab_error(m, c0);
            CHECK_MSG(after < 0.3 * before, "cast %d: a*b* error %.2f -> %.2f", k, before, after);
            g_object_unref(m), g_object_unref(o);
        }
        g_free(p), g_object_unref(c);
    }
    g_free(p0), g_object_unref(c0), free(lin);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 2;
    test_matches_trainer();
    test_cast_recovery();
    vips_shutdown();
    CHECK_MAIN_END();
}
