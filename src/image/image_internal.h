/* image_internal.h - helpers shared by the src/image implementation files (not a public API).
 * Thread-safety: the functions are reentrant; note that libvips keeps one process-wide
 * error buffer, so a message may occasionally carry text from a concurrent failure. */
#ifndef ENH_IMAGE_INTERNAL_H
#define ENH_IMAGE_INTERNAL_H

#include <vips/vips.h>

#include "core/error.h"

/* Fails with code and "<formatted context>: <libvips message>" and clears the libvips
 * error buffer. */
enh_status enh_vips_fail(enh_error *err, enh_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Takes and clears the libvips error buffer into buf (one line, trimmed). */
void enh_vips_take_error(char *buf, size_t size);

/* Maps a loader type name ("VipsForeignLoadJpegSource", ...) to our short format name
 * ("jpeg", "png", "webp", "heif", "tiff", "gif"); NULL if it is not an accepted loader. */
const char *enh_image_format_of_loader(const char *nickname);

struct enh_image_info;
/* Identifies the format of `src` (only accepted loaders), opens it header-only with
 * fail-on-error, fills *info and enforces the pixel cap. `name` is used in messages,
 * `head` holds the first bytes of the data (for naming unsupported formats), `size` is the
 * byte size. On ENH_OK *header (if non-NULL) is a lazy image the caller unrefs: reading
 * its pixels decodes the data sequentially. */
enh_status enh_image_open_source(VipsSource *src, const char *name, const unsigned char *head, size_t head_len,
                                 long long size, unsigned long long max_pixels, struct enh_image_info *info,
                                 VipsImage **header, enh_error *err);

/* Checks `path` is a readable regular file, reads its first *head_len bytes into head
 * (updating *head_len), its size into *size, and opens it as a VipsSource (caller unrefs). */
enh_status enh_image_source_for_file(const char *path, VipsSource **src, unsigned char *head, size_t *head_len,
                                     long long *size, enh_error *err);

/* Wraps an uploaded buffer (not copied: it must outlive the source) as a VipsSource (caller
 * unrefs), after starting the image module; an empty buffer is ENH_EINVAL. */
enh_status enh_image_source_for_buffer(const void *data, size_t len, VipsSource **src, enh_error *err);

/* Opens an uploaded image held in the file open as fd (a spooled request body: possibly with
 * no name, read from offset 0) as a VipsSource (caller unrefs), with its first *head_len bytes
 * and its size, after starting the image module; an empty file is ENH_EINVAL. */
enh_status enh_image_source_for_fd(int fd, VipsSource **src, unsigned char *head, size_t *head_len, long long *size,
                                   enh_error *err);

/* Rounds (float) data to the nearest integer and casts to fmt, clamping to its range;
 * libvips convention: 0 or -1 with the libvips error buffer set. */
int enh_vips_round_cast(VipsImage *in, VipsImage **out, VipsBandFormat fmt);

/* Drops `*img` and replaces it with `next` (helper for chains of libvips calls). */
static inline void enh_vips_swap(VipsImage **img, VipsImage *next)
{
    g_object_unref(*img);
    *img = next;
}

#endif
