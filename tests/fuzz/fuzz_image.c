/* fuzz_image.c - image decoding as uploads and batch inputs go through it:
 * enh_image_decode_buffer (the header probe, the untrusted-loader policy of image_init.h - only
 * JPEG, PNG, WebP, HEIF/AVIF, TIFF and GIF reach a loader -, the pixel cap and the decode budget,
 * then the decode into memory and the normalisation: orientation, ICC, CMYK, 16-bit). The cap
 * is 1 MP, so the budget refuses what would otherwise take the fuzzer's memory. Seeds: 16 x 12
 * images written by libvips here in each accepted format and several variants (progressive,
 * palette, interlaced, 16-bit, alpha, grey, CMYK, tiled and compressed TIFF, EXIF orientation,
 * an ICC profile, lossless WebP, AVIF when the encoder is there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/log.h"
#include "fuzz.h"
#include "image/image_decode.h"
#include "image/image_init.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    enh_error e;
    enh_error_clear(&e);
    if (enh_image_init(&e) != ENH_OK)
        fuzz_fail("libvips did not start: %s", e.msg);
    enh_image_set_threads(1);
    enh_log_set_level(ENH_LOG_ERROR); /* libvips' warnings about damaged files, once per input */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VipsImage *out = NULL;
    enh_image_info info;
    enh_error e;
    enh_error_clear(&e);
    enh_status st = enh_image_decode_buffer(data, size, 1u << 20, &out, &info, &e);
    fuzz_check_status("enh_image_decode_buffer", st, &e);
    if (st == ENH_OK) {
        fuzz_accepted++;
        if (!out)
            fuzz_fail("decode: OK without an image");
        if ((unsigned long long)out->Xsize * out->Ysize > (1u << 20) * 1ull)
            fuzz_fail("decode: %dx%d is over the pixel cap", out->Xsize, out->Ysize);
        if (out->Bands < 1 || out->Bands > 4)
            fuzz_fail("decode: %d bands", out->Bands);
        g_object_unref(out);
    } else if (out) {
        fuzz_fail("decode: an image with a failure");
    }
    vips_error_clear();
    vips_thread_shutdown(); /* the per-thread buffers of this thread, as a worker would */
    return 0;
}

/* ---- seeds */
static VipsImage *make(int bands, VipsBandFormat fmt, VipsInterpretation interp)
{
    const int w = 16, h = 12;
    size_t es = fmt == VIPS_FORMAT_USHORT ? 2 : fmt == VIPS_FORMAT_FLOAT ? 4 : 1;
    unsigned char *px = malloc((size_t)w * h * bands * es);
    for (int i = 0; i < w * h * bands; i++) {
        int x = i / bands % w, y = i / bands / w, b = i % bands;
        double v = (x * 13 + y * 17 + b * 60) % 256 / 255.0;
        if (es == 1)
            px[i] = (unsigned char)(v * 255);
        else if (es == 2)
            ((unsigned short *)px)[i] = (unsigned short)(v * 65535);
        else
            ((float *)px)[i] = (float)v;
    }
    VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)w * h * bands * es, w, h, bands, fmt);
    free(px);
    if (!im)
        return NULL;
    im->Type = interp;
    return im;
}

typedef struct {
    const char *name, *suffix;
    int bands;
    VipsBandFormat fmt;
    VipsInterpretation interp;
    int orientation; /* 0: none */
} seed_spec;

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    const VipsBandFormat U8 = VIPS_FORMAT_UCHAR, U16 = VIPS_FORMAT_USHORT;
    const VipsInterpretation SRGB = VIPS_INTERPRETATION_sRGB, BW = VIPS_INTERPRETATION_B_W;
    const seed_spec specs[] = {
        {"rgb.jpg", ".jpg[Q=75]", 3, U8, SRGB, 0},
        {"progressive-rot6.jpg", ".jpg[Q=60,interlace]", 3, U8, SRGB, 6},
        {"grey.jpg", ".jpg[Q=80]", 1, U8, BW, 0},
        {"cmyk.jpg", ".jpg[Q=80]", 4, U8, VIPS_INTERPRETATION_CMYK, 0},
        {"icc.jpg", ".jpg[Q=80,profile=srgb]", 3, U8, SRGB, 3},
        {"rgb.png", ".png", 3, U8, SRGB, 0},
        {"rgba-interlaced.png", ".png[interlace]", 4, U8, SRGB, 0},
        {"grey16.png", ".png", 1, U16, VIPS_INTERPRETATION_GREY16, 0},
        {"rgb16-alpha.png", ".png", 4, U16, VIPS_INTERPRETATION_RGB16, 8},
        {"palette.png", ".png[palette,colours=16]", 3, U8, SRGB, 0},
        {"lossy.webp", ".webp[Q=50]", 3, U8, SRGB, 0},
        {"lossless-alpha.webp", ".webp[lossless]", 4, U8, SRGB, 5},
        {"plain.tif", ".tif", 3, U8, SRGB, 0},
        {"lzw-tiled.tif", ".tif[compression=lzw,tile,tile-width=16,tile-height=16]", 3, U8, SRGB, 0},
        {"deflate16.tif", ".tif[compression=deflate,predictor=horizontal]", 3, U16, VIPS_INTERPRETATION_RGB16, 0},
        {"jpeg.tif", ".tif[compression=jpeg,Q=70]", 3, U8, SRGB, 0},
        {"float.tif", ".tif", 3, VIPS_FORMAT_FLOAT, VIPS_INTERPRETATION_scRGB, 0},
        {"bands5.tif", ".tif", 5, U8, VIPS_INTERPRETATION_MULTIBAND, 0},
        {"packbits-grey.tif", ".tif[compression=packbits]", 1, U8, BW, 0},
        {"rgb.gif", ".gif", 3, U8, SRGB, 0},
        {"alpha.gif", ".gif[dither=0]", 4, U8, SRGB, 0},
        {"small.avif", ".avif[Q=40,speed=8]", 3, U8, SRGB, 0},
        /* no HEIC seed: libx265 leaks 1168 bytes per encode (LeakSanitizer), AVIF covers libheif */
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        const seed_spec *s = &specs[i];
        VipsImage *im = make(s->bands, s->fmt, s->interp);
        if (!im)
            continue;
        if (s->orientation)
            vips_image_set_int(im, VIPS_META_ORIENTATION, s->orientation);
        void *buf = NULL;
        size_t len = 0;
        if (vips_image_write_to_buffer(im, s->suffix, &buf, &len, NULL) == 0) {
            emit(ctx, s->name, buf, len);
            g_free(buf);
        } else {
            fprintf(stderr, "fuzz_image: no seed %s (%s)\n", s->name, vips_error_buffer());
            vips_error_clear();
        }
        g_object_unref(im);
    }
}
