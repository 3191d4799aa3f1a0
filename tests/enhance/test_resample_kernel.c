/* test_resample_kernel.c - the MATLAB imresize kernels of the resampler (image_resample.h,
 * resample_kernel.h) and their operations-model plumbing:
 * - cubic x2 of a 4x1 row against weights worked out by hand (Keys a = -0.5, mirrored border);
 * - cubic / linear / nearest, up and down, against a direct double-precision port of MATLAB's
 *   contributions() written independently here (rounding after each 1-D pass, rows first);
 * - 16-bit stays 16-bit, alpha kept; a constant image stays constant;
 * - JSON: restorations.resample_kernel, the resizing.kernel alias, disagreement, bad names,
 *   round trip; the pipeline's upscale=resample reports the kernel;
 * - golden files: Set5 reduced to ../shared/benchdata/Set5_LR_bicubic bit-exactly (skipped when
 *   the shared folder is absent). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "../check.h"
#include "enhance/ops.h"
#include "enhance/pipeline.h"
#include "image/image_resample.h"

static VipsImage *from_u8(const unsigned char *px, int w, int h, int bands)
{
    VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)w * h * bands, w, h, bands, VIPS_FORMAT_UCHAR);
    if (im && bands >= 3)
        im->Type = VIPS_INTERPRETATION_sRGB;
    else if (im)
        im->Type = VIPS_INTERPRETATION_B_W;
    return im;
}

static unsigned char *resize_u8(VipsImage *in, int w, int h, enh_kernel k)
{
    enh_error err = {0};
    VipsImage *out = NULL;
    if (enh_image_resize_kernel(in, w, h, k, &out, &err) != ENH_OK) {
        CHECK_MSG(0, "resize: %s", err.msg);
        return NULL;
    }
    CHECK(vips_image_get_width(out) == w && vips_image_get_height(out) == h);
    CHECK(vips_image_get_format(out) == VIPS_FORMAT_UCHAR);
    size_t n = 0;
    unsigned char *px = vips_image_write_to_memory(out, &n);
    CHECK(n == (size_t)w * h * vips_image_get_bands(in));
    g_object_unref(out);
    return px;
}

/* x2 of the row [10 50 200 30]. Output o samples x = (o + 0.5)/2 - 0.5, so every output sits
 * 0.25 px from an input pixel. Keys a = -0.5 at distances 0.25, 0.75, 1.25, 1.75:
 * k = 0.8671875, 0.2265625, -0.0703125, -0.0234375 (sum 1). Border taps mirror (0-based):
 * -1 -> 0, -2 -> 1, 4 -> 3, 5 -> 2.
 *   o0 x -0.25: taps -2,-1,0,1 = v1 v0 v0 v1: -0.0234375*50 + (0.2265625+0.8671875)*10 - 0.0703125*50 = 6.25 -> 6
 *   o1 x  0.25: taps -1,0,1,2 = v0 v0 v1 v2: (-0.0703125+0.8671875)*10 + 0.2265625*50 - 0.0234375*200 = 14.61 -> 15
 *   o2 x  0.75: taps -1,0,1,2:  (-0.0234375+0.2265625)*10 + 0.8671875*50 - 0.0703125*200 = 31.33 -> 31
 *   o3 x  1.25: taps 0..3: -0.0703125*10 + 0.8671875*50 + 0.2265625*200 - 0.0234375*30 = 87.27 -> 87
 *   o4 x  1.75: taps 0..3: -0.0234375*10 + 0.2265625*50 + 0.8671875*200 - 0.0703125*30 = 182.42 -> 182
 *   o5 x  2.25: taps 1..4 = v1 v2 v3 v3: -0.0703125*50 + 0.8671875*200 + (0.2265625-0.0234375)*30 = 176.02 -> 176
 *   o6 x  2.75: taps 1..4: -0.0234375*50 + 0.2265625*200 + (0.8671875-0.0703125)*30 = 68.05 -> 68
 *   o7 x  3.25: taps 2..5 = v2 v3 v3 v2: (-0.0703125-0.0234375)*200 + (0.8671875+0.2265625)*30 = 14.06 -> 14
 * (replicated borders would give o0 = 7.19 -> 7 and o7 = 18.05 -> 18; lanczos3 differs throughout),
 * so this pins the kernel, the phase and the border rule. */
