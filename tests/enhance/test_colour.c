/* test_colour.c - illuminant estimation (colour_estimate.h), cast assessment and correction,
 * and the highlight-based exposure estimate on synthetic scenes with a known truth.
 * Casts and exposure are applied as bench/quality's degrade.py does: gains in linear light,
 * sRGB transfer redone, clipped, rounded to 8 bits. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "../check.h"
#include "../xorshift.h"
#include "colour_scene.h"
#include "enhance/assess.h"
#include "enhance/colour.h"
#include "enhance/colour_estimate.h"
#include "enhance/ops.h"
#include "enhance/pipeline.h"

#define W 320
#define H 240

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void) { return xorshift_unit(&rng); }

/* Linear-light scene: shaded grey walls with texture, a few coloured objects, a white card.
 * key scales the whole scene (1 = normal, < 1 low-key but with the white card kept bright). The
 * card is 0.72 for the cast tests (nothing clips under a x1.3 gain) and 0.88 for exposure (a
 * little below where photos' brightest channel normally reaches, assess.c). */
static void scene(double *lin, double key, double card)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double *p = lin + 3 * ((size_t)y * W + x);
            double shade = key * (0.08 + 0.35 * x / W) * (0.8 + 0.2 * sin(y / 9.0)) * (0.9 + 0.2 * urand());
            p[0] = p[1] = p[2] = shade;
            for (int k = 0; k < 5; k++) {
                double cx = 40 + 55 * k, cy = 70 + 30 * (k % 2), r = 18;
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) {
                    static const double refl[5][3] = {
                        {0.6, 0.1, 0.08}, {0.1, 0.45, 0.1}, {0.08, 0.12, 0.55}, {0.6, 0.5, 0.05}, {0.3, 0.1, 0.4}};
                    double s = key * (0.7 + 0.3 * (x - cx) / r) * (0.95 + 0.1 * urand());
                    for (int c = 0; c < 3; c++)
                        p[c] = refl[k][c] * s;
                }
            }
            if (y > 170 && y < 215 && x > 240 && x < 300) /* white card, not clipped */
                p[0] = p[1] = p[2] = card * (0.97 + 0.03 * urand());
        }
}

static unsigned char *pixels(VipsImage *im)
{
    size_t n = 0;
    return vips_image_write_to_memory(im, &n);
}

static VipsImage *run(VipsImage *in, const char *json)
{
    enh_ops ops;
    enh_error err = {0};
    if (enh_ops_from_json(json, strlen(json), &ops, &err))
        return NULL;
    VipsImage *out = NULL;
    if (enh_pipeline_run(in, &ops, NULL, &out, NULL, &err)) {
        fprintf(stderr, "pipeline: %s\n", err.msg);
        return NULL;
    }
    VipsImage *m = vips_image_copy_memory(out);
    g_object_unref(out);
    return m;
}

