/* test_resize.c - lanczos3 resampling against a direct reference, fit modes, gravity,
 * padding/background, alpha without halos, 16-bit kept, and the stage in the pipeline. */
#include "check.h"
#include "img_util.h"

#include <math.h>

#include "core/error.h"
#include "enhance/pipeline.h"
#include "enhance/stages.h"
#include "image/image_decode.h"
#include "image/image_resample.h"

static double lz(double x)
{
    x = fabs(x);
    if (x < 1e-12)
        return 1;
    if (x >= 3)
        return 0;
    return 3 * sin(M_PI * x) * sin(M_PI * x / 3) / (M_PI * M_PI * x * x);
}

/* Direct 2-D lanczos3 enlargement in double precision (edge pixels replicated). */
static double ref_pixel(const unsigned char *src, int w, int h, int bands, double sx, double sy, int ox, int oy,
                        int b)
{
    double cx = (ox + 0.5) / sx - 0.5, cy = (oy + 0.5) / sy - 0.5;
    int x0 = (int)floor(cx) - 2, y0 = (int)floor(cy) - 2;
    double wx[6], wy[6], sxw = 0, syw = 0;
    for (int k = 0; k < 6; k++) {
        wx[k] = lz(cx - (x0 + k));
        wy[k] = lz(cy - (y0 + k));
        sxw += wx[k];
        syw += wy[k];
    }
    double acc = 0;
    for (int j = 0; j < 6; j++)
        for (int i = 0; i < 6; i++) {
            int x = x0 + i < 0 ? 0 : x0 + i >= w ? w - 1 : x0 + i;
            int y = y0 + j < 0 ? 0 : y0 + j >= h ? h - 1 : y0 + j;
            acc += wx[i] / sxw * wy[j] / syw * src[((size_t)y * w + x) * bands + b];
        }
    return acc;
}

static void test_lanczos_reference(void)
{
    enh_error err = {0};
    VipsImage *src = tu_gradient(23, 17);
    size_t n = 0;
    unsigned char *px = vips_image_write_to_memory(src, &n);
    const int W = 61, H = 50; /* x2.65 and x2.94: fractional phases */
    VipsImage *out = NULL;
    CHECK_MSG(enh_image_resize_to(src, W, H, &out, &err) == ENH_OK, "%s", err.msg);
    if (out) {
        CHECK(vips_image_get_width(out) == W && vips_image_get_height(out) == H);
        CHECK(vips_image_get_format(out) == VIPS_FORMAT_UCHAR);
        size_t m = 0;
        unsigned char *o = vips_image_write_to_memory(out, &m);
        double worst = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int b = 0; b < 3; b++) {
                    double r = ref_pixel(px, 23, 17, 3, (double)W / 23, (double)H / 17, x, y, b);
                    r = r < 0 ? 0 : r > 255 ? 255 : r;
                    double d = fabs(r - o[((size_t)y * W + x) * 3 + b]);
                    if (d > worst)
                        worst = d;
                }
        CHECK_MSG(worst <= 1.0, "lanczos3 enlargement differs from the reference by %g", worst);
        /* and it is not what bicubic would give (the test can tell kernels apart) */
        VipsImage *cubic = NULL;
        vips_resize(src, &cubic, (double)W / 23, "vscale", (double)H / 17, "kernel", VIPS_KERNEL_CUBIC, NULL);
        if (cubic && vips_image_get_width(cubic) == W && vips_image_get_height(cubic) == H) {
            double mx = 0;
            tu_diff(out, cubic, &mx);
            CHECK_MSG(mx >= 2, "lanczos3 and bicubic agree suspiciously (max diff %g)", mx);
        }
        if (cubic)
            g_object_unref(cubic);
        g_free(o);
        g_object_unref(out);
    }
    /* reduction: right size, same average brightness */
    CHECK(enh_image_resize_to(src, 11, 8, &out, &err) == ENH_OK);
    if (out) {
        CHECK(vips_image_get_width(out) == 11 && vips_image_get_height(out) == 8);
        double a = 0, b = 0;
        vips_avg(src, &a, NULL);
        vips_avg(out, &b, NULL);
        CHECK_NEAR(a, b, 3);
        g_object_unref(out);
    }
    g_free(px);
    g_object_unref(src);
}

