/* image_probe.c - header-only probe: format allow-list, image facts, pixel cap. */
#include "image/image_probe.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_init.h"
#include "image/image_internal.h"

/* Names well-known formats we refuse, from their first bytes (for a helpful message). */
static const char *sniff_unsupported(const unsigned char *h, size_t n)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *name;
    } t[] = {
        {"%PDF", 4, "PDF"},
        {"<svg", 4, "SVG"},
        {"BM", 2, "BMP"},
        {"8BPS", 4, "Photoshop PSD"},
        {"SIMPLE  =", 9, "FITS"},
        {"#?RADIANCE", 10, "Radiance HDR"},
        {"#?RGBE", 6, "Radiance HDR"},
        {"\x76\x2f\x31\x01", 4, "OpenEXR"},
        {"\xff\x4f\xff\x51", 4, "JPEG 2000"},
        {"\0\0\0\x0cjP  ", 8, "JPEG 2000"},
        {"\xff\x0a", 2, "JPEG XL"},
        {"\0\0\0\x0cJXL ", 8, "JPEG XL"},
        {"\x08\xf2\xa6\xb6", 4, "libvips native"},
        {"\xb6\xa6\xf2\x08", 4, "libvips native"},
        {"\0\0\1\0", 4, "Windows ICO"},
        {"qoif", 4, "QOI"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (n >= t[i].len && !memcmp(h, t[i].magic, t[i].len))
            return t[i].name;
    if (n >= 3 && h[0] == 'P' && h[1] >= '1' && h[1] <= '7' && (h[2] == '\n' || h[2] == ' ' || h[2] == '\r'))
        return "PPM/PNM";
    if (n >= 3 && h[0] == 'P' && (h[1] == 'F' || h[1] == 'f') && (h[2] == '\n' || h[2] == ' '))
        return "PFM";
    if (n >= 5 && !memcmp(h, "<?xml", 5)) {
        for (size_t i = 5; i + 4 <= n; i++)
            if (!memcmp(h + i, "<svg", 4))
                return "SVG";
        return "XML";
    }
    return NULL;
}

static int looks_like_text(const unsigned char *h, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (h[i] < 9 || (h[i] > 13 && h[i] < 32 && h[i] != 27))
            return 0;
    return 1;
}

/* Names an accepted format from its magic bytes: a file that starts like one but that no
 * loader recognises is damaged (e.g. a TIFF cut before its first directory), not foreign. */
static const char *sniff_accepted(const unsigned char *h, size_t n)
{
    if (n >= 4 && (!memcmp(h, "II*\0", 4) || !memcmp(h, "MM\0*", 4) || !memcmp(h, "II+\0", 4) ||
                   !memcmp(h, "MM\0+", 4)))
        return "TIFF";
    if (n >= 3 && !memcmp(h, "\xff\xd8\xff", 3))
        return "JPEG";
    if (n >= 8 && !memcmp(h, "\x89PNG\r\n\x1a\n", 8))
        return "PNG";
    if (n >= 6 && (!memcmp(h, "GIF87a", 6) || !memcmp(h, "GIF89a", 6)))
        return "GIF";
    if (n >= 12 && !memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WEBP", 4))
        return "WebP";
    if (n >= 12 && !memcmp(h + 4, "ftyp", 4) && (!memcmp(h + 8, "avif", 4) || !memcmp(h + 8, "heic", 4) ||
                                                 !memcmp(h + 8, "mif1", 4) || !memcmp(h + 8, "heix", 4)))
        return "HEIF/AVIF";
    return NULL;
}

static enh_status refuse_format(const char *name, const unsigned char *head, size_t head_len, enh_error *err)
{
    const char *ours = sniff_accepted(head, head_len);
    if (ours)
        return enh_fail(err, ENH_EINVAL, "%s: the %s file is truncated or damaged (its header cannot be read)", name,
                        ours);
    const char *kind = sniff_unsupported(head, head_len);
    if (kind)
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: unsupported format %s (accepted formats: %s)", name, kind,
                        enh_image_accepted_formats());
    return enh_fail(err, ENH_EUNSUPPORTED, "%s: unsupported format: %s (accepted formats: %s)", name,
                    looks_like_text(head, head_len) ? "the file contains text, not an image"
                                                     : "the content is not a recognised image",
                    enh_image_accepted_formats());
}

enh_status enh_image_open_source(VipsSource *src, const char *name, const unsigned char *head, size_t head_len,
                                 long long size, unsigned long long max_pixels, enh_image_info *info,
                                 VipsImage **header, enh_error *err)
{
    if (header)
        *header = NULL;
    memset(info, 0, sizeof *info);
    if (size == 0)
        return enh_fail(err, ENH_EINVAL, "%s: the file is empty (0 bytes), not an image", name);

    const char *loader = vips_foreign_find_load_source(src);
    if (!loader) {
        vips_error_clear();
        return refuse_format(name, head, head_len, err);
    }
    const char *fmt = enh_image_format_of_loader(loader);
    if (!fmt)
        return refuse_format(name, head, head_len, err);

    VipsImage *img = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                                VIPS_FAIL_ON_ERROR, NULL);
    if (!img) {
        /* libtiff's complex (and other unknown) sample formats: a layout we do not process,
         * not damage (a complex TIFF that libvips itself wrote fails here) */
        if (strstr(vips_error_buffer(), "samples out of range")) {
            vips_error_clear();
            snprintf(info->format, sizeof info->format, "%s", fmt);
            return enh_fail(err, ENH_EUNSUPPORTED,
                            "%s: the %s's samples are of a kind that cannot be processed (complex numbers or an "
                            "unknown sample format). Accepted: 1-4 bands of 8- or 16-bit integers, or 3-4 bands of "
                            "floats (RGB(A)); convert it first, e.g. take the magnitude, scaled to 8 bits: vips abs "
                            "in.tif t.v && vips scale t.v out.png",
                            name, fmt);
        }
        return enh_vips_fail(err, ENH_EINVAL, "%s: cannot read the %s header (damaged file?)", name, fmt);
    }

    info->width = vips_image_get_width(img);
    info->height = vips_image_get_height(img);
    info->bands = vips_image_get_bands(img);
    int bps = 0;
    if (vips_image_get_typeof(img, "bits-per-sample") && !vips_image_get_int(img, "bits-per-sample", &bps) &&
        bps > 0)
        info->bit_depth = bps;
    else
        info->bit_depth = (int)vips_format_sizeof(vips_image_get_format(img)) * 8;
    const char *sample_nick = vips_enum_nick(VIPS_TYPE_BAND_FORMAT, vips_image_get_format(img));
    snprintf(info->sample, sizeof info->sample, "%s", sample_nick ? sample_nick : "?");
    info->orientation = vips_image_get_orientation(img);
    if (info->orientation < 1 || info->orientation > 8)
        info->orientation = 1;
    info->has_icc = vips_image_get_typeof(img, VIPS_META_ICC_NAME) != 0;
    info->has_alpha = vips_image_hasalpha(img);
    info->pages = vips_image_get_n_pages(img);
    if (info->pages < 1)
        info->pages = 1;
    const char *interp = vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_get_interpretation(img));
    snprintf(info->colourspace, sizeof info->colourspace, "%s", interp ? interp : "unknown");
    info->file_size = size;
    snprintf(info->format, sizeof info->format, "%s", fmt);
    if (!strcmp(fmt, "heif")) {
        const char *comp = NULL;
        if (vips_image_get_typeof(img, "heif-compression") && !vips_image_get_string(img, "heif-compression", &comp) &&
            comp && !strcasecmp(comp, "av1"))
            snprintf(info->format, sizeof info->format, "avif");
    }

    unsigned long long px = (unsigned long long)info->width * (unsigned long long)info->height;
    if (max_pixels && px > max_pixels) {
        g_object_unref(img);
        return enh_fail(err, ENH_ETOOBIG,
                        "%s: image is %dx%d = %.1f megapixels, more than the limit of %.1f megapixels "
                        "(raise it with --max-pixels %llu if you trust this file)",
                        name, info->width, info->height, (double)px / 1e6, (double)max_pixels / 1e6, px);
    }
    /* Bands and sample size multiply the pixel cost: a 0.8 MB TIFF of 2000x2000 x 200 bands
     * decoded to 997 MB under a 50 MP cap. The decode budget is what the pixel cap admits
     * for its largest ordinary image (4 bands of 16 bits), checked before any pixel exists. */
    unsigned long long sample = (unsigned long long)vips_format_sizeof(vips_image_get_format(img));
    unsigned long long need = px * (unsigned long long)(info->bands > 0 ? info->bands : 1) * (sample ? sample : 1);
    if (max_pixels && max_pixels <= ULLONG_MAX / ENH_IMAGE_DECODE_BYTES_PER_PIXEL &&
        need > max_pixels * ENH_IMAGE_DECODE_BYTES_PER_PIXEL) {
        /* a layout nothing processes (200 bands) is refused as such: raising the cap the
         * message below suggests would only lead to that refusal */
        enh_status lst = enh_image_check_layout(info, err);
        if (lst) {
            g_object_unref(img);
            return enh_error_prefix(err, "%s", name);
        }
        const char *fmt_name = vips_enum_nick(VIPS_TYPE_BAND_FORMAT, vips_image_get_format(img));
        g_object_unref(img);
        unsigned long long raise = (need + ENH_IMAGE_DECODE_BYTES_PER_PIXEL - 1) / ENH_IMAGE_DECODE_BYTES_PER_PIXEL;
        return enh_fail(err, ENH_ETOOBIG,
                        "%s: decoding this %dx%d image of %d bands of %s samples needs %.0f MB, more than the "
                        "%.0f MB allowed by the limit of %.1f megapixels (%d bytes a pixel: 4 bands of 16 bits); "
                        "convert it to 8-bit RGB(A), or raise the limit with --max-pixels %llu if you trust this file",
                        name, info->width, info->height, info->bands, fmt_name ? fmt_name : "?", (double)need / 1e6,
                        (double)(max_pixels * ENH_IMAGE_DECODE_BYTES_PER_PIXEL) / 1e6, (double)max_pixels / 1e6,
                        ENH_IMAGE_DECODE_BYTES_PER_PIXEL, raise);
    }
    if (header)
        *header = img;
    else
        g_object_unref(img);
    return ENH_OK;
}