static void test_estimators(const double *lin)
{
    static const double one[3] = {1, 1, 1}, cast[3] = {1.25, 1.0, 0.8};
    VipsImage *c0 = scene_render(lin, W, H, one), *c1 = scene_render(lin, W, H, cast);
    unsigned char *p0 = pixels(c0), *p1 = pixels(c1);
    enh_illuminant e0, e1;
    enh_error err = {0};
    CHECK(enh_estimate_illuminant(p0, W, H, &e0, &err) == ENH_OK);
    CHECK(enh_estimate_illuminant(p1, W, H, &e1, &err) == ENH_OK);
    /* a grey-dominated scene under white light: every estimator near neutral */
    CHECK_MSG(e0.neutral_deg < 3, "clean estimate %.2f deg from neutral", e0.neutral_deg);
    CHECK_MSG(e0.spread_deg < 4, "clean estimators spread %.2f deg", e0.spread_deg);
    CHECK_MSG(e0.confidence > 0.9, "clean confidence %.2f", e0.confidence);
    /* the cast moves white patch, shades of grey and grey edge by the gains (they are equivariant
     * while nothing clips). Grey pixels is not: a shaded, uniformly coloured disc also has equal
     * log contrast in all channels, so its pick can change with the cast on this scene. */
    const double *a[3] = {e1.white_patch, e1.shades_of_grey, e1.grey_edge};
    const double *b[3] = {e0.white_patch, e0.shades_of_grey, e0.grey_edge};
    for (int k = 0; k < 3; k++) {
        double rr = (a[k][0] / a[k][1]) / (b[k][0] / b[k][1]), rb = (a[k][2] / a[k][1]) / (b[k][2] / b[k][1]);
        CHECK_MSG(fabs(rr - 1.25) < 0.08 && fabs(rb - 0.8) < 0.06, "estimator %d: R/G ratio %.3f B/G ratio %.3f", k,
                  rr, rb);
    }
    double truth_angle = enh_rgb_angle_deg(cast, one);
    CHECK_MSG(fabs(e1.neutral_deg - truth_angle) < 3, "cast estimate %.2f deg, truth %.2f deg", e1.neutral_deg,
              truth_angle);
    g_free(p0), g_free(p1);
    /* assessment: a strong cast (16 degrees) is named, the clean scene is not; the 10-degree one
     * is below the detection threshold (half severity at 12 degrees, set by scene colour in
     * clean photos) */
    static const double strong[3] = {1.4, 1.0, 0.7};
    VipsImage *c2 = scene_render(lin, W, H, strong);
    enh_assessment s0, s1, s2;
    CHECK(enh_assess_image(c0, &s0, &err) == ENH_OK && enh_assess_image(c1, &s1, &err) == ENH_OK &&
          enh_assess_image(c2, &s2, &err) == ENH_OK);
    CHECK_MSG(s0.severity[ENH_DEG_COLOUR_CAST] < 0.5, "clean cast severity %.2f", s0.severity[ENH_DEG_COLOUR_CAST]);
    CHECK_MSG(s2.dominant == ENH_DEG_COLOUR_CAST, "strong cast dominant %s (angle %.1f spread %.1f)",
              enh_degradation_name(s2.dominant), s2.cast_angle, s2.cast_spread);
    CHECK_MSG(s1.cast_a > 1 && s1.cast_b > 6, "warm cast a* %.1f b* %.1f", s1.cast_a, s1.cast_b);
    CHECK_MSG(s2.cast_b > s1.cast_b + 3, "stronger cast b* %.1f vs %.1f", s2.cast_b, s1.cast_b);
    g_object_unref(c2);
    /* correction: the a*b* error against the clean rendering cut by >= 70% on this scene */
    VipsImage *o = run(c1, "{\"adjustments\":{\"auto_color\":true}}");
    CHECK(o != NULL);
    if (o) {
        double before = scene_ab_error(c1, c0), after = scene_ab_error(o, c0);
        CHECK_MSG(after < 0.3 * before, "a*b* error %.2f -> %.2f", before, after);
        g_object_unref(o);
    }
    g_object_unref(c0), g_object_unref(c1);
}

/* A strongly coloured scene (mostly one saturated colour, 44 degrees from neutral): the learned
 * estimate takes only a small part of it for the light (it sees 11 degrees: an ambiguous scene
 * with nothing grey in it), and auto colour does not visibly repaint it. */
static void test_scene_colour(void)
{
    double *lin = malloc(sizeof(double) * W * H * 3);
    for (int i = 0; i < W * H; i++) {
        double s = 0.2 + 0.5 * urand();
        lin[3 * i] = 0.05 * s, lin[3 * i + 1] = 0.5 * s, lin[3 * i + 2] = 0.08 * s; /* a green meadow */
    }
    static const double one[3] = {1, 1, 1};
    VipsImage *c = scene_render(lin, W, H, one);
    enh_assessment a;
    enh_error err = {0};
    CHECK(enh_assess_image(c, &a, &err) == ENH_OK);
    CHECK_MSG(a.cast_angle < 15, "green scene: estimate %.1f deg from neutral", a.cast_angle);
    CHECK_MSG(a.dominant != ENH_DEG_COLOUR_CAST, "green scene named a cast");
    VipsImage *o = run(c, "{\"adjustments\":{\"auto_color\":true}}");
    CHECK(o != NULL);
    if (o) {
        double d = scene_ab_error(o, c);
        CHECK_MSG(d < 3, "green scene recoloured by %.2f a*b*", d);
        g_object_unref(o);
    }
    g_object_unref(c);
    free(lin);
}

/* Exposure: a x0.25 (-2 EV) scene gets back ~2 EV from its highlights; a low-key scene (dark
 * walls, bright white card) darkened x0.25 is not pushed past its original key. */
