/* test_nsfw_real.c - the real nsfwjs-mobilenetv2 (moderate.h) on images made here (exit 77 =
 * skip when the model is not installed: enhance models fetch nsfwjs-mobilenetv2):
 *  - probabilities in [0,1] summing to 1, the same on a second call (deterministic);
 *  - the same pixels as RGB, RGBA, 16-bit RGBA (v * 257) and, for a grey picture, 1 band give
 *    the same probabilities: alpha dropped, 16-bit rounded to the 8 bits pngjs gives, grey
 *    expanded, as nsfwjs sees them;
 *  - an image already 224x224 (no resize) and a 1x1 image classify;
 *  - the errors: an unknown classifier name, a models folder without the model, a float image.
 * Parity with TF.js itself is bench/nsfw/parity.sh (it needs Node and the peer harness). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enhance/moderate.h"
#include "image/image_init.h"
#include "nn/manifest.h"

#define SKIP_CODE 77
static int fails;
#define CHECK(c, ...)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fails++;                                                                                                   \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                               \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
        }                                                                                                              \
    } while (0)

/* w x h with `bands` bands of 8 or 16 bits: a smooth colour pattern with some edges; grey when
 * bands < 3 (alpha in the last band when bands is 2 or 4: arbitrary, it must be ignored) */
static VipsImage *pattern(int w, int h, int bands, int bits, int grey)
{
    size_t n = (size_t)w * h * bands;
    unsigned short *p16 = malloc(n * 2);
    unsigned char *p8 = malloc(n);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v[4];
            v[0] = (x * 255 / (w > 1 ? w - 1 : 1) + ((x / 17 + y / 13) % 2) * 60) % 256;
            v[1] = grey ? v[0] : (y * 255 / (h > 1 ? h - 1 : 1)) % 256;
            v[2] = grey ? v[0] : ((x * y) / 7) % 256;
            for (int b = 0; b < bands; b++) {
                int alpha = (bands == 2 && b == 1) || (bands == 4 && b == 3);
                int val = alpha ? (x * 31 + y * 7) % 256 : v[bands < 3 ? 0 : b];
                size_t i = ((size_t)y * w + x) * bands + b;
                p8[i] = (unsigned char)val;
                p16[i] = (unsigned short)(val * 257);
            }
        }
    VipsImage *im = bits == 16 ? vips_image_new_from_memory_copy(p16, n * 2, w, h, bands, VIPS_FORMAT_USHORT)
                               : vips_image_new_from_memory_copy(p8, n, w, h, bands, VIPS_FORMAT_UCHAR);
    free(p16);
    free(p8);
    return im;
}

static void classify(const enh_classifier *c, VipsImage *im, float p[5], const char *what)
{
    enh_error err = {0};
    enh_status st = enh_classify(c, im, p, &err);
    CHECK(st == ENH_OK, "%s: %s", what, err.msg);
    double sum = 0;
    for (int k = 0; k < 5; k++) {
        CHECK(p[k] >= 0.f && p[k] <= 1.f, "%s: p[%d] = %g", what, k, p[k]);
        sum += p[k];
    }
    CHECK(fabs(sum - 1.0) < 1e-5, "%s: probabilities sum to %.7f", what, sum);
    printf("%-28s", what);
    for (int k = 0; k < 5; k++)
        printf(" %s %.6f", enh_nsfw_class_name((enh_nsfw_class)k), p[k]);
    printf("\n");
}

static void same(const float *a, const float *b, const char *what)
{
    CHECK(!memcmp(a, b, 5 * sizeof *a), "%s: %g %g %g %g %g vs %g %g %g %g %g", what, a[0], a[1], a[2], a[3], a[4], b[0],
          b[1], b[2], b[3], b[4]);
}

int main(void)
{
    enh_error err = {0};
    if (enh_image_init(&err) != ENH_OK) {
        printf("FAIL: %s\n", err.msg);
        return 1;
    }
    const enh_model_entry *e = enh_manifest_find(ENH_CLASSIFIER_DEFAULT);
    CHECK(e && e->format == ENH_MODEL_TFJS_LAYERS && enh_model_is_classifier(e), "manifest entry");
    enh_classifier *c = NULL;
    CHECK(enh_classifier_load("realesrgan-x4fast", NULL, NULL, &c, &err) == ENH_EINVAL && !c,
          "an upscaler as a classifier: %s", err.msg);
    char empty[] = "/tmp/enh_nsfw_empty_XXXXXX";
    if (mkdtemp(empty)) {
        CHECK(enh_classifier_load(NULL, empty, NULL, &c, &err) == ENH_ENOTFOUND && strstr(err.msg, "fetch"),
              "not installed: %s", err.msg);
        rmdir(empty);
    }
    if (!e || !enh_model_installed(e, NULL)) {
        printf("SKIP: %s is not installed (enhance models fetch %s)\n", ENH_CLASSIFIER_DEFAULT, ENH_CLASSIFIER_DEFAULT);
        return fails ? 1 : SKIP_CODE;
    }
    enh_status st = enh_classifier_load(NULL, NULL, NULL, &c, &err);
    CHECK(st == ENH_OK, "load: %s", err.msg);
    if (st != ENH_OK)
        return 1;
    CHECK(!strcmp(enh_classifier_name(c), ENH_CLASSIFIER_DEFAULT) && enh_classifier_input_size(c) == 224, "%s %d",
          enh_classifier_name(c), enh_classifier_input_size(c));
    float p[5], q[5];
    VipsImage *rgb = pattern(300, 200, 3, 8, 0), *rgba = pattern(300, 200, 4, 8, 0), *rgba16 = pattern(300, 200, 4, 16, 0);
    classify(c, rgb, p, "300x200 RGB");
    classify(c, rgb, q, "again");
    same(p, q, "a second call");
    classify(c, rgba, q, "RGBA (alpha dropped)");
    same(p, q, "RGBA");
    classify(c, rgba16, q, "16-bit RGBA");
    same(p, q, "16-bit RGBA");
    VipsImage *g3 = pattern(180, 240, 3, 8, 1), *g1 = pattern(180, 240, 1, 8, 1), *g2 = pattern(180, 240, 2, 16, 1);
    classify(c, g3, p, "grey as RGB");
    classify(c, g1, q, "1 band grey");
    same(p, q, "1 band");
    classify(c, g2, q, "16-bit grey + alpha");
    same(p, q, "2 bands");
    VipsImage *sq = pattern(224, 224, 3, 8, 0), *dot = pattern(1, 1, 3, 8, 0);
    classify(c, sq, p, "224x224 (no resize)");
    classify(c, dot, p, "1x1");
    VipsImage *fl = NULL;
    if (!vips_cast(rgb, &fl, VIPS_FORMAT_FLOAT, NULL)) {
        CHECK(enh_classify(c, fl, p, &err) == ENH_EUNSUPPORTED, "a float image: %s", err.msg);
        g_object_unref(fl);
    }
    VipsImage *all[] = {rgb, rgba, rgba16, g3, g1, g2, sq, dot};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        g_object_unref(all[i]);
    enh_classifier_free(c);
    printf(fails ? "%d FAILED\n" : "all nsfwjs checks passed\n", fails);
    return fails ? 1 : 0;
}