static void test_hand_computed(void)
{
    static const unsigned char row[4] = {10, 50, 200, 30};
    static const unsigned char want[8] = {6, 15, 31, 87, 182, 176, 68, 14};
    VipsImage *in = from_u8(row, 4, 1, 1);
    unsigned char *o = resize_u8(in, 8, 1, ENH_KERNEL_CUBIC);
    for (int i = 0; o && i < 8; i++)
        CHECK_MSG(o[i] == want[i], "cubic x2 pixel %d: %d, hand-computed %d", i, o[i], want[i]);
    g_free(o);
    /* the same row as a column: the vertical pass is the same maths */
    VipsImage *col = from_u8(row, 1, 4, 1);
    o = resize_u8(col, 1, 8, ENH_KERNEL_CUBIC);
    for (int i = 0; o && i < 8; i++)
        CHECK_MSG(o[i] == want[i], "cubic x2 column pixel %d: %d, hand-computed %d", i, o[i], want[i]);
    g_free(o);
    o = resize_u8(in, 8, 1, ENH_KERNEL_LANCZOS3);
    CHECK(o && memcmp(o, want, 8) != 0);
    g_free(o);
    g_object_unref(col);
    g_object_unref(in);
}

/* ---- independent reference: MATLAB imresize contributions(), double precision ---- */

static double ref_kernel(enh_kernel k, double t)
{
    double a = fabs(t);
    switch (k) {
    case ENH_KERNEL_CUBIC:
        return a <= 1 ? 1.5 * a * a * a - 2.5 * a * a + 1 : a <= 2 ? -0.5 * a * a * a + 2.5 * a * a - 4 * a + 2 : 0;
    case ENH_KERNEL_LINEAR: return a <= 1 ? 1 - a : 0;
    default: return (t >= -0.5 && t < 0.5) ? 1 : 0;
    }
}

/* Resizes n lines of `len` samples (stride between samples `step`, between lines `lstep`) from
 * in_len to out_len, MATLAB style (1-based maths as in imresize.m), rounding to uint8. */
static void ref_axis(const double *src, int in_len, int out_len, int n, int step, int lstep, int ostep, int olstep,
                     enh_kernel k, double *dst)
{
    double scale = (double)out_len / in_len;
    double width = k == ENH_KERNEL_CUBIC ? 4 : k == ENH_KERNEL_LINEAR ? 2 : 1;
    int aa = scale < 1 && k != ENH_KERNEL_NEAREST;
    if (aa)
        width /= scale;
    int P = (int)ceil(width) + 2;
    for (int u = 1; u <= out_len; u++) {
        double x = u / scale + 0.5 * (1 - 1 / scale);
        int left = (int)floor(x - width / 2);
        double w[512], sum = 0;
        int idx[512];
        for (int p = 0; p < P && p < 512; p++) {
            int j = left + p;
            w[p] = aa ? scale * ref_kernel(k, scale * (x - j)) : ref_kernel(k, x - j);
            sum += w[p];
            /* aux = [1:in, in:-1:1]; index = aux(mod(j-1, 2 in) + 1) */
            int m = ((j - 1) % (2 * in_len) + 2 * in_len) % (2 * in_len);
            idx[p] = m < in_len ? m : 2 * in_len - 1 - m; /* 0-based */
        }
        for (int l = 0; l < n; l++) {
            double acc = 0;
            for (int p = 0; p < P; p++)
                acc += w[p] / sum * src[(size_t)l * lstep + (size_t)idx[p] * step];
            acc = acc < 0 ? 0 : floor(acc + 0.5);
            dst[(size_t)l * olstep + (size_t)(u - 1) * ostep] = acc > 255 ? 255 : acc;
        }
    }
}

