/* codec.c - decode/encode from memory for the server (see codec.h). */
#include "serve/codec.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_failed;

static void init_once(void)
{
    if (VIPS_INIT("enhance")) {
        g_init_failed = 1;
        return;
    }
    vips_cache_set_max(0);
}

enh_status serve_codec_init(enh_error *err)
{
    pthread_once(&g_once, init_once);
    if (g_init_failed)
        return enh_fail(err, ENH_EINTERNAL, "libvips failed to initialise: %s", vips_error_buffer());
    return ENH_OK;
}

/* Maps a libvips loader class name to our format, or -1 when the loader is not allowed. */
static int loader_format(const char *loader, enh_format *fmt)
{
    static const struct {
        const char *key;
        enh_format f;
    } allowed[] = {{"jpeg", ENH_FORMAT_JPEG}, {"png", ENH_FORMAT_PNG},   {"webp", ENH_FORMAT_WEBP},
                   {"heif", ENH_FORMAT_AVIF}, {"tiff", ENH_FORMAT_TIFF}, {"gif", ENH_FORMAT_SAME}};
    char low[128];
    size_t i;
    for (i = 0; loader[i] && i < sizeof low - 1; i++)
        low[i] = (char)(loader[i] >= 'A' && loader[i] <= 'Z' ? loader[i] + 32 : loader[i]);
    low[i] = 0;
    for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strstr(low, allowed[i].key)) {
            *fmt = allowed[i].f; /* GIF input: there is no GIF output, SAME falls back to PNG */
            return 0;
        }
    }
    return -1;
}

static enh_status open_header(const void *buf, size_t len, long long max_pixels, VipsImage **out,
                              enh_format *fmt, enh_error *err)
{
    *out = NULL;
    if (len == 0)
        return enh_fail(err, ENH_EINVAL, "the request body is empty: send the image bytes");
    const char *loader = vips_foreign_find_load_buffer(buf, len);
    if (!loader) {
        vips_error_clear();
        return enh_fail(err, ENH_EUNSUPPORTED,
                        "the body is not an image in a supported format (JPEG, PNG, WebP, AVIF/HEIF, TIFF, GIF)");
    }
    if (loader_format(loader, fmt))
        return enh_fail(err, ENH_EUNSUPPORTED,
                        "image format of loader %s is not accepted (use JPEG, PNG, WebP, AVIF/HEIF, TIFF or GIF)",
                        loader);
    VipsImage *im = vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                               VIPS_FAIL_ON_ERROR, NULL);
    if (!im) {
        enh_status st = enh_fail(err, ENH_EINVAL, "cannot read the image header: %s", vips_error_buffer());
        vips_error_clear();
        return st;
    }
    long long px = (long long)vips_image_get_width(im) * vips_image_get_height(im);
    if (max_pixels > 0 && px > max_pixels) {
        enh_status st = enh_fail(err, ENH_ETOOBIG,
                                 "image is %dx%d = %.1f MP; the limit is %.1f MP (%lld pixels, server option "
                                 "--max-pixels)",
                                 vips_image_get_width(im), vips_image_get_height(im), px / 1e6, max_pixels / 1e6,
                                 max_pixels);
        g_object_unref(im);
        return st;
    }
    *out = im;
    return ENH_OK;
}

enh_status serve_probe(const void *buf, size_t len, long long max_pixels, enh_format *fmt, int *width,
                       int *height, enh_error *err)
{
    VipsImage *im = NULL;
    enh_status st = open_header(buf, len, max_pixels, &im, fmt, err);
    if (st)
        return st;
    *width = vips_image_get_width(im);
    *height = vips_image_get_height(im);
    g_object_unref(im);
    return ENH_OK;
}

static enh_status vips_failed(enh_error *err, enh_status code, const char *what)
{
    enh_status st = enh_fail(err, code, "%s: %s", what, vips_error_buffer());
    vips_error_clear();
    return st;
}

enh_status serve_decode(const void *buf, size_t len, long long max_pixels, VipsImage **out, enh_format *fmt,
                        enh_error *err)
{
    *out = NULL;
    VipsImage *im = NULL;
    enh_status st = open_header(buf, len, max_pixels, &im, fmt, err);
    if (st)
        return st;
    VipsImage *t = NULL;
    if (vips_autorot(im, &t, NULL)) {
        g_object_unref(im);
        return vips_failed(err, ENH_EINVAL, "cannot apply the EXIF orientation");
    }
    g_object_unref(im);
    im = t;
    /* colour: embedded profile or CMYK -> sRGB; greyscale and 16-bit are kept */
    VipsInterpretation interp = vips_image_guess_interpretation(im);
    if (interp == VIPS_INTERPRETATION_CMYK || vips_image_get_typeof(im, VIPS_META_ICC_NAME)) {
        if (!vips_icc_transform(im, &t, "srgb", "embedded", TRUE, "intent", VIPS_INTENT_PERCEPTUAL, NULL)) {
            g_object_unref(im);
            im = t;
        } else {
            vips_error_clear(); /* a broken profile: keep the pixels as they are */
        }
    }
    VipsImage *mem = vips_image_copy_memory(im);
    g_object_unref(im);
    if (!mem)
        return vips_failed(err, ENH_EINVAL, "cannot decode the image (corrupt or truncated?)");
    *out = mem;
    return ENH_OK;
}

