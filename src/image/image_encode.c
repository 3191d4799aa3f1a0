/* image_encode.c - fit the image to the output format, then encode to a file or memory.
 * A file is written through a target of our own (file_sink) so that a failed write keeps its
 * errno: a full disk, a quota or an I/O error is ENH_EIO by its code, not by words in the
 * encoder's message. */
#define _GNU_SOURCE /* O_CLOEXEC */
#include "image/image_encode.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "image/image_decode.h"
#include "image/image_init.h"
#include "image/image_internal.h"

void enh_save_opts_init(enh_save_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = ENH_FORMAT_SAME;
}

enh_format enh_format_resolve(enh_format requested, const char *out_path, const char *input_format)
{
    if (requested != ENH_FORMAT_SAME)
        return requested;
    enh_format f = out_path ? enh_format_from_path(out_path) : ENH_FORMAT_SAME;
    return f != ENH_FORMAT_SAME ? f : enh_format_for_input(input_format);
}

static int set_interp(VipsImage **img, int deep)
{
    int grey = vips_image_get_bands(*img) <= 2;
    VipsInterpretation want = grey ? (deep ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W)
                                   : (deep ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB);
    VipsImage *t = NULL;
    if (vips_copy(*img, &t, "interpretation", want, NULL))
        return -1;
    enh_vips_swap(img, t);
    return 0;
}

enh_status enh_image_prepare_for_save(VipsImage *img, const enh_save_opts *o, VipsImage **out, enh_error *err)
{
    *out = NULL;
    enh_format f = o->format;
    if (!enh_format_info_of(f))
        return enh_fail(err, ENH_EINVAL, "no output format chosen (use --format jpeg|png|webp|avif|tiff)");
    if (o->bit_depth != 0 && o->bit_depth != 8 && o->bit_depth != 16)
        return enh_fail(err, ENH_EINVAL, "bit depth must be 8 or 16, got %d", o->bit_depth);
    if (o->quality < 0 || o->quality > 100)
        return enh_fail(err, ENH_EINVAL, "quality must be in 1..100, got %d", o->quality);
    int can16 = enh_format_can16(f);
    if (o->bit_depth == 16 && !can16)
        return enh_fail(err, ENH_EINVAL,
                        "%s cannot store 16-bit samples (use --format png, tiff or avif, or --bit-depth 8)",
                        enh_format_label(f));

    VipsImage *t = img, *u = NULL;
    g_object_ref(t);
    VipsBandFormat bf = vips_image_get_format(t);
    if (bf != VIPS_FORMAT_UCHAR && bf != VIPS_FORMAT_USHORT) {
        /* A stage left float or other data: treat values as the 8-bit range unless they
         * were tagged 16-bit. */
        int deep = vips_image_get_interpretation(t) == VIPS_INTERPRETATION_RGB16 ||
                   vips_image_get_interpretation(t) == VIPS_INTERPRETATION_GREY16;
        if (enh_vips_round_cast(t, &u, deep ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR))
            goto fail;
        enh_vips_swap(&t, u);
    }
    int deep = enh_image_is_16bit(t);
    int want16 = o->bit_depth == 16 || (o->bit_depth == 0 && deep && can16);
    if (want16 && !deep) {
        VipsImage *s = NULL;
        if (vips_linear1(t, &s, 257.0, 0.0, NULL))
            goto fail;
        int rc = vips_cast(s, &u, VIPS_FORMAT_USHORT, NULL);
        g_object_unref(s);
        if (rc)
            goto fail;
        enh_vips_swap(&t, u);
        if (set_interp(&t, 1))
            goto fail;
    } else if (!want16 && deep) {
        VipsImage *s = NULL;
        if (vips_linear1(t, &s, 1.0 / 257.0, 0.0, NULL))
            goto fail;
        int rc = enh_vips_round_cast(s, &u, VIPS_FORMAT_UCHAR);
        g_object_unref(s);
        if (rc)
            goto fail;
        enh_vips_swap(&t, u);
        if (set_interp(&t, 0))
            goto fail;
    }
    if (f == ENH_FORMAT_JPEG && vips_image_hasalpha(t)) {
        double white[1] = {255.0};
        VipsArrayDouble *bg = vips_array_double_new(white, 1);
        int rc = vips_flatten(t, &u, "background", bg, NULL);
        vips_area_unref(VIPS_AREA(bg));
        if (rc)
            goto fail;
        enh_vips_swap(&t, u);
        if (vips_image_get_format(t) != VIPS_FORMAT_UCHAR) {
            if (enh_vips_round_cast(t, &u, VIPS_FORMAT_UCHAR))
                goto fail;
            enh_vips_swap(&t, u);
        }
        if (set_interp(&t, 0))
            goto fail;
    }
    *out = t;
    return ENH_OK;
fail:
    g_object_unref(t);
    return enh_vips_fail(err, ENH_EINTERNAL, "cannot convert the image for %s output", enh_format_label(f));
}

