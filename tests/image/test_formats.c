/* test_formats.c - encode/decode round trips for every output format, from files and
 * from memory, 8/16-bit handling, alpha, GIF first frame. */
#include "check.h"
#include "img_util.h"

#include "core/error.h"
#include "image/image_decode.h"
#include "image/image_encode.h"

static char g_dir[512];

typedef struct {
    enh_format fmt;
    const char *name;
    int lossless;
    double tol_mean;
    const char *probe_name;
} fmt_case;

static void round_trip(const fmt_case *c, VipsImage *src, int alpha)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/rt_%s%s.%s", g_dir, c->name, alpha ? "_a" : "", enh_format_extension(c->fmt));
    enh_save_opts o;
    enh_save_opts_init(&o);
    o.format = c->fmt;
    o.lossless = c->lossless;
    o.quality = 95;
    enh_error err = {0};
    enh_status st = enh_image_save_file(src, path, &o, &err);
    CHECK_MSG(st == ENH_OK, "%s: %s", c->name, err.msg);
    VipsImage *back = NULL;
    enh_image_info info;
    st = enh_image_decode_file(path, 0, &back, &info, &err);
    CHECK_MSG(st == ENH_OK, "%s: %s", c->name, err.msg);
    if (!back)
        return;
    CHECK_MSG(!strcmp(info.format, c->probe_name), "%s: probed as %s", c->name, info.format);
    CHECK(info.width == vips_image_get_width(src) && info.height == vips_image_get_height(src));
    int want_bands = c->fmt == ENH_FORMAT_JPEG ? 3 : vips_image_get_bands(src);
    CHECK_MSG(vips_image_get_bands(back) == want_bands, "%s: %d bands", c->name, vips_image_get_bands(back));
    CHECK(vips_image_get_format(back) == VIPS_FORMAT_UCHAR);
    if (vips_image_get_bands(back) == vips_image_get_bands(src)) {
        double mx = 0, mean = tu_diff(src, back, &mx);
        CHECK_MSG(mean >= 0 && mean <= c->tol_mean, "%s%s: mean diff %g max %g", c->name, alpha ? "+alpha" : "",
                  mean, mx);
    }
    g_object_unref(back);

    /* the same through memory */
    void *buf = NULL;
    size_t len = 0;
    st = enh_image_save_buffer(src, &o, &buf, &len, &err);
    CHECK_MSG(st == ENH_OK && len > 0, "%s buffer: %s", c->name, err.msg);
    if (buf) {
        st = enh_image_decode_buffer(buf, len, 0, &back, &info, &err);
        CHECK_MSG(st == ENH_OK, "%s decode buffer: %s", c->name, err.msg);
        if (back) {
            CHECK(!strcmp(info.format, c->probe_name));
            CHECK(vips_image_get_width(back) == vips_image_get_width(src));
            g_object_unref(back);
        }
        g_free(buf);
    }
}

static VipsImage *with_alpha(VipsImage *img)
{
    /* alpha ramp 10..255 left to right */
    VipsImage *ramp = NULL, *a = NULL, *out = NULL;
    vips_xyz(&ramp, vips_image_get_width(img), vips_image_get_height(img), NULL);
    VipsImage *x = NULL;
    vips_extract_band(ramp, &x, 0, NULL);
    vips_linear1(x, &a, 245.0 / (vips_image_get_width(img) - 1), 10, "uchar", TRUE, NULL); /* no alpha 0: WebP may drop hidden colours */
    vips_bandjoin2(img, a, &out, NULL);
    g_object_unref(ramp);
    g_object_unref(x);
    g_object_unref(a);
    return out;
}

static void test_round_trips(void)
{
    const fmt_case cases[] = {
        {ENH_FORMAT_JPEG, "jpeg", 0, 2.5, "jpeg"},  {ENH_FORMAT_PNG, "png", 0, 0, "png"},
        {ENH_FORMAT_WEBP, "webp", 0, 3.0, "webp"},  {ENH_FORMAT_WEBP, "webp-lossless", 1, 0, "webp"},
        {ENH_FORMAT_AVIF, "avif", 0, 4.0, "avif"},  {ENH_FORMAT_TIFF, "tiff", 0, 0, "tiff"},
    };
    VipsImage *src = tu_gradient(120, 80);
    VipsImage *srca = with_alpha(src);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        round_trip(&cases[i], src, 0);
        round_trip(&cases[i], srca, 1);
    }
    g_object_unref(src);
    g_object_unref(srca);
}