static void test_exposure(const double *lin, double key)
{
    static const double one[3] = {1, 1, 1}, dark[3] = {0.25, 0.25, 0.25};
    double *l = malloc(sizeof(double) * W * H * 3);
    memcpy(l, lin, sizeof(double) * W * H * 3);
    {
        double *k = malloc(sizeof(double) * W * H * 3);
        rng = 7;
        scene(k, key, 0.88);
        memcpy(l, k, sizeof(double) * W * H * 3);
        free(k);
    }
    VipsImage *c = scene_render(l, W, H, one), *d = scene_render(l, W, H, dark);
    enh_assessment ac, ad;
    enh_error err = {0};
    CHECK(enh_assess_image(c, &ac, &err) == ENH_OK && enh_assess_image(d, &ad, &err) == ENH_OK);
    CHECK_MSG(ac.severity[ENH_DEG_UNDEREXPOSED] < 0.5, "key %.2f clean: under-exposure severity %.2f", key,
              ac.severity[ENH_DEG_UNDEREXPOSED]);
    CHECK_MSG(ad.dominant == ENH_DEG_UNDEREXPOSED, "key %.2f dark: dominant %s", key,
              enh_degradation_name(ad.dominant));
    CHECK_MSG(fabs(ad.exposure_ev - 2) < 0.35, "key %.2f: correction %.2f EV for a 2 EV loss", key, ad.exposure_ev);
    VipsImage *o = run(d, "{\"adjustments\":{\"auto_exposure\":true}}");
    CHECK(o != NULL);
    if (o) {
        enh_assessment ao;
        CHECK(enh_assess_image(o, &ao, &err) == ENH_OK);
        CHECK_MSG(fabs(ao.mean_lightness - ac.mean_lightness) < 0.1 * ac.mean_lightness,
                  "key %.2f: mean L* original %.1f dark %.1f corrected %.1f", key, ac.mean_lightness,
                  ad.mean_lightness, ao.mean_lightness);
        g_object_unref(o);
    }
    g_object_unref(c), g_object_unref(d);
    free(l);
}

/* Exposure is judged on the brightest channel: a scene whose highlights are a saturated red at
 * full scale (luminance 0.33) and a dim grey card is fully exposed; its x0.25 copy gets ~2 EV back,
 * not the ~3.4 EV that its luminance alone would ask for. */
static void test_exposure_coloured_highlights(void)
{
    double *l = malloc(sizeof(double) * W * H * 3);
    rng = 13;
    scene(l, 0.6, 0.3);
    for (int y = 10; y < 40; y++)
        for (int x = 10; x < 120; x++) {
            double *p = l + 3 * ((size_t)y * W + x), s = 0.97 + 0.03 * urand();
            p[0] = s, p[1] = 0.15 * s, p[2] = 0.1 * s;
        }
    static const double one[3] = {1, 1, 1}, dark[3] = {0.25, 0.25, 0.25};
    VipsImage *c = scene_render(l, W, H, one), *d = scene_render(l, W, H, dark);
    enh_assessment ac, ad;
    enh_error err = {0};
    CHECK(enh_assess_image(c, &ac, &err) == ENH_OK && enh_assess_image(d, &ad, &err) == ENH_OK);
    CHECK_MSG(ac.severity[ENH_DEG_UNDEREXPOSED] < 0.5 && fabs(ac.highlight_ev) < 0.1,
              "red highlights clean: under-exposure severity %.2f, highlight EV %.2f",
              ac.severity[ENH_DEG_UNDEREXPOSED], ac.highlight_ev);
    CHECK_MSG(fabs(ad.exposure_ev - 2) < 0.2, "red highlights: correction %.2f EV for a 2 EV loss", ad.exposure_ev);
    g_object_unref(c), g_object_unref(d);
    free(l);
}

/* Applies linear-light gains to an 8-bit sRGB buffer after the fact, as degrade.py does
 * (clipped, rounded): a cast added to a photo whose highlights already clipped. */
static void recast(unsigned char *p, size_t n, const double g[3])
{
    for (size_t i = 0; i < 3 * n; i++) {
        double v = enh_srgb_to_linear(p[i] / 255.0) * g[i % 3];
        p[i] = (unsigned char)(255 * enh_linear_to_srgb(v > 1 ? 1 : v) + 0.5);
    }
}

/* Clipped highlights (colour_clip.c): a blown white region moves to each attenuated channel's gain;
 * the measured gain comes back within 1%, boosted channels stay at the top (gain 1, unknown), and
 * neither the clean scene nor a pure exposure change is taken for a cast. */
