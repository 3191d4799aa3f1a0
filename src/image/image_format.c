/* image_format.c - the format tables (see image_format.h). */
#include "image/image_format.h"

#include <string.h>
#include <strings.h>

static const enh_format_info g_out[] = {
    {ENH_FORMAT_JPEG, "jpeg", "jpg jpeg jpe", "jpg", "image/jpeg", "JPEG", 90, 0},
    {ENH_FORMAT_PNG, "png", "png", "png", "image/png", "PNG", 0, 1},
    {ENH_FORMAT_WEBP, "webp", "webp", "webp", "image/webp", "WebP", 90, 0},
    {ENH_FORMAT_AVIF, "avif", "avif", "avif", "image/avif", "AVIF", 65, 1},
    {ENH_FORMAT_TIFF, "tiff", "tif tiff", "tif", "image/tiff", "TIFF", 0, 1},
};
#define NOUT (sizeof g_out / sizeof g_out[0])

const enh_named enh_format_names[] = {
    {"same", ENH_FORMAT_SAME}, {"jpeg", ENH_FORMAT_JPEG}, {"jpg", ENH_FORMAT_JPEG}, {"png", ENH_FORMAT_PNG},
    {"webp", ENH_FORMAT_WEBP}, {"avif", ENH_FORMAT_AVIF}, {"tiff", ENH_FORMAT_TIFF}, {"tif", ENH_FORMAT_TIFF},
    {NULL, 0},
};

/* What we read: the decoder's format name (enh_image_info.format), its file suffixes, and
 * the format an output is written in when none is asked for. */
static const struct {
    const char *name;
    const char *suffixes;
    enh_format written_as;
} g_in[] = {
    {"jpeg", "jpg jpeg jpe", ENH_FORMAT_JPEG}, {"png", "png", ENH_FORMAT_PNG},
    {"webp", "webp", ENH_FORMAT_WEBP},         {"avif", "avif", ENH_FORMAT_AVIF},
    {"heif", "heic heif", ENH_FORMAT_AVIF},    {"tiff", "tif tiff", ENH_FORMAT_TIFF},
    {"gif", "gif", ENH_FORMAT_PNG},
};

/* 1 when word (case-insensitive) is one of the space-separated words of list. */
static int in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, " ");
        if (l == n && !strncasecmp(p, word, n))
            return 1;
        p += l;
        p += strspn(p, " ");
    }
    return 0;
}

const enh_format_info *enh_format_info_of(enh_format f)
{
    for (size_t i = 0; i < NOUT; i++)
        if (g_out[i].format == f)
            return &g_out[i];
    return NULL;
}

enh_format enh_format_from_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot || !dot[1])
        return ENH_FORMAT_SAME;
    for (size_t i = 0; i < NOUT; i++)
        if (in_list(g_out[i].suffixes, dot + 1))
            return g_out[i].format;
    return ENH_FORMAT_SAME;
}

enh_format enh_format_for_input(const char *f)
{
    for (size_t i = 0; f && i < sizeof g_in / sizeof g_in[0]; i++)
        if (!strcmp(f, g_in[i].name))
            return g_in[i].written_as;
    return ENH_FORMAT_PNG;
}

int enh_format_input_suffix(const char *suffix)
{
    for (size_t i = 0; suffix && *suffix && i < sizeof g_in / sizeof g_in[0]; i++)
        if (in_list(g_in[i].suffixes, suffix))
            return 1;
    return 0;
}

const char *enh_format_extension(enh_format f)
{
    const enh_format_info *i = enh_format_info_of(f);
    return i ? i->extension : "";
}

const char *enh_format_mime(enh_format f)
{
    const enh_format_info *i = enh_format_info_of(f);
    return i ? i->mime : "application/octet-stream";
}

const char *enh_format_label(enh_format f)
{
    const enh_format_info *i = enh_format_info_of(f);
    return i ? i->label : "?";
}

int enh_format_default_quality(enh_format f)
{
    const enh_format_info *i = enh_format_info_of(f);
    return i ? i->default_quality : 0;
}

int enh_format_can16(enh_format f)
{
    const enh_format_info *i = enh_format_info_of(f);
    return i && i->can16;
}