static void test_against_reference(enh_kernel k, int w0, int h0, int w1, int h1, int bands)
{
    size_t n0 = (size_t)w0 * h0 * bands;
    unsigned char *px = malloc(n0);
    unsigned s = 12345u + (unsigned)(w0 * 7 + h1);
    for (size_t i = 0; i < n0; i++) {
        s = s * 1103515245u + 12345u;
        px[i] = (unsigned char)((s >> 16) & 255); /* noise: every tap weight matters */
    }
    /* reference: MATLAB sorts the scales, so the axis with the smaller factor goes first */
    double *a = malloc(sizeof(double) * n0), *b = malloc(sizeof(double) * (size_t)w1 * h0 * bands);
    double *c = malloc(sizeof(double) * (size_t)w1 * h1 * bands), *m = malloc(sizeof(double) * (size_t)w0 * h1 * bands);
    for (size_t i = 0; i < n0; i++)
        a[i] = px[i];
    const double *ref;
    if ((double)w1 / w0 < (double)h1 / h0) { /* columns (width) first */
        for (int ch = 0; ch < bands; ch++)
            ref_axis(a + ch, w0, w1, h0, bands, w0 * bands, bands, w1 * bands, k, b + ch);
        for (int ch = 0; ch < bands; ch++)
            ref_axis(b + ch, h0, h1, w1, w1 * bands, bands, w1 * bands, bands, k, c + ch);
        ref = c;
    } else {
        for (int ch = 0; ch < bands; ch++)
            ref_axis(a + ch, h0, h1, w0, w0 * bands, bands, w0 * bands, bands, k, m + ch);
        for (int ch = 0; ch < bands; ch++)
            ref_axis(m + ch, w0, w1, h1, bands, w0 * bands, bands, w1 * bands, k, c + ch);
        ref = c;
    }
    VipsImage *in = from_u8(px, w0, h0, bands);
    unsigned char *o = resize_u8(in, w1, h1, k);
    int bad = 0, first = -1;
    for (size_t i = 0; o && i < (size_t)w1 * h1 * bands; i++)
        if (o[i] != ref[i]) {
            bad++;
            if (first < 0)
                first = (int)i;
        }
    CHECK_MSG(o && bad == 0, "%s %dx%d -> %dx%d (%d bands): %d of %d values differ from the reference (first at %d: "
              "%d vs %g)", enh_kernel_name(k), w0, h0, w1, h1, bands, bad, w1 * h1 * bands, first,
              o && first >= 0 ? o[first] : -1, first >= 0 ? ref[first] : -1.0);
    g_free(o);
    g_object_unref(in);
    free(px), free(a), free(b), free(c), free(m);
}

static void test_depth_alpha_constant(void)
{
    enh_error err = {0};
    /* 16-bit grey stays 16-bit */
    unsigned short px16[6 * 5];
    for (int i = 0; i < 30; i++)
        px16[i] = (unsigned short)(i * 2000);
    VipsImage *in = vips_image_new_from_memory_copy(px16, sizeof px16, 6, 5, 1, VIPS_FORMAT_USHORT);
    VipsImage *out = NULL;
    CHECK_MSG(enh_image_resize_kernel(in, 13, 11, ENH_KERNEL_CUBIC, &out, &err) == ENH_OK, "%s", err.msg);
    CHECK(out && vips_image_get_format(out) == VIPS_FORMAT_USHORT && vips_image_get_width(out) == 13);
    if (out)
        g_object_unref(out);
    g_object_unref(in);
    /* constant RGBA, reduced and enlarged with every MATLAB kernel: stays exactly constant */
    unsigned char rgba[9 * 7 * 4];
    for (int i = 0; i < 9 * 7; i++)
        rgba[4 * i] = 40, rgba[4 * i + 1] = 120, rgba[4 * i + 2] = 250, rgba[4 * i + 3] = 200;
    in = from_u8(rgba, 9, 7, 4);
    const enh_kernel ks[] = {ENH_KERNEL_CUBIC, ENH_KERNEL_LINEAR, ENH_KERNEL_NEAREST};
    for (int k = 0; k < 3; k++) {
        unsigned char *o = resize_u8(in, 4, 17, ks[k]);
        int bad = 0;
        for (int i = 0; o && i < 4 * 17; i++)
            bad += o[4 * i] != 40 || o[4 * i + 1] != 120 || o[4 * i + 2] != 250 || o[4 * i + 3] != 200;
        CHECK_MSG(o && bad == 0, "%s: constant RGBA changed in %d pixels", enh_kernel_name(ks[k]), bad);
        g_free(o);
    }
    g_object_unref(in);
    in = from_u8(rgba, 9, 7, 4);
    CHECK(enh_image_resize_kernel(in, 0, 7, ENH_KERNEL_CUBIC, &out, &err) == ENH_EINVAL);
    CHECK(enh_image_resize_kernel(in, 5, 7, (enh_kernel)42, &out, &err) == ENH_EINVAL);
    g_object_unref(in);
}

