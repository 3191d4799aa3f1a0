/* image_util.c - libvips error text and loader names for the src/image module. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "image/image_internal.h"

void enh_vips_take_error(char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = '\0';
    char *msg = vips_error_buffer_copy();
    if (!msg)
        return;
    /* libvips messages are "domain: text\n" lines; keep them on one line. */
    size_t o = 0;
    for (const char *p = msg; *p && o + 1 < size; p++) {
        char c = *p;
        if (c == '\n') {
            if (!p[1])
                break;
            if (o + 2 >= size)
                break;
            buf[o++] = ';';
            c = ' ';
        }
        buf[o++] = c;
    }
    buf[o] = '\0';
    g_free(msg);
}

enh_status enh_vips_fail(enh_error *err, enh_status code, const char *fmt, ...)
{
    char ctx[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    char vmsg[512];
    enh_vips_take_error(vmsg, sizeof vmsg);
    if (vmsg[0])
        return enh_fail(err, code, "%s: %s", ctx, vmsg);
    return enh_fail(err, code, "%s", ctx);
}

const char *enh_image_format_of_loader(const char *name)
{
    /* vips_foreign_find_load*() return type names such as "VipsForeignLoadJpegSource". */
    static const struct {
        const char *prefix, *name;
    } map[] = {{"VipsForeignLoadJpeg", "jpeg"}, {"VipsForeignLoadPng", "png"},   {"VipsForeignLoadWebp", "webp"},
               {"VipsForeignLoadHeif", "heif"}, {"VipsForeignLoadTiff", "tiff"}, {"VipsForeignLoadNsgif", "gif"}};
    static const char *const variants[] = {"", "File", "Buffer", "Source"};
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t n = strlen(map[i].prefix);
        if (strncmp(name, map[i].prefix, n))
            continue;
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++)
            if (!strcmp(name + n, variants[v]))
                return map[i].name;
    }
    return NULL;
}

int enh_vips_round_cast(VipsImage *in, VipsImage **out, VipsBandFormat fmt)
{
    VipsImage *r = NULL;
    if (vips_round(in, &r, VIPS_OPERATION_ROUND_RINT, NULL))
        return -1;
    int rc = vips_cast(r, out, fmt, NULL);
    g_object_unref(r);
    return rc;
}