static VipsImage *gradient16(void)
{
    int w = 64, h = 48;
    unsigned short *buf = g_malloc(sizeof(unsigned short) * w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int b = 0; b < 3; b++)
                buf[(y * w + x) * 3 + b] = (unsigned short)(x * 1000 + y * 37 + b * 5000 + 3);
    VipsImage *m = vips_image_new_from_memory_copy(buf, sizeof(unsigned short) * w * h * 3, w, h, 3,
                                                   VIPS_FORMAT_USHORT);
    g_free(buf);
    VipsImage *t = NULL;
    vips_copy(m, &t, "interpretation", VIPS_INTERPRETATION_RGB16, NULL);
    g_object_unref(m);
    return t;
}

static void test_16bit(void)
{
    enh_error err = {0};
    VipsImage *src = gradient16();
    char path[1024];
    enh_save_opts o;
    enh_save_opts_init(&o);

    /* PNG 16 stays 16 and is exact */
    o.format = ENH_FORMAT_PNG;
    snprintf(path, sizeof path, "%s/deep.png", g_dir);
    CHECK(enh_image_save_file(src, path, &o, &err) == ENH_OK);
    VipsImage *back = NULL;
    enh_image_info info;
    CHECK_MSG(enh_image_decode_file(path, 0, &back, &info, &err) == ENH_OK, "%s", err.msg);
    CHECK_MSG(info.bit_depth == 16, "bit depth %d", info.bit_depth);
    if (back) {
        CHECK(enh_image_is_16bit(back));
        CHECK(vips_image_get_interpretation(back) == VIPS_INTERPRETATION_RGB16);
        double mx = 0;
        CHECK_MSG(tu_diff(src, back, &mx) == 0 && mx == 0, "16-bit PNG not exact (max %g)", mx);
        g_object_unref(back);
    }

    /* TIFF 16 stays 16 */
    o.format = ENH_FORMAT_TIFF;
    snprintf(path, sizeof path, "%s/deep.tif", g_dir);
    CHECK(enh_image_save_file(src, path, &o, &err) == ENH_OK);
    CHECK(enh_image_decode_file(path, 0, &back, &info, &err) == ENH_OK);
    if (back) {
        CHECK(enh_image_is_16bit(back));
        double mx = 0;
        CHECK(tu_diff(src, back, &mx) == 0);
        g_object_unref(back);
    }

    /* asked for 8 bits: 8-bit file with value/257 */
    o.format = ENH_FORMAT_PNG;
    o.bit_depth = 8;
    snprintf(path, sizeof path, "%s/shallow.png", g_dir);
    CHECK(enh_image_save_file(src, path, &o, &err) == ENH_OK);
    CHECK(enh_image_decode_file(path, 0, &back, &info, &err) == ENH_OK);
    if (back) {
        CHECK(!enh_image_is_16bit(back) && info.bit_depth == 8);
        CHECK_NEAR(tu_pixel(back, 10, 10, 0), (10 * 1000 + 10 * 37 + 3) / 257.0, 0.51);
        g_object_unref(back);
    }

    /* 8-bit source written as 16 bits: v * 257 */
    VipsImage *g8 = tu_gradient(40, 30);
    o.bit_depth = 16;
    snprintf(path, sizeof path, "%s/up16.png", g_dir);
    CHECK(enh_image_save_file(g8, path, &o, &err) == ENH_OK);
    CHECK(enh_image_decode_file(path, 0, &back, &info, &err) == ENH_OK);
    if (back) {
        CHECK(enh_image_is_16bit(back));
        CHECK_NEAR(tu_pixel(back, 5, 7, 1), tu_pixel(g8, 5, 7, 1) * 257, 0);
        g_object_unref(back);
    }

    /* JPEG and WebP cannot hold 16 bits: explicit request is an error, implicit is 8-bit */
    o.format = ENH_FORMAT_JPEG;
    snprintf(path, sizeof path, "%s/deep.jpg", g_dir);
    CHECK(enh_image_save_file(src, path, &o, &err) == ENH_EINVAL);
    CHECK(strstr(err.msg, "16-bit") != NULL);
    CHECK(tu_file_size(path) == -1);
    o.bit_depth = 0;
    CHECK(enh_image_save_file(src, path, &o, &err) == ENH_OK);
    CHECK(enh_image_decode_file(path, 0, &back, &info, &err) == ENH_OK);
    if (back) {
        CHECK(!enh_image_is_16bit(back));
        g_object_unref(back);
    }

    /* AVIF keeps more than 8 bits (12) and decodes as 16-bit */
    o.format = ENH_FORMAT_AVIF;
    o.quality = 90;
    snprintf(path, sizeof path, "%s/deep.avif", g_dir);
    CHECK_MSG(enh_image_save_file(src, path, &o, &err) == ENH_OK, "%s", err.msg);
    CHECK(enh_image_probe_file(path, 0, &info, &err) == ENH_OK);
    CHECK_MSG(info.bit_depth > 8, "AVIF bit depth %d", info.bit_depth);
    g_object_unref(g8);
    g_object_unref(src);
}