const char *serve_format_mime(enh_format f)
{
    switch (f) {
    case ENH_FORMAT_JPEG: return "image/jpeg";
    case ENH_FORMAT_PNG: return "image/png";
    case ENH_FORMAT_WEBP: return "image/webp";
    case ENH_FORMAT_AVIF: return "image/avif";
    case ENH_FORMAT_TIFF: return "image/tiff";
    default: return "application/octet-stream";
    }
}

/* 8-bit, no alpha for JPEG (flattened on the ops background), as the format needs. */
static enh_status prepare(VipsImage *img, enh_format f, const enh_ops *ops, VipsImage **out, enh_error *err)
{
    VipsImage *cur = img, *t;
    g_object_ref(cur);
    int sixteen = vips_image_get_format(cur) == VIPS_FORMAT_USHORT;
    int want16 = (f == ENH_FORMAT_PNG || f == ENH_FORMAT_TIFF) && ops->bit_depth != 8 &&
                 (sixteen || ops->bit_depth == 16);
    if (sixteen && !want16) {
        VipsInterpretation to = vips_image_get_bands(cur) >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W;
        if (vips_colourspace(cur, &t, to, NULL))
            goto fail;
        g_object_unref(cur);
        cur = t;
    } else if (!sixteen && want16) {
        VipsInterpretation to = vips_image_get_bands(cur) >= 3 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_GREY16;
        if (vips_colourspace(cur, &t, to, NULL))
            goto fail;
        g_object_unref(cur);
        cur = t;
    }
    if (vips_image_get_format(cur) != VIPS_FORMAT_UCHAR && vips_image_get_format(cur) != VIPS_FORMAT_USHORT) {
        if (vips_cast(cur, &t, VIPS_FORMAT_UCHAR, NULL))
            goto fail;
        g_object_unref(cur);
        cur = t;
    }
    if (f == ENH_FORMAT_JPEG && vips_image_hasalpha(cur)) {
        VipsArrayDouble *bg = vips_array_double_new(ops->background, 3);
        int r = vips_flatten(cur, &t, "background", bg, NULL);
        vips_area_unref(VIPS_AREA(bg));
        if (r)
            goto fail;
        g_object_unref(cur);
        cur = t;
    }
    *out = cur;
    return ENH_OK;
fail:
    g_object_unref(cur);
    return vips_failed(err, ENH_EINTERNAL, "cannot convert the result for encoding");
}

enh_status serve_encode(VipsImage *img, const enh_ops *ops, enh_format in_fmt, void **buf, size_t *len,
                        const char **mime, enh_format *used, enh_error *err)
{
    *buf = NULL;
    *len = 0;
    enh_format f = ops->format != ENH_FORMAT_SAME ? ops->format : in_fmt;
    if (f == ENH_FORMAT_SAME)
        f = ENH_FORMAT_PNG;
    VipsImage *im = NULL;
    enh_status st = prepare(img, f, ops, &im, err);
    if (st)
        return st;
    int strip = !ops->keep_metadata;
    int q = ops->quality > 0 ? ops->quality : 0;
    int r;
    switch (f) {
    case ENH_FORMAT_JPEG:
        r = vips_jpegsave_buffer(im, buf, len, "Q", q ? q : 85, "strip", strip, "interlace", ops->progressive,
                                 NULL);
        break;
    case ENH_FORMAT_PNG: r = vips_pngsave_buffer(im, buf, len, "strip", strip, "compression", 6, NULL); break;
    case ENH_FORMAT_WEBP:
        r = vips_webpsave_buffer(im, buf, len, "Q", q ? q : 80, "lossless", ops->lossless, "strip", strip, NULL);
        break;
    case ENH_FORMAT_AVIF:
        r = vips_heifsave_buffer(im, buf, len, "Q", q ? q : 50, "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
                                 "strip", strip, NULL);
        break;
    case ENH_FORMAT_TIFF:
        r = vips_tiffsave_buffer(im, buf, len, "strip", strip, "compression", VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE,
                                 NULL);
        break;
    default: r = -1; vips_error("enhance", "unknown output format"); break;
    }
    g_object_unref(im);
    if (r)
        return vips_failed(err, ENH_EINTERNAL, "cannot encode the result");
    *mime = serve_format_mime(f);
    if (used)
        *used = f;
    return ENH_OK;
}