enh_status enh_image_check_layout(const enh_image_info *info, enh_error *err)
{
    const char *s = info->sample;
    int integer = !strcmp(s, "uchar") || !strcmp(s, "char") || !strcmp(s, "ushort") || !strcmp(s, "short");
    int flt = !strcmp(s, "float") || !strcmp(s, "double");
    int cmyk = !strcmp(info->colourspace, "cmyk");
    const char *why = NULL, *fix = NULL;
    if (!integer && !flt) {
        int cx = !strcmp(s, "complex") || !strcmp(s, "dpcomplex");
        why = cx ? "complex samples" : "32-bit integer samples";
        fix = cx ? "take the magnitude, scaled to 8 bits: vips abs in.tif t.v && vips scale t.v out.png"
                 : "scale it to 8 bits: vips scale in.tif out.png";
    } else if (info->bands < 1 || info->bands > (cmyk ? 5 : 4)) {
        why = "more bands than grey, RGB or CMYK with alpha";
        fix = "keep the colour bands: vips extract_band in.tif out.tif 0 --n 3";
    } else if (flt && info->bands < 3) {
        why = "float grey samples (a data plane such as depth, whose range is not a photo's)";
        fix = "scale it to 8 bits: vips scale in.tif out.png";
    }
    if (!why)
        return ENH_OK;
    char fmt[8];
    size_t i = 0;
    for (; info->format[i] && i + 1 < sizeof fmt; i++)
        fmt[i] = (char)toupper((unsigned char)info->format[i]);
    fmt[i] = 0;
    return enh_fail(err, ENH_EUNSUPPORTED,
                    "this %s holds %d band%s of %s samples (%s), which cannot be processed: %s. Accepted: 1-4 bands "
                    "(grey, grey + alpha, RGB, RGBA) of 8- or 16-bit integers, or 3-4 bands of floats (RGB(A)); "
                    "convert it first, e.g. %s",
                    fmt, info->bands, info->bands == 1 ? "" : "s", s, info->colourspace, why, fix);
}

