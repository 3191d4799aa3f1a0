/* test_orient_colour.c - EXIF orientation 1..8, ICC profiles (P3, CMYK with and without a
 * profile), greyscale, and metadata kept or stripped on output. */
#include "check.h"
#include "img_util.h"

#include "core/error.h"
#include "image/image_decode.h"
#include "image/image_encode.h"

static char g_dir[512];

/* The stored pixels that display as `u` (W x H, 3 bands) under EXIF orientation o,
 * written from the EXIF definition of where row 0 / column 0 go (independent of libvips'
 * own rotation code). */
static VipsImage *stored_for(const unsigned char *u, int W, int H, int o)
{
    int sw = o >= 5 ? H : W, sh = o >= 5 ? W : H;
    unsigned char *s = g_malloc((size_t)sw * sh * 3);
    for (int r = 0; r < sh; r++)
        for (int c = 0; c < sw; c++) {
            int x = 0, y = 0;
            switch (o) {
            case 1: x = c; y = r; break;
            case 2: x = W - 1 - c; y = r; break;
            case 3: x = W - 1 - c; y = H - 1 - r; break;
            case 4: x = c; y = H - 1 - r; break;
            case 5: x = r; y = c; break;
            case 6: x = W - 1 - r; y = c; break;
            case 7: x = W - 1 - r; y = H - 1 - c; break;
            case 8: x = r; y = H - 1 - c; break;
            }
            memcpy(s + ((size_t)r * sw + c) * 3, u + ((size_t)y * W + x) * 3, 3);
        }
    VipsImage *m = vips_image_new_from_memory_copy(s, (size_t)sw * sh * 3, sw, sh, 3, VIPS_FORMAT_UCHAR);
    g_free(s);
    VipsImage *t = NULL;
    vips_copy(m, &t, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(m);
    return t;
}

static void test_orientation(void)
{
    const int W = 48, H = 32;
    VipsImage *up = tu_quadrants(W, H, 3);
    size_t n = 0;
    unsigned char *u = vips_image_write_to_memory(up, &n);
    enh_error err = {0};
    for (int o = 1; o <= 8; o++) {
        VipsImage *s = stored_for(u, W, H, o);
        VipsImage *tagged = NULL;
        vips_copy(s, &tagged, NULL);
        vips_image_set_int(tagged, VIPS_META_ORIENTATION, o);
        char path[1024];
        snprintf(path, sizeof path, "%s/orient%d.jpg", g_dir, o);
        CHECK(vips_jpegsave(tagged, path, "Q", 98, NULL) == 0);
        enh_image_info info;
        CHECK(enh_image_probe_file(path, 0, &info, &err) == ENH_OK);
        CHECK_MSG(info.orientation == o, "orientation %d probed as %d", o, info.orientation);
        int uw, uh;
        enh_image_info_upright_size(&info, &uw, &uh);
        CHECK(uw == W && uh == H);
        VipsImage *back = NULL;
        CHECK_MSG(enh_image_decode_file(path, 0, &back, NULL, &err) == ENH_OK, "%s", err.msg);
        if (back) {
            double mx = 0, mean = tu_diff(up, back, &mx);
            CHECK_MSG(mean >= 0 && mean < 1.5, "orientation %d: decoded image does not match (mean diff %g)", o, mean);
            CHECK_MSG(vips_image_get_orientation(back) == 1, "orientation tag left on the upright image");
            /* and the stored image itself is not upright (so the check above can fail) */
            if (o != 1) {
                double m2 = tu_diff(up, s, NULL);
                CHECK(m2 != 0);
            }
            g_object_unref(back);
        }
        g_object_unref(tagged);
        g_object_unref(s);
    }
    g_free(u);
    g_object_unref(up);
}

/* Saturated colours: far apart in P3 and sRGB numbers. */
static VipsImage *saturated(void)
{
    VipsImage *q = tu_quadrants(64, 48, 3);
    return q;
}

static void test_icc_p3(void)
{
    enh_error err = {0};
    VipsImage *src = saturated(), *p3 = NULL;
    CHECK(vips_icc_transform(src, &p3, "p3", "input_profile", "srgb", NULL) == 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/p3.png", g_dir);
    CHECK(vips_pngsave(p3, path, NULL) == 0);
    enh_image_info info;
    CHECK(enh_image_probe_file(path, 0, &info, &err) == ENH_OK);
    CHECK(info.has_icc);
    /* the raw P3 numbers are visibly different from the sRGB ones... */
    double raw = tu_diff(src, p3, NULL);
    CHECK_MSG(raw > 3, "P3 numbers too close to sRGB for the test to mean anything (%g)", raw);
    /* ...and decoding converts them back */
    VipsImage *back = NULL;
    CHECK(enh_image_decode_file(path, 0, &back, NULL, &err) == ENH_OK);
    if (back) {
        double mx = 0, mean = tu_diff(src, back, &mx);
        CHECK_MSG(mean >= 0 && mean < 1.0, "P3 -> sRGB mean diff %g max %g", mean, mx);
        CHECK(vips_image_get_interpretation(back) == VIPS_INTERPRETATION_sRGB);

        /* keep_metadata keeps a profile that matches the pixels (sRGB), strip drops it */
        enh_save_opts o;
        enh_save_opts_init(&o);
        o.format = ENH_FORMAT_PNG;
        o.keep_metadata = 1;
        snprintf(path, sizeof path, "%s/kept.png", g_dir);
        CHECK(enh_image_save_file(back, path, &o, &err) == ENH_OK);
        CHECK(enh_image_probe_file(path, 0, &info, &err) == ENH_OK);
        CHECK(info.has_icc);
        VipsImage *again = NULL;
        CHECK(enh_image_decode_file(path, 0, &again, NULL, &err) == ENH_OK);
        if (again) {
            CHECK(tu_diff(src, again, NULL) < 1.0);
            g_object_unref(again);
        }
        o.keep_metadata = 0;
        snprintf(path, sizeof path, "%s/stripped.png", g_dir);
        CHECK(enh_image_save_file(back, path, &o, &err) == ENH_OK);
        CHECK(enh_image_probe_file(path, 0, &info, &err) == ENH_OK);
        CHECK(!info.has_icc);
        g_object_unref(back);
    }
    g_object_unref(p3);
    g_object_unref(src);
}

static void test_cmyk(void)
{
    enh_error err = {0};
    VipsImage *src = tu_gradient(64, 48), *cmyk = NULL;
    CHECK(vips_icc_export(src, &cmyk, "output_profile", "cmyk", NULL) == 0);
    CHECK(vips_image_get_bands(cmyk) == 4);
    for (int with_profile = 0; with_profile <= 1; with_profile++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/cmyk%d.jpg", g_dir, with_profile);
        CHECK(vips_jpegsave(cmyk, path, "Q", 98, "strip", with_profile ? FALSE : TRUE, NULL) == 0);
        enh_image_info info;
        CHECK(enh_image_probe_file(path, 0, &info, &err) == ENH_OK);
        CHECK_MSG(!strcmp(info.colourspace, "cmyk"), "colourspace %s", info.colourspace);
        CHECK(info.has_icc == with_profile);
        VipsImage *back = NULL;
        CHECK_MSG(enh_image_decode_file(path, 0, &back, NULL, &err) == ENH_OK, "%s", err.msg);
        if (back) {
            CHECK(vips_image_get_bands(back) == 3);
            CHECK(vips_image_get_interpretation(back) == VIPS_INTERPRETATION_sRGB);
            double mx = 0, mean = tu_diff(src, back, &mx);
            CHECK_MSG(mean >= 0 && mean < 4.0, "CMYK (profile %d) -> sRGB mean diff %g max %g", with_profile, mean,
                      mx);
            g_object_unref(back);
        }
    }
    g_object_unref(cmyk);
    g_object_unref(src);
}

static void test_grey(void)
{
    enh_error err = {0};
    VipsImage *g = tu_quadrants(40, 30, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/grey.png", g_dir);
    CHECK(vips_pngsave(g, path, NULL) == 0);
    VipsImage *back = NULL;
    CHECK(enh_image_decode_file(path, 0, &back, NULL, &err) == ENH_OK);
    if (back) {
        CHECK(vips_image_get_bands(back) == 1);
        CHECK(vips_image_get_interpretation(back) == VIPS_INTERPRETATION_B_W);
        CHECK(tu_diff(g, back, NULL) == 0);
        g_object_unref(back);
    }
    /* grey + alpha JPEG-free path: PNG keeps both bands */
    VipsImage *ga = tu_quadrants(40, 30, 2);
    snprintf(path, sizeof path, "%s/grey_a.png", g_dir);
    CHECK(vips_pngsave(ga, path, NULL) == 0);
    CHECK(enh_image_decode_file(path, 0, &back, NULL, &err) == ENH_OK);
    if (back) {
        CHECK(vips_image_get_bands(back) == 2 && vips_image_hasalpha(back));
        g_object_unref(back);
    }
    g_object_unref(ga);
    g_object_unref(g);
}

static void test_metadata(void)
{
    enh_error err = {0};
    VipsImage *src = tu_gradient(32, 24), *m = NULL;
    vips_copy(src, &m, NULL);
    static const char xmp[] = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
                              "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/></x:xmpmeta>";
    vips_image_set_blob_copy(m, VIPS_META_XMP_NAME, xmp, sizeof xmp - 1);
    vips_image_set_string(m, "exif-ifd0-Artist", "enhance test");
    char path[1024];
    snprintf(path, sizeof path, "%s/meta_src.jpg", g_dir);
    CHECK(vips_jpegsave(m, path, NULL) == 0);
    VipsImage *back = NULL;
    CHECK(enh_image_decode_file(path, 0, &back, NULL, &err) == ENH_OK);
    if (back) {
        enh_save_opts o;
        enh_save_opts_init(&o);
        o.format = ENH_FORMAT_JPEG;
        for (int keep = 0; keep <= 1; keep++) {
            o.keep_metadata = keep;
            snprintf(path, sizeof path, "%s/meta_out%d.jpg", g_dir, keep);
            CHECK(enh_image_save_file(back, path, &o, &err) == ENH_OK);
            VipsImage *h = vips_image_new_from_file(path, NULL);
            CHECK(h != NULL);
            if (h) {
                int has_xmp = vips_image_get_typeof(h, VIPS_META_XMP_NAME) != 0;
                int has_exif = vips_image_get_typeof(h, VIPS_META_EXIF_NAME) != 0;
                CHECK_MSG(has_xmp == keep && has_exif == keep, "keep=%d: xmp %d exif %d", keep, has_xmp, has_exif);
                g_object_unref(h);
            }
        }
        g_object_unref(back);
    }
    g_object_unref(m);
    g_object_unref(src);
}

int main(void)
{
    enh_error err = {0};
    CHECK(enh_image_init(&err) == ENH_OK);
    if (!tu_mkdtemp(g_dir, sizeof g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_orientation();
    test_icc_p3();
    test_cmyk();
    test_grey();
    test_metadata();
    tu_rmdir(g_dir);
    CHECK_MAIN_END();
}
