/* ops.c - defaults, names and validation of enh_ops. JSON lives in ops_json.c. */
#include "enhance/ops.h"

#include <string.h>
#include <strings.h>

void enh_ops_init(enh_ops *ops)
{
    memset(ops, 0, sizeof *ops);
    ops->fit = ENH_FIT_INSIDE;
    ops->gravity = ENH_GRAVITY_CENTRE;
    ops->background[0] = ops->background[1] = ops->background[2] = 0;
    ops->background[3] = 255;
}

static const char *const g_format_names[] = {"same", "jpeg", "png", "webp", "avif", "tiff"};

const char *enh_format_name(enh_format f)
{
    if ((int)f < 0 || (size_t)f >= sizeof g_format_names / sizeof g_format_names[0])
        return "unknown";
    return g_format_names[f];
}

enh_status enh_format_from_name(const char *name, enh_format *f, enh_error *err)
{
    for (size_t i = 0; i < sizeof g_format_names / sizeof g_format_names[0]; i++) {
        if (!strcasecmp(name, g_format_names[i])) {
            *f = (enh_format)i;
            return ENH_OK;
        }
    }
    if (!strcasecmp(name, "jpg")) {
        *f = ENH_FORMAT_JPEG;
        return ENH_OK;
    }
    if (!strcasecmp(name, "tif")) {
        *f = ENH_FORMAT_TIFF;
        return ENH_OK;
    }
    return enh_fail(err, ENH_EINVAL, "unknown output format '%s' (use jpeg, png, webp, avif or tiff)", name);
}

const char *enh_upscale_kind_name(enh_upscale_kind k)
{
    switch (k) {
    case ENH_UPSCALE_NONE: return "off";
    case ENH_UPSCALE_PHOTO: return "photo";
    case ENH_UPSCALE_ART: return "art";
    case ENH_UPSCALE_QUALITY: return "quality";
    case ENH_UPSCALE_RESAMPLE: return "resample";
    }
    return "unknown";
}

static enh_status check_strength(const char *name, int v, enh_error *err)
{
    if (v == ENH_AUTO || (v >= 0 && v <= 100))
        return ENH_OK;
    return enh_fail(err, ENH_EINVAL, "%s must be \"off\", \"auto\" or 0..100, got %d", name, v);
}

static enh_status check_range(const char *name, int v, int lo, int hi, enh_error *err)
{
    if (v >= lo && v <= hi)
        return ENH_OK;
    return enh_fail(err, ENH_EINVAL, "%s must be in %d..%d, got %d", name, lo, hi, v);
}

enh_status enh_ops_validate(const enh_ops *o, enh_error *err)
{
    enh_status st;
    if ((st = check_strength("decompress", o->decompress, err)) || (st = check_strength("denoise", o->denoise, err)) ||
        (st = check_strength("deblur", o->deblur, err)) || (st = check_strength("sharpen", o->sharpen, err)))
        return st;
    if ((st = check_range("hdr", o->hdr, 0, 100, err)) || (st = check_range("exposure", o->exposure, -100, 100, err)) ||
        (st = check_range("contrast", o->contrast, -100, 100, err)) ||
        (st = check_range("saturation", o->saturation, -100, 100, err)) ||
        (st = check_range("sharpness", o->sharpness, -100, 100, err)) ||
        (st = check_range("temperature", o->temperature, -100, 100, err)) ||
        (st = check_range("tint", o->tint, -100, 100, err)) || (st = check_range("quality", o->quality, 0, 100, err)))
        return st;
    if (o->scale != 0 && (o->scale < 1.0 || o->scale > 8.0))
        return enh_fail(err, ENH_EINVAL, "upscale factor must be in 1..8, got %g", o->scale);
    if (o->resize_scale != 0 && (o->resize_scale < 0.1 || o->resize_scale > 8.0))
        return enh_fail(err, ENH_EINVAL, "scale must be in 0.1..8, got %g", o->resize_scale);
    if (o->width < 0 || o->height < 0 || o->width > 65535 || o->height > 65535)
        return enh_fail(err, ENH_EINVAL, "width and height must be in 1..65535 px");
    if (o->width_pct < 0 || o->height_pct < 0 || o->width_pct > 800 || o->height_pct > 800)
        return enh_fail(err, ENH_EINVAL, "width and height in percent must be in 1..800");
    if ((o->fit == ENH_FIT_PAD || o->fit == ENH_FIT_FILL || o->fit == ENH_FIT_COVER) &&
        (!(o->width || o->width_pct) || !(o->height || o->height_pct)))
        return enh_fail(err, ENH_EINVAL, "fit %s needs both a width and a height",
                        o->fit == ENH_FIT_PAD ? "pad" : o->fit == ENH_FIT_FILL ? "fill" : "cover");
    if (o->padding < 0 || o->padding > 4096)
        return enh_fail(err, ENH_EINVAL, "padding must be in 0..4096 px");
    if (o->bit_depth != 0 && o->bit_depth != 8 && o->bit_depth != 16)
        return enh_fail(err, ENH_EINVAL, "bit depth must be 8 or 16, got %d", o->bit_depth);
    return ENH_OK;
}