typedef struct {
    const enh_save_opts *o;
    int cancelled;
} eval_ctx;

static void on_eval(VipsImage *image, VipsProgress *progress, void *user)
{
    eval_ctx *c = user;
    if (c->o->progress)
        c->o->progress(c->o->progress_user, progress->percent / 100.0);
    if (c->o->cancel && atomic_load(c->o->cancel)) {
        c->cancelled = 1;
        vips_image_set_kill(image, TRUE);
    }
}

/* Optimised Huffman tables make libjpeg buffer the whole image's coefficients (about 6 bytes
 * per pixel) for a second pass, which defeats the streamed AI upscale on big outputs
 * (measured: 4000x3000 x4 -> 1.65 GB peak with, 635 MB without). Keep them (20-33% smaller
 * files) up to this many output pixels, where the buffer costs at most ~100 MB. */
#define ENH_JPEG_OPTIMIZE_MAX_PIXELS (16u * 1000u * 1000u)

static int save_target(VipsImage *img, VipsTarget *tgt, const enh_save_opts *o)
{
    int strip = !o->keep_metadata;
    int q = o->quality ? o->quality : enh_format_default_quality(o->format);
    switch (o->format) {
    case ENH_FORMAT_JPEG:
        return vips_jpegsave_target(img, tgt, "Q", q, "interlace", o->progressive ? TRUE : FALSE, "optimize_coding",
                                    (guint64)vips_image_get_width(img) * (guint64)vips_image_get_height(img) <=
                                            ENH_JPEG_OPTIMIZE_MAX_PIXELS
                                        ? TRUE
                                        : FALSE,
                                    "strip", strip, NULL);
    case ENH_FORMAT_PNG:
        return vips_pngsave_target(img, tgt, "compression", 6, "strip", strip, NULL);
    case ENH_FORMAT_WEBP:
        return vips_webpsave_target(img, tgt, "Q", q, "lossless", o->lossless ? TRUE : FALSE, "strip", strip, NULL);
    case ENH_FORMAT_AVIF:
        return vips_heifsave_target(img, tgt, "Q", q, "lossless", o->lossless ? TRUE : FALSE, "compression",
                                    VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "bitdepth", enh_image_is_16bit(img) ? 12 : 8,
                                    "strip", strip, NULL);
    case ENH_FORMAT_TIFF:
        return vips_tiffsave_target(img, tgt, "compression", VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE, "predictor",
                                    VIPS_FOREIGN_TIFF_PREDICTOR_HORIZONTAL, "strip", strip, NULL);
    default:
        vips_error("enhance", "no output format");
        return -1;
    }
}

/* ---- a file target that keeps the errno of a failed write (VipsTargetCustom over our fd) */
typedef struct file_sink {
    int fd;
    int err; /* the first failed call's errno, 0 = none */
} file_sink;