static void test_jpeg_flattens_alpha(void)
{
    enh_error err = {0};
    VipsImage *q = tu_quadrants(60, 40, 4); /* quadrant 3 fully transparent */
    char path[1024];
    snprintf(path, sizeof path, "%s/flat.jpg", g_dir);
    enh_save_opts o;
    enh_save_opts_init(&o);
    o.format = ENH_FORMAT_JPEG;
    o.quality = 95;
    CHECK(enh_image_save_file(q, path, &o, &err) == ENH_OK);
    VipsImage *back = NULL;
    CHECK(enh_image_decode_file(path, 0, &back, NULL, &err) == ENH_OK);
    if (back) {
        CHECK(vips_image_get_bands(back) == 3);
        /* the transparent quadrant (bottom right) becomes white */
        CHECK_NEAR(tu_pixel(back, 50, 35, 0), 255, 3);
        CHECK_NEAR(tu_pixel(back, 50, 35, 2), 255, 3);
        g_object_unref(back);
    }
    g_object_unref(q);
}

static void test_gif_first_frame(void)
{
    enh_error err = {0};
    VipsImage *a = tu_quadrants(40, 30, 3), *b = NULL, *stack = NULL, *inv = NULL;
    vips_invert(a, &inv, NULL);
    vips_cast(inv, &b, VIPS_FORMAT_UCHAR, NULL);
    VipsImage *frames[2] = {a, b};
    vips_arrayjoin(frames, &stack, 2, "across", 1, NULL);
    VipsImage *anim = NULL;
    vips_copy(stack, &anim, NULL);
    vips_image_set_int(anim, "page-height", 30);
    char path[1024];
    snprintf(path, sizeof path, "%s/anim.gif", g_dir);
    CHECK(vips_gifsave(anim, path, NULL) == 0);
    enh_image_info info;
    CHECK_MSG(enh_image_probe_file(path, 0, &info, &err) == ENH_OK, "%s", err.msg);
    CHECK(!strcmp(info.format, "gif"));
    CHECK_MSG(info.pages == 2, "pages %d", info.pages);
    VipsImage *back = NULL;
    CHECK_MSG(enh_image_decode_file(path, 0, &back, &info, &err) == ENH_OK, "%s", err.msg);
    if (back) {
        CHECK(vips_image_get_width(back) == 40 && vips_image_get_height(back) == 30);
        VipsImage *rgb = NULL;
        if (vips_image_get_bands(back) == 4)
            vips_extract_band(back, &rgb, 0, "n", 3, NULL);
        else
            g_object_ref(rgb = back);
        double mx = 0, mean = tu_diff(a, rgb, &mx);
        CHECK_MSG(mean >= 0 && mean < 2, "GIF first frame differs: mean %g", mean);
        g_object_unref(rgb);
        g_object_unref(back);
    }
    g_object_unref(a);
    g_object_unref(b);
    g_object_unref(inv);
    g_object_unref(stack);
    g_object_unref(anim);
}

static void test_format_names(void)
{
    CHECK(enh_format_from_path("a/b.JPG") == ENH_FORMAT_JPEG);
    CHECK(enh_format_from_path("x.tiff") == ENH_FORMAT_TIFF);
    CHECK(enh_format_from_path("x.v1/noext") == ENH_FORMAT_SAME);
    CHECK(enh_format_for_input("gif") == ENH_FORMAT_PNG);
    CHECK(enh_format_for_input("heif") == ENH_FORMAT_AVIF);
    CHECK(enh_format_resolve(ENH_FORMAT_SAME, "o.webp", "jpeg") == ENH_FORMAT_WEBP);
    CHECK(enh_format_resolve(ENH_FORMAT_SAME, "o", "jpeg") == ENH_FORMAT_JPEG);
    CHECK(enh_format_resolve(ENH_FORMAT_PNG, "o.jpg", "jpeg") == ENH_FORMAT_PNG);
    CHECK(!strcmp(enh_format_mime(ENH_FORMAT_AVIF), "image/avif"));
}

int main(void)
{
    enh_error err = {0};
    CHECK(enh_image_init(&err) == ENH_OK);
    if (!tu_mkdtemp(g_dir, sizeof g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_format_names();
    test_round_trips();
    test_16bit();
    test_jpeg_flattens_alpha();
    test_gif_first_frame();
    tu_rmdir(g_dir);
    CHECK_MAIN_END();
}
