/* codec.c - decode/encode from memory for the server, on the image module (src/image):
 * allow-listed loaders, header probe with the pixel cap, normalising decode (EXIF
 * orientation, ICC -> sRGB, alpha and 16-bit kept), encode to memory (see codec.h). */
#include "serve/codec.h"

#include "enhance/pipeline.h"
#include "image/image_decode.h"
#include "image/image_encode.h"
#include "image/image_init.h"
#include "image/image_probe.h"

enh_status serve_codec_init(enh_error *err) { return enh_image_init(err); }

/* After a probe: the layout check, then the input's format (also on failure when the probe
 * named one, for the error answer) and its upright size. */
static enh_status probed(enh_status st, const enh_image_info *info, enh_format *fmt, int *width, int *height,
                         enh_error *err)
{
    if (!st && (st = enh_image_check_layout(info, err)))
        enh_error_prefix(err, "image");
    *fmt = info->format[0] ? enh_format_for_input(info->format) : ENH_FORMAT_SAME;
    if (st)
        return st;
    *fmt = enh_format_for_input(info->format);
    enh_image_info_upright_size(info, width, height);
    return ENH_OK;
}

enh_status serve_probe(const void *buf, size_t len, long long max_pixels, enh_format *fmt, int *width,
                       int *height, enh_error *err)
{
    enh_image_info info;
    enh_status st = enh_image_probe_buffer(buf, len, max_pixels > 0 ? (unsigned long long)max_pixels : 0, &info, err);
    return probed(st, &info, fmt, width, height, err);
}

enh_status serve_decode(const void *buf, size_t len, long long max_pixels, VipsImage **out, enh_format *fmt,
                        enh_error *err)
{
    enh_image_info info;
    enh_status st =
        enh_image_decode_buffer(buf, len, max_pixels > 0 ? (unsigned long long)max_pixels : 0, out, &info, err);
    if (st)
        return st;
    *fmt = enh_format_for_input(info.format);
    return ENH_OK;
}

enh_status serve_probe_fd(int fd, long long max_pixels, enh_format *fmt, int *width, int *height, enh_error *err)
{
    enh_image_info info;
    enh_status st = enh_image_probe_fd(fd, max_pixels > 0 ? (unsigned long long)max_pixels : 0, &info, err);
    return probed(st, &info, fmt, width, height, err);
}

enh_status serve_decode_fd(int fd, long long max_pixels, VipsImage **out, enh_format *fmt, enh_error *err)
{
    enh_image_info info;
    enh_status st = enh_image_decode_fd(fd, max_pixels > 0 ? (unsigned long long)max_pixels : 0, out, &info, err);
    if (st)
        return st;
    *fmt = enh_format_for_input(info.format);
    return ENH_OK;
}

enh_status serve_encode(VipsImage *img, const enh_ops *ops, enh_format in_fmt, void **buf, size_t *len,
                        const char **mime, enh_format *used, enh_error *err)
{
    return serve_encode_cancellable(img, ops, in_fmt, NULL, buf, len, mime, used, err);
}

enh_status serve_encode_cancellable(VipsImage *img, const enh_ops *ops, enh_format in_fmt, atomic_int *cancel,
                                    void **buf, size_t *len, const char **mime, enh_format *used, enh_error *err)
{
    enh_save_opts o;
    enh_save_opts_init(&o);
    enh_save_opts_from_ops(&o, ops);
    o.cancel = cancel;
    if (o.format == ENH_FORMAT_SAME)
        o.format = in_fmt != ENH_FORMAT_SAME ? in_fmt : ENH_FORMAT_PNG;
    enh_status st = enh_image_save_buffer(img, &o, buf, len, err);
    if (st)
        return st;
    *mime = enh_format_mime(o.format);
    if (used)
        *used = o.format;
    return ENH_OK;
}