static gint64 sink_write(VipsTargetCustom *t, const void *data, gint64 len, file_sink *s)
{
    (void)t;
    gint64 done = 0;
    while (done < len) {
        ssize_t n = write(s->fd, (const char *)data + done, (size_t)(len - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->err = s->err ? s->err : n < 0 ? errno : EIO;
            return -1;
        }
        done += n;
    }
    return len;
}

static gint64 sink_read(VipsTargetCustom *t, void *buf, gint64 len, file_sink *s)
{
    (void)t;
    ssize_t n;
    do
        n = read(s->fd, buf, (size_t)len);
    while (n < 0 && errno == EINTR);
    if (n < 0 && !s->err)
        s->err = errno;
    return n;
}

static gint64 sink_seek(VipsTargetCustom *t, gint64 offset, int whence, file_sink *s)
{
    (void)t;
    off_t r = lseek(s->fd, (off_t)offset, whence);
    if (r < 0 && !s->err)
        s->err = errno;
    return r;
}

static int sink_end(VipsTargetCustom *t, file_sink *s)
{
    (void)t;
    (void)s;
    return 0; /* the fd is closed by its owner (enh_image_save_file) */
}

static VipsTarget *sink_target(file_sink *s)
{
    VipsTargetCustom *t = vips_target_custom_new();
    if (!t)
        return NULL;
    g_signal_connect(t, "write", G_CALLBACK(sink_write), s);
    g_signal_connect(t, "read", G_CALLBACK(sink_read), s);
    g_signal_connect(t, "seek", G_CALLBACK(sink_seek), s);
    g_signal_connect(t, "end", G_CALLBACK(sink_end), s);
    return VIPS_TARGET(t);
}

enh_status enh_image_check_encodable(enh_format format, int width, int height, enh_error *err)
{
    /* The codecs' own limits (libjpeg JPEG_MAX_DIMENSION, WebP's 14-bit sizes, AV1's 16-bit
     * frame sizes); past them libvips fails mid-encode with a message that reads like a bug. */
    int limit = format == ENH_FORMAT_JPEG ? 65500 : format == ENH_FORMAT_WEBP ? 16383
                                                  : format == ENH_FORMAT_AVIF ? 65536 : 0;
    if (!limit || (width <= limit && height <= limit))
        return ENH_OK;
    return enh_fail(err, ENH_EUNSUPPORTED,
                    "the output would be %dx%d pixels, more than %s can store (at most %d pixels a side); "
                    "choose another format (e.g. --format png or tiff) or a smaller scale",
                    width, height, enh_format_label(format), limit);
}

/* Encodes into tgt with progress/cancel hooks; returns ENH_OK or a filled error. sink: the
 * file under tgt (NULL for memory): its errno makes a failed write ENH_EIO. */
static enh_status encode(VipsImage *img, VipsTarget *tgt, const file_sink *sink, const enh_save_opts *o,
                         const char *what, enh_error *err)
{
    enh_status st = enh_image_check_encodable(o->format, vips_image_get_width(img), vips_image_get_height(img), err);
    if (st)
        return st;
    VipsImage *prep = NULL;
    st = enh_image_prepare_for_save(img, o, &prep, err);
    if (st)
        return st;
    /* A private node to attach the progress signal to (never to the caller's image). */
    VipsImage *node = NULL;
    if (vips_copy(prep, &node, NULL)) {
        g_object_unref(prep);
        return enh_vips_fail(err, ENH_EINTERNAL, "cannot encode %s", what);
    }
    g_object_unref(prep);
    eval_ctx ec = {o, 0};
    if (o->progress || o->cancel) {
        vips_image_set_progress(node, TRUE);
        g_signal_connect(node, "eval", G_CALLBACK(on_eval), &ec);
    }
    if (o->cancel && atomic_load(o->cancel)) {
        g_object_unref(node);
        return enh_fail(err, ENH_ECANCELLED, "cancelled");
    }
    int rc = save_target(node, tgt, o);
    g_object_unref(node);
    if (rc) {
        if (ec.cancelled || (o->cancel && atomic_load(o->cancel))) {
            vips_error_clear();
            return enh_fail(err, ENH_ECANCELLED, "cancelled while writing %s", what);
        }
        char msg[512];
        enh_vips_take_error(msg, sizeof msg);
        if (sink && sink->err)
            return enh_fail(err, ENH_EIO, "cannot write %s as %s: %s", what, enh_format_label(o->format),
                            strerror(sink->err));
        return enh_fail(err, ENH_EINTERNAL, "cannot write %s as %s: %s", what, enh_format_label(o->format),
                        msg[0] ? msg : "encoder failed");
    }
    return ENH_OK;
}

enh_status enh_image_save_file(VipsImage *img, const char *path, const enh_save_opts *o, enh_error *err)
{
    enh_status st = enh_image_init(err);
    if (st)
        return st;
    char tmp[4096];
    if ((st = enh_tmp_path_for(path, tmp, sizeof tmp, err)))
        return st;
    file_sink sink = {open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666), 0};
    if (sink.fd < 0)
        return enh_fail(err, ENH_EIO, "cannot create %s: %s", path, strerror(errno));
    VipsTarget *tgt = sink_target(&sink);
    if (!tgt) {
        close(sink.fd);
        enh_discard_tmp(tmp);
        return enh_vips_fail(err, ENH_ENOMEM, "cannot create a target for %s", path);
    }
    st = encode(img, tgt, &sink, o, path, err);
    g_object_unref(tgt);
    if (close(sink.fd) != 0 && !st) /* e.g. NFS reports a full disk at close */
        st = enh_fail(err, ENH_EIO, "cannot write %s: %s", path, strerror(errno));
    if (st) {
        enh_discard_tmp(tmp);
        return st;
    }
    return enh_commit_tmp(tmp, path, err);
}

enh_status enh_image_save_buffer(VipsImage *img, const enh_save_opts *o, void **data, size_t *len, enh_error *err)
{
    *data = NULL;
    *len = 0;
    enh_status st = enh_image_init(err);
    if (st)
        return st;
    VipsTarget *tgt = vips_target_new_to_memory();
    if (!tgt)
        return enh_vips_fail(err, ENH_ENOMEM, "cannot create a memory target");
    st = encode(img, tgt, NULL, o, "the result", err);
    if (!st) {
        VipsBlob *blob = NULL;
        g_object_get(tgt, "blob", &blob, NULL);
        size_t n = 0;
        const void *p = blob ? vips_blob_get(blob, &n) : NULL;
        if (!p || !n) {
            st = enh_fail(err, ENH_EINTERNAL, "the encoder produced no data");
        } else {
            *data = g_malloc(n);
            memcpy(*data, p, n);
            *len = n;
        }
        if (blob)
            vips_area_unref(VIPS_AREA(blob));
    }
    g_object_unref(tgt);
    return st;
}
