/* image_decode.c - decode + normalise (upright, sRGB, 8/16-bit, alpha last, first page). */
#include "image/image_decode.h"

#include <string.h>

#include "core/log.h"
#include "image/image_init.h"
#include "image/image_internal.h"

int enh_image_is_16bit(const VipsImage *img)
{
    return vips_image_get_format((VipsImage *)img) == VIPS_FORMAT_USHORT;
}

static int is_grey(VipsImage *img)
{
    VipsInterpretation t = vips_image_get_interpretation(img);
    if (t == VIPS_INTERPRETATION_B_W || t == VIPS_INTERPRETATION_GREY16)
        return 1;
    return vips_image_get_bands(img) <= 2 && t != VIPS_INTERPRETATION_CMYK;
}

/* Anything that is not uchar/ushort becomes 16-bit. */
static enh_status to_int_format(VipsImage **img, enh_error *err)
{
    VipsBandFormat f = vips_image_get_format(*img);
    if (f == VIPS_FORMAT_UCHAR || f == VIPS_FORMAT_USHORT)
        return ENH_OK;
    VipsImage *t = NULL;
    VipsInterpretation target = is_grey(*img) ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_RGB16;
    if (vips_colourspace_issupported(*img) && !vips_colourspace(*img, &t, target, NULL)) {
        enh_vips_swap(img, t);
        if (vips_image_get_format(*img) == VIPS_FORMAT_USHORT)
            return ENH_OK;
    }
    vips_error_clear();
    if (vips_cast(*img, &t, VIPS_FORMAT_USHORT, NULL))
        return enh_vips_fail(err, ENH_EUNSUPPORTED, "cannot convert %s samples to 16-bit",
                             vips_enum_nick(VIPS_TYPE_BAND_FORMAT, f));
    enh_vips_swap(img, t);
    return ENH_OK;
}

static enh_status to_srgb(VipsImage **img, enh_error *err)
{
    VipsImage *t = NULL;
    VipsInterpretation interp = vips_image_get_interpretation(*img);
    int cmyk = interp == VIPS_INTERPRETATION_CMYK;
    int has_icc = vips_image_get_typeof(*img, VIPS_META_ICC_NAME) != 0;
    int grey = is_grey(*img);
    int depth = enh_image_is_16bit(*img) ? 16 : 8;

    if (cmyk || has_icc) {
        if (!vips_icc_transform(*img, &t, "srgb", "embedded", TRUE, "input_profile", cmyk ? "cmyk" : "srgb",
                                "depth", depth, NULL)) {
            enh_vips_swap(img, t);
            if (grey && !vips_colourspace(*img, &t,
                                          depth == 16 ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W, NULL))
                enh_vips_swap(img, t);
            return ENH_OK;
        }
        char msg[256];
        enh_vips_take_error(msg, sizeof msg);
        if (cmyk)
            return enh_fail(err, ENH_EINVAL, "cannot convert the CMYK image to sRGB: %s", msg);
        /* A broken embedded profile: better an image with slightly wrong colours than none. */
        ENH_LOGW("ignoring an unusable embedded ICC profile (%s)", msg);
        if (vips_copy(*img, &t, NULL))
            return enh_vips_fail(err, ENH_EINTERNAL, "cannot copy image");
        vips_image_remove(t, VIPS_META_ICC_NAME);
        enh_vips_swap(img, t);
        return ENH_OK;
    }
    switch (interp) {
    case VIPS_INTERPRETATION_LAB:
    case VIPS_INTERPRETATION_LABQ:
    case VIPS_INTERPRETATION_LABS:
    case VIPS_INTERPRETATION_LCH:
    case VIPS_INTERPRETATION_CMC:
    case VIPS_INTERPRETATION_XYZ:
    case VIPS_INTERPRETATION_YXY:
    case VIPS_INTERPRETATION_HSV:
    case VIPS_INTERPRETATION_scRGB:
        if (vips_colourspace(*img, &t, depth == 16 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB, NULL))
            return enh_vips_fail(err, ENH_EUNSUPPORTED, "cannot convert the %s image to sRGB",
                                 vips_enum_nick(VIPS_TYPE_INTERPRETATION, interp));
        enh_vips_swap(img, t);
        break;
    default:
        break;
    }
    return ENH_OK;
}

/* At most colour + alpha; interpretation consistent with bands and depth. */
static enh_status fix_layout(VipsImage **img, enh_error *err)
{
    VipsImage *t = NULL;
    int bands = vips_image_get_bands(*img);
    if (bands > 4) {
        if (vips_extract_band(*img, &t, 0, "n", 4, NULL))
            return enh_vips_fail(err, ENH_EINTERNAL, "cannot drop extra bands");
        enh_vips_swap(img, t);
        bands = 4;
    }
    int deep = enh_image_is_16bit(*img);
    VipsInterpretation want = bands <= 2 ? (deep ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W)
                                         : (deep ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB);
    if (vips_image_get_interpretation(*img) != want) {
        if (vips_copy(*img, &t, "interpretation", want, NULL))
            return enh_vips_fail(err, ENH_EINTERNAL, "cannot set the interpretation");
        enh_vips_swap(img, t);
    }
    return ENH_OK;
}