static void test_clipped_white(void)
{
    double *lin = malloc(sizeof(double) * W * H * 3);
    rng = 11;
    scene(lin, 1, 0.72);
    for (int y = 20; y < 60; y++) /* a blown sky patch: 1.6 x white, clipped in every channel */
        for (int x = 200; x < 310; x++)
            for (int c = 0; c < 3; c++)
                lin[3 * ((size_t)y * W + x) + c] = 1.6;
    static const double one[3] = {1, 1, 1};
    VipsImage *c0 = scene_render(lin, W, H, one);
    unsigned char *p0 = pixels(c0);
    size_t n = (size_t)W * H;
    enh_clip_white cw;
    enh_clip_white_point(p0, n, &cw);
    CHECK_MSG(!cw.found && cw.piled[0] && cw.piled[1] && cw.piled[2] && cw.ceiling[2] == 255,
              "clean: found %d, ceilings %d %d %d", cw.found, cw.ceiling[0], cw.ceiling[1], cw.ceiling[2]);
    static const double gains[3][3] = {{1.3, 1.0, 0.75}, {0.75, 1.0, 1.3}, {1.3, 0.75, 1.3}};
    unsigned char *p = malloc(3 * n);
    for (int k = 0; k < 3; k++) {
        memcpy(p, p0, 3 * n);
        recast(p, n, gains[k]);
        enh_clip_white_point(p, n, &cw);
        CHECK_MSG(cw.found, "gains %d: no clipped white point found", k);
        for (int c = 0; c < 3; c++) {
            int below = gains[k][c] < 1;
            CHECK_MSG(cw.lowered[c] == below, "gains %d channel %d: lowered %d", k, c, cw.lowered[c]);
            if (below)
                CHECK_MSG(fabs(cw.gain[c] / gains[k][c] - 1) < 0.01, "gains %d channel %d: measured %.4f, true %.2f",
                          k, c, cw.gain[c], gains[k][c]);
        }
        /* the estimate and the assessment follow the measured gain */
        enh_illuminant il;
        enh_error err = {0};
        CHECK(enh_estimate_illuminant(p, W, H, &il, &err) == ENH_OK);
        /* attenuated over boosted channel: between the truth and the bound (boost >= 1) */
        int lo = gains[k][0] < 1 ? 0 : gains[k][1] < 1 ? 1 : 2, hi = lo == 2 ? 0 : 2;
        double r = il.e[lo] / il.e[hi], truth = gains[k][lo] / gains[k][hi], bound = gains[k][lo];
        CHECK_MSG(il.confidence == 1 && r > 0.95 * truth && r < 1.02 * bound,
                  "gains %d: estimate ratio %.3f, truth %.3f, bound %.3f", k, r, truth, bound);
        VipsImage *im = vips_image_new_from_memory_copy(p, 3 * n, W, H, 3, VIPS_FORMAT_UCHAR);
        enh_assessment a;
        CHECK(enh_assess_image(im, &a, &err) == ENH_OK);
        CHECK_MSG(a.cast_clipped && a.dominant == ENH_DEG_COLOUR_CAST, "gains %d: dominant %s", k,
                  enh_degradation_name(a.dominant));
        g_object_unref(im);
    }
    /* the same gain on every channel is exposure: nothing reaches the top any more */
    static const double dim[3] = {0.6, 0.6, 0.6};
    memcpy(p, p0, 3 * n);
    recast(p, n, dim);
    enh_clip_white_point(p, n, &cw);
    CHECK_MSG(!cw.found, "x0.6 exposure taken for a cast (ceilings %d %d %d)", cw.ceiling[0], cw.ceiling[1],
              cw.ceiling[2]);
    free(p), g_free(p0), g_object_unref(c0), free(lin);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 2;
    double *lin = malloc(sizeof(double) * W * H * 3);
    rng = 7;
    scene(lin, 1, 0.72);
    enh_illuminant il;
    enh_error err = {0};
    unsigned char tiny[4 * 4 * 3] = {0};
    CHECK(enh_estimate_illuminant(tiny, 4, 4, &il, &err) == ENH_EINVAL);
    test_estimators(lin);
    test_scene_colour();
    test_clipped_white();
    test_exposure(lin, 1);
    test_exposure(lin, 0.35);
    test_exposure_coloured_highlights();
    free(lin);
    vips_shutdown();
    CHECK_MAIN_END();
}