static enh_status stat_input(const char *path, long long *size, enh_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return enh_fail(err, errno == ENOENT ? ENH_ENOTFOUND : ENH_EIO, "%s: %s", path,
                        errno == ENOENT ? "no such file" : strerror(errno));
    if (S_ISDIR(st.st_mode))
        return enh_fail(err, ENH_EINVAL, "%s is a directory, not an image", path);
    if (!S_ISREG(st.st_mode))
        return enh_fail(err, ENH_EINVAL, "%s is not a regular file", path);
    *size = (long long)st.st_size;
    return ENH_OK;
}

enh_status enh_image_source_for_file(const char *path, VipsSource **src, unsigned char *head, size_t *head_len,
                                     long long *size, enh_error *err)
{
    *src = NULL;
    enh_status st = enh_image_init(err);
    if (st)
        return st;
    if ((st = stat_input(path, size, err)))
        return st;
    FILE *f = fopen(path, "rb");
    if (!f)
        return enh_fail(err, ENH_EIO, "cannot open %s: %s", path, strerror(errno));
    *head_len = fread(head, 1, *head_len, f);
    fclose(f);
    *src = vips_source_new_from_file(path);
    if (!*src)
        return enh_vips_fail(err, ENH_EIO, "cannot open %s", path);
    return ENH_OK;
}