static enh_status parse(const char *s, enh_ops *o, enh_error *e)
{
    enh_error_clear(e);
    return enh_ops_from_json(s, strlen(s), o, e);
}

static void test_ops(void)
{
    enh_ops o;
    enh_error e;
    enh_ops_init(&o);
    CHECK(o.resample_kernel == ENH_KERNEL_LANCZOS3);
    CHECK(parse("{\"restorations\":{\"upscale\":\"resample\",\"scale\":3,\"resample_kernel\":\"bicubic\"}}", &o, &e) ==
          ENH_OK);
    CHECK(o.resample_kernel == ENH_KERNEL_CUBIC);
    CHECK(parse("{\"resizing\":{\"kernel\":\"nearest\"}}", &o, &e) == ENH_OK && o.resample_kernel == ENH_KERNEL_NEAREST);
    CHECK(parse("{\"restorations\":{\"resample_kernel\":\"linear\"},\"resizing\":{\"kernel\":\"bilinear\"}}", &o, &e) ==
          ENH_OK);
    CHECK(parse("{\"restorations\":{\"resample_kernel\":\"cubic\"},\"resizing\":{\"kernel\":\"lanczos3\"}}", &o, &e) ==
              ENH_EINVAL &&
          strstr(e.msg, "disagree"));
    CHECK(parse("{\"resizing\":{\"kernel\":\"mitchell\"}}", &o, &e) == ENH_EINVAL && strstr(e.msg, "resizing.kernel") &&
          strstr(e.msg, "mitchell"));
    CHECK(parse("{\"restorations\":{\"resample_kernel\":3}}", &o, &e) == ENH_EINVAL &&
          strstr(e.msg, "restorations.resample_kernel"));
    /* round trip */
    CHECK(parse("{\"resizing\":{\"kernel\":\"cubic\"}}", &o, &e) == ENH_OK);
    char *js = enh_ops_to_json(&o);
    enh_ops back;
    CHECK(js && strstr(js, "\"resample_kernel\":\"cubic\"") && parse(js, &back, &e) == ENH_OK &&
          back.resample_kernel == ENH_KERNEL_CUBIC);
    free(js);
    CHECK(strstr(enh_ops_schema_json(), "\"resample_kernel\"") && strstr(enh_ops_schema_json(), "\"kernel\""));
    /* the pipeline: upscale=resample x2 with cubic reports the kernel and gives the hand-computed row */
    static const unsigned char row[4] = {10, 50, 200, 30};
    VipsImage *in = from_u8(row, 4, 1, 1), *out = NULL;
    CHECK(parse("{\"restorations\":{\"upscale\":\"resample\",\"scale\":2,\"resample_kernel\":\"cubic\"}}", &o, &e) ==
          ENH_OK);
    enh_pipeline_report rep;
    if (enh_pipeline_run(in, &o, NULL, &out, &rep, &e) == ENH_OK) {
        CHECK_MSG(!strcmp(rep.model, "cubic"), "report model '%s'", rep.model);
        size_t n = 0;
        unsigned char *px = vips_image_write_to_memory(out, &n);
        /* 4x1 -> 8x2: both rows are the hand-computed row */
        CHECK_MSG(px && n == 16 && !memcmp(px, px + 8, 8) && px[0] == 6 && px[2] == 31 && px[4] == 182 && px[7] == 14, "%zu bytes %d %d %d %d",
                  n, px ? px[0] : -1, px ? px[2] : -1, px ? px[4] : -1, px ? px[7] : -1);
        g_free(px);
        g_object_unref(out);
    } else {
        CHECK_MSG(0, "pipeline: %s", e.msg);
    }
    g_object_unref(in);
}