static void test_alpha_no_halo(void)
{
    /* left: opaque red; right: fully transparent but (invisibly) green */
    const int w = 40, h = 20;
    unsigned char *buf = g_malloc(w * h * 4);
    for (int i = 0; i < w * h; i++) {
        int left = (i % w) < w / 2;
        unsigned char *p = buf + i * 4;
        p[0] = left ? 255 : 0;
        p[1] = left ? 0 : 255;
        p[2] = 0;
        p[3] = left ? 255 : 0;
    }
    VipsImage *m = vips_image_new_from_memory_copy(buf, w * h * 4, w, h, 4, VIPS_FORMAT_UCHAR), *img = NULL;
    vips_copy(m, &img, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(m);
    g_free(buf);
    enh_error err = {0};
    const int sizes[][2] = {{w * 3, h * 3}, {w / 2, h / 2}, {w * 5 / 3, h}};
    for (size_t s = 0; s < 3; s++) {
        VipsImage *out = NULL;
        CHECK(enh_image_resize_to(img, sizes[s][0], sizes[s][1], &out, &err) == ENH_OK);
        if (!out)
            continue;
        CHECK(vips_image_get_bands(out) == 4);
        size_t n = 0;
        unsigned char *o = vips_image_write_to_memory(out, &n);
        int worst_green = 0, ow = vips_image_get_width(out);
        for (size_t i = 0; i < n / 4; i++) {
            unsigned char *p = o + i * 4;
            if (p[3] >= 8 && p[1] > worst_green)
                worst_green = p[1];
        }
        CHECK_MSG(worst_green <= 12, "green halo at the alpha edge (%dx%d): %d", ow, sizes[s][1], worst_green);
        g_free(o);
        g_object_unref(out);
    }
    /* control: a naive (non-premultiplied) resize does show the halo */
    VipsImage *naive = NULL;
    vips_resize(img, &naive, 0.5, NULL);
    size_t n = 0;
    unsigned char *o = vips_image_write_to_memory(naive, &n);
    int worst = 0;
    for (size_t i = 0; i < n / 4; i++)
        if (o[i * 4 + 3] >= 8 && o[i * 4 + 1] > worst)
            worst = o[i * 4 + 1];
    CHECK_MSG(worst > 12, "the halo control did not show a halo (%d)", worst);
    g_free(o);
    g_object_unref(naive);
    g_object_unref(img);
}

static void test_16bit_kept(void)
{
    VipsImage *g = tu_gradient(30, 20), *l = NULL, *c = NULL, *img = NULL;
    vips_linear1(g, &l, 257, 0, NULL);
    vips_cast(l, &c, VIPS_FORMAT_USHORT, NULL);
    vips_copy(c, &img, "interpretation", VIPS_INTERPRETATION_RGB16, NULL);
    enh_error err = {0};
    VipsImage *out = NULL;
    CHECK(enh_image_resize_to(img, 75, 50, &out, &err) == ENH_OK);
    if (out) {
        CHECK(vips_image_get_format(out) == VIPS_FORMAT_USHORT);
        CHECK(vips_image_get_interpretation(out) == VIPS_INTERPRETATION_RGB16);
        double mx = 0;
        vips_max(out, &mx, NULL);
        CHECK_MSG(mx > 255, "16-bit result looks 8-bit (max %g)", mx);
        g_object_unref(out);
    }
    g_object_unref(g);
    g_object_unref(l);
    g_object_unref(c);
    g_object_unref(img);
}

static VipsImage *run_stage(VipsImage *in, const enh_ops *ops, enh_status *st, enh_error *err)
{
    enh_pipeline_report rep;
    memset(&rep, 0, sizeof rep);
    rep.in_width = vips_image_get_width(in);
    rep.in_height = vips_image_get_height(in);
    VipsImage *out = NULL;
    *st = enh_stage_resize(in, ops, NULL, &out, &rep, err);
    return out;
}

static void expect_size(VipsImage *in, const enh_ops *ops, int w, int h, const char *what)
{
    enh_error err = {0};
    enh_status st;
    VipsImage *out = run_stage(in, ops, &st, &err);
    CHECK_MSG(st == ENH_OK, "%s: %s", what, err.msg);
    if (!out)
        return;
    CHECK_MSG(vips_image_get_width(out) == w && vips_image_get_height(out) == h, "%s: got %dx%d, want %dx%d", what,
              vips_image_get_width(out), vips_image_get_height(out), w, h);
    g_object_unref(out);
}

static void test_fit_modes(void)
{
    VipsImage *src = tu_gradient(200, 100);
    enh_ops o;
    enh_ops_init(&o);
    expect_size(src, &o, 200, 100, "nothing");
    o.width = 100;
    o.height = 100;
    expect_size(src, &o, 100, 50, "inside 100x100");
    o.height = 0;
    o.width = 50;
    expect_size(src, &o, 50, 25, "inside width 50");
    o.width = 0;
    o.height = 20;
    expect_size(src, &o, 40, 20, "inside height 20");
    o.width = 100;
    o.height = 100;
    o.fit = ENH_FIT_COVER;
    expect_size(src, &o, 100, 100, "cover");
    o.fit = ENH_FIT_FILL;
    o.width = 50;
    o.height = 80;
    expect_size(src, &o, 50, 80, "fill");
    o.fit = ENH_FIT_PAD;
    o.width = 100;
    o.height = 100;
    expect_size(src, &o, 100, 100, "pad");
    enh_ops_init(&o);
    o.width_pct = 50;
    expect_size(src, &o, 100, 50, "50%");
    enh_ops_init(&o);
    o.resize_scale = 1.5;
    expect_size(src, &o, 300, 150, "scale 1.5");
    o.resize_scale = 0.25;
    expect_size(src, &o, 50, 25, "scale 0.25");
    enh_ops_init(&o);
    o.padding = 10;
    expect_size(src, &o, 220, 120, "padding 10");

    /* pad fills with the background; a translucent one adds alpha */
    enh_ops_init(&o);
    o.fit = ENH_FIT_PAD;
    o.width = 100;
    o.height = 100;
    o.background[0] = 10;
    o.background[1] = 20;
    o.background[2] = 250;
    o.background[3] = 255;
    enh_error err = {0};
    enh_status st;
    VipsImage *out = run_stage(src, &o, &st, &err);
    if (out) {
        CHECK(vips_image_get_bands(out) == 3);
        CHECK_NEAR(tu_pixel(out, 50, 2, 2), 250, 0);
        CHECK_NEAR(tu_pixel(out, 50, 2, 0), 10, 0);
        CHECK(tu_pixel(out, 50, 50, 2) != 250);
        g_object_unref(out);
    }
    o.background[3] = 0;
    out = run_stage(src, &o, &st, &err);
    if (out) {
        CHECK(vips_image_get_bands(out) == 4);
        CHECK_NEAR(tu_pixel(out, 50, 2, 3), 0, 0);
        CHECK_NEAR(tu_pixel(out, 50, 50, 3), 255, 0);
        g_object_unref(out);
    }
    g_object_unref(src);
}

static void test_gravity(void)
{
    /* flat grey with a busy colourful patch near the right edge */
    const int w = 300, h = 100;
    unsigned char *buf = g_malloc(w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = buf + (y * w + x) * 3;
            int patch = x >= 240 && x < 290 && y >= 30 && y < 70;
            int chk = ((x / 4) + (y / 4)) & 1;
            p[0] = patch ? (chk ? 255 : 20) : 128;
            p[1] = patch ? (chk ? 30 : 230) : 128;
            p[2] = patch ? 40 : 128;
        }
    VipsImage *m = vips_image_new_from_memory_copy(buf, w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR), *img = NULL;
    g_free(buf);
    vips_copy(m, &img, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(m);
    enh_ops o;
    enh_ops_init(&o);
    o.fit = ENH_FIT_COVER;
    o.width = 100;
    o.height = 100;
    enh_error err = {0};
    enh_status st;
    for (int smart = 0; smart <= 1; smart++) {
        o.gravity = smart ? ENH_GRAVITY_SMART : ENH_GRAVITY_CENTRE;
        VipsImage *out = run_stage(img, &o, &st, &err);
        CHECK_MSG(st == ENH_OK, "%s", err.msg);
        if (!out)
            continue;
        double dev = 0;
        vips_deviate(out, &dev, NULL);
        if (smart)
            CHECK_MSG(dev > 20, "smart crop missed the detail (deviation %g)", dev);
        else
            CHECK_MSG(dev < 1, "centre crop should be flat (deviation %g)", dev);
        g_object_unref(out);
    }
    g_object_unref(img);
}

static void test_in_pipeline(void)
{
    VipsImage *src = tu_gradient(120, 80);
    enh_ops o;
    enh_ops_init(&o);
    o.width = 60;
    enh_pipeline_report rep;
    enh_error err = {0};
    VipsImage *out = NULL;
    CHECK_MSG(enh_pipeline_run(src, &o, NULL, &out, &rep, &err) == ENH_OK, "%s", err.msg);
    if (out) {
        CHECK(rep.out_width == 60 && rep.out_height == 40);
        g_object_unref(out);
    }
    /* validation reaches the caller */
    o.fit = ENH_FIT_PAD;
    CHECK(enh_pipeline_run(src, &o, NULL, &out, &rep, &err) == ENH_EINVAL);
    g_object_unref(src);
}

int main(void)
{
    enh_error err = {0};
    CHECK(enh_image_init(&err) == ENH_OK);
    test_lanczos_reference();
    test_alpha_no_halo();
    test_16bit_kept();
    test_fit_modes();
    test_gravity();
    test_in_pipeline();
    CHECK_MAIN_END();
}