enh_status enh_image_normalize(VipsImage *in, VipsImage **out, enh_error *err)
{
    *out = NULL;
    VipsImage *img = in, *t = NULL;
    g_object_ref(img);
    enh_status st;
    if (vips_image_get_orientation(img) != 1 || vips_image_get_typeof(img, VIPS_META_ORIENTATION)) {
        if (vips_autorot(img, &t, NULL)) {
            g_object_unref(img);
            return enh_vips_fail(err, ENH_EINTERNAL, "cannot apply the EXIF orientation");
        }
        enh_vips_swap(&img, t);
    }
    if ((st = to_srgb(&img, err)) || (st = to_int_format(&img, err)) || (st = fix_layout(&img, err))) {
        g_object_unref(img);
        return st;
    }
    *out = img;
    return ENH_OK;
}

/* A failed decode is the file's fault unless libvips ran out of memory: then it is ours
 * (ENH_ENOMEM, the documented 503 out_of_memory), not "truncated or damaged". */
static enh_status decode_failed(enh_error *err, const char *name, const char *format, const char *what)
{
    char msg[512];
    enh_vips_take_error(msg, sizeof msg);
    if (strstr(msg, "out of memory") || strstr(msg, "cannot allocate") || strstr(msg, "Cannot allocate") ||
        strstr(msg, "unable to allocate") || strstr(msg, "failed to allocate"))
        return enh_fail(err, ENH_ENOMEM, "%s: out of memory while decoding the %s image (%s); try again later or "
                        "with a smaller image", name, format, msg);
    return enh_fail(err, ENH_EINVAL, "%s: %s the %s data (truncated or damaged file): %s", name, what, format,
                    msg[0] ? msg : "no detail");
}

static enh_status decode_source(VipsSource *src, const char *name, const unsigned char *head, size_t head_len,
                                long long size, unsigned long long max_pixels, VipsImage **out,
                                enh_image_info *info, enh_error *err)
{
    enh_image_info local;
    if (!info)
        info = &local;
    VipsImage *hdr = NULL;
    enh_status st = enh_image_open_source(src, name, head, head_len, size, max_pixels, info, &hdr, err);
    if (!st && (st = enh_image_check_layout(info, err))) {
        g_object_unref(hdr);
        return enh_error_prefix(err, "%s", name);
    }
    if (st)
        return st;
    VipsImage *raw = vips_image_copy_memory(hdr);
    g_object_unref(hdr);
    if (!raw)
        return decode_failed(err, name, info->format, "cannot decode");
    VipsImage *norm = NULL;
    st = enh_image_normalize(raw, &norm, err);
    if (st) {
        g_object_unref(raw);
        return enh_error_prefix(err, "%s", name);
    }
    if (norm == raw) {
        g_object_unref(raw);
        *out = norm;
        return ENH_OK;
    }
    /* Materialise the normalised pixels once so later stages read them cheaply. */
    VipsImage *mem = vips_image_copy_memory(norm);
    g_object_unref(norm);
    g_object_unref(raw);
    if (!mem)
        return decode_failed(err, name, info->format, "cannot convert");
    *out = mem;
    return ENH_OK;
}

enh_status enh_image_decode_file(const char *path, unsigned long long max_pixels, VipsImage **out,
                                 enh_image_info *info, enh_error *err)
{
    *out = NULL;
    unsigned char head[64];
    size_t head_len = sizeof head;
    long long size = 0;
    VipsSource *src = NULL;
    enh_status st = enh_image_source_for_file(path, &src, head, &head_len, &size, err);
    if (st)
        return st;
    st = decode_source(src, path, head, head_len, size, max_pixels, out, info, err);
    g_object_unref(src);
    return st;
}

enh_status enh_image_decode_buffer(const void *data, size_t len, unsigned long long max_pixels, VipsImage **out,
                                   enh_image_info *info, enh_error *err)
{
    *out = NULL;
    VipsSource *src;
    enh_status st = enh_image_source_for_buffer(data, len, &src, err);
    if (st)
        return st;
    st = decode_source(src, "image", data, len < 64 ? len : 64, (long long)len, max_pixels, out, info, err);
    g_object_unref(src);
    return st;
}

enh_status enh_image_decode_fd(int fd, unsigned long long max_pixels, VipsImage **out, enh_image_info *info,
                               enh_error *err)
{
    *out = NULL;
    unsigned char head[64];
    size_t head_len = sizeof head;
    long long size = 0;
    VipsSource *src = NULL;
    enh_status st = enh_image_source_for_fd(fd, &src, head, &head_len, &size, err);
    if (st)
        return st;
    st = decode_source(src, "image", head, head_len, size, max_pixels, out, info, err);
    g_object_unref(src);
    return st;
}
