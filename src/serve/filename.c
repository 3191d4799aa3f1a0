/* filename.c - download names of results (see filename.h). */
#include "serve/filename.h"

#include <stdio.h>
#include <string.h>

static const char *ext_of(const char *mime)
{
    static const struct {
        const char *mime, *ext;
    } t[] = {{"image/jpeg", "jpg"}, {"image/png", "png"},  {"image/webp", "webp"}, {"image/avif", "avif"},
             {"image/heif", "heic"}, {"image/tiff", "tif"}, {"image/gif", "gif"}};
    for (size_t i = 0; mime && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(mime, t[i].mime))
            return t[i].ext;
    return "bin";
}

static const char *purpose_word(const enh_ops *o)
{
    switch (o->upscale) {
    case ENH_UPSCALE_PHOTO: return "photo";
    case ENH_UPSCALE_ART: return "art";
    case ENH_UPSCALE_QUALITY: return "quality";
    case ENH_UPSCALE_RESAMPLE: return "resample";
    default: return NULL;
    }
}

void serve_result_filename(const char *original, const enh_ops *ops, double scale, const char *mime, char *out,
                           size_t n)
{
    char stem[72] = "";
    size_t k = 0;
    const char *base = original ? strrchr(original, '/') : NULL;
    base = base ? base + 1 : original;
    if (base) {
        const char *bs = strrchr(base, '\\');
        if (bs)
            base = bs + 1;
        const char *dot = strrchr(base, '.');
        size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        for (size_t i = 0; i < len && k < 64; i++) {
            char c = base[i];
            int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '_' || c == '.';
            stem[k++] = ok ? c : '_';
        }
    }
    stem[k] = 0;
    if (!k || stem[0] == '.')
        snprintf(stem, sizeof stem, "image");
    char what[96] = "";
    size_t w = 0;
    const char *p = purpose_word(ops);
    if (p && scale > 0)
        w += (size_t)snprintf(what + w, sizeof what - w, "_x%g_%s", scale, p);
    if (ops->model[0] && !strncmp(ops->model, "maxim-", 6) && w < sizeof what)
        w += (size_t)snprintf(what + w, sizeof what - w, "_%s", ops->model + 6);
    if (ops->auto_mode && w < sizeof what)
        w += (size_t)snprintf(what + w, sizeof what - w, "_auto");
    if (!w)
        snprintf(what, sizeof what, "_enhanced");
    snprintf(out, n, "%s%s.%s", stem, what, ext_of(mime));
}

void serve_content_disposition(const char *kind, const char *filename, char *out, size_t n)
{
    /* the name only holds [A-Za-z0-9._-] (serve_result_filename), so no quoting is needed */
    snprintf(out, n, "%s; filename=\"%s\"", kind, filename);
}