/* Set5 HR (cropped to a multiple of s) reduced by 1/s must equal the MATLAB-made LR files. */
static void test_golden_set5(void)
{
    static const char *names[] = {"baby", "bird", "butterfly", "head", "woman"};
    char hr[1024], lr[1024];
    snprintf(hr, sizeof hr, "%s/../shared/benchdata/Set5/baby.png", ENH_SOURCE_DIR);
    if (access(hr, R_OK) != 0) {
        printf("SKIP golden Set5_LR_bicubic: %s not found\n", hr);
        return;
    }
    int files = 0;
    for (int s = 2; s <= 4; s++)
        for (int i = 0; i < 5; i++) {
            snprintf(hr, sizeof hr, "%s/../shared/benchdata/Set5/%s.png", ENH_SOURCE_DIR, names[i]);
            snprintf(lr, sizeof lr, "%s/../shared/benchdata/Set5_LR_bicubic/X%d/%sx%d.png", ENH_SOURCE_DIR, s,
                     names[i], s);
            VipsImage *h = vips_image_new_from_file(hr, "access", VIPS_ACCESS_RANDOM, NULL);
            VipsImage *l = vips_image_new_from_file(lr, "access", VIPS_ACCESS_RANDOM, NULL);
            VipsImage *c = NULL, *o = NULL;
            enh_error err = {0};
            CHECK_MSG(h && l, "cannot load %s or %s", hr, lr);
            if (!h || !l)
                goto next;
            int W = vips_image_get_width(h) / s * s, H = vips_image_get_height(h) / s * s;
            if (vips_extract_area(h, &c, 0, 0, W, H, NULL) ||
                enh_image_resize_kernel(c, W / s, H / s, ENH_KERNEL_CUBIC, &o, &err) != ENH_OK) {
                CHECK_MSG(0, "%s x%d: %s", names[i], s, err.msg);
                goto next;
            }
            size_t n1 = 0, n2 = 0;
            unsigned char *a = vips_image_write_to_memory(o, &n1), *b = vips_image_write_to_memory(l, &n2);
            int bad = 0;
            for (size_t k = 0; n1 == n2 && k < n1; k++)
                bad += a[k] != b[k];
            CHECK_MSG(n1 == n2 && bad == 0, "%s x%d: %d values differ from MATLAB (%zu vs %zu bytes)", names[i], s, bad,
                      n1, n2);
            files++;
            g_free(a), g_free(b);
        next:
            if (o)
                g_object_unref(o);
            if (c)
                g_object_unref(c);
            if (h)
                g_object_unref(h);
            if (l)
                g_object_unref(l);
        }
    printf("golden Set5_LR_bicubic: %d files compared\n", files);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 2;
    test_hand_computed();
    const enh_kernel ks[] = {ENH_KERNEL_CUBIC, ENH_KERNEL_LINEAR, ENH_KERNEL_NEAREST};
    for (int k = 0; k < 3; k++) {
        test_against_reference(ks[k], 7, 5, 17, 12, 3);  /* up, fractional factors */
        test_against_reference(ks[k], 23, 19, 9, 7, 1);  /* down (antialiased) */
        test_against_reference(ks[k], 20, 9, 6, 27, 3);  /* down x, up y: width first */
        test_against_reference(ks[k], 300, 2, 3, 5, 1);  /* strong reduction: many taps */
    }
    test_depth_alpha_constant();
    test_ops();
    test_golden_set5();
    vips_shutdown();
    CHECK_MAIN_END();
}