enh_status enh_image_source_for_buffer(const void *data, size_t len, VipsSource **src, enh_error *err)
{
    *src = NULL;
    enh_status st = enh_image_init(err);
    if (st)
        return st;
    if (!data || !len)
        return enh_fail(err, ENH_EINVAL, "the upload is empty (0 bytes), not an image");
    *src = vips_source_new_from_memory(data, len);
    if (!*src)
        return enh_vips_fail(err, ENH_EINTERNAL, "cannot wrap the buffer");
    return ENH_OK;
}

enh_status enh_image_source_for_fd(int fd, VipsSource **src, unsigned char *head, size_t *head_len, long long *size,
                                   enh_error *err)
{
    *src = NULL;
    enh_status st = enh_image_init(err);
    if (st)
        return st;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return enh_fail(err, ENH_EIO, "the spooled upload cannot be read: %s", strerror(errno));
    *size = (long long)sb.st_size;
    if (!sb.st_size)
        return enh_fail(err, ENH_EINVAL, "the upload is empty (0 bytes), not an image");
    ssize_t n = pread(fd, head, *head_len, 0);
    *head_len = n > 0 ? (size_t)n : 0;
    /* the source reads through a duplicate of fd, which shares its offset */
    if (lseek(fd, 0, SEEK_SET) != 0)
        return enh_fail(err, ENH_EIO, "the spooled upload cannot be read: %s", strerror(errno));
    *src = vips_source_new_from_descriptor(fd);
    if (!*src)
        return enh_vips_fail(err, ENH_EIO, "cannot read the spooled upload");
    return ENH_OK;
}

enh_status enh_image_probe_fd(int fd, unsigned long long max_pixels, enh_image_info *info, enh_error *err)
{
    unsigned char head[64];
    size_t head_len = sizeof head;
    long long size = 0;
    VipsSource *src = NULL;
    memset(info, 0, sizeof *info);
    enh_status st = enh_image_source_for_fd(fd, &src, head, &head_len, &size, err);
    if (st)
        return st;
    st = enh_image_open_source(src, "image", head, head_len, size, max_pixels, info, NULL, err);
    g_object_unref(src);
    return st;
}

enh_status enh_image_probe_file(const char *path, unsigned long long max_pixels, enh_image_info *info,
                                enh_error *err)
{
    unsigned char head[64];
    size_t head_len = sizeof head;
    long long size = 0;
    VipsSource *src = NULL;
    memset(info, 0, sizeof *info);
    enh_status st = enh_image_source_for_file(path, &src, head, &head_len, &size, err);
    if (st)
        return st;
    st = enh_image_open_source(src, path, head, head_len, size, max_pixels, info, NULL, err);
    g_object_unref(src);
    return st;
}

enh_status enh_image_probe_buffer(const void *data, size_t len, unsigned long long max_pixels,
                                  enh_image_info *info, enh_error *err)
{
    memset(info, 0, sizeof *info);
    VipsSource *src;
    enh_status st = enh_image_source_for_buffer(data, len, &src, err);
    if (st)
        return st;
    st = enh_image_open_source(src, "image", data, len < 64 ? len : 64, (long long)len, max_pixels, info, NULL,
                               err);
    g_object_unref(src);
    return st;
}

void enh_image_info_upright_size(const enh_image_info *info, int *width, int *height)
{
    int swap = info->orientation >= 5 && info->orientation <= 8;
    *width = swap ? info->height : info->width;
    *height = swap ? info->width : info->height;
}
