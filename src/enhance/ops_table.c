/* ops_table.c - the rows of the operations table and the hooks they name (see ops_table.h).
 * Row order is the order of the canonical JSON, the schema and the help. */
#include "enhance/ops_table.h"

#include "nn/manifest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(f) offsetof(enh_ops, f)

static const enh_named g_upscale[] = {
    {"off", ENH_UPSCALE_NONE},         {"none", ENH_UPSCALE_NONE},      {"photo", ENH_UPSCALE_PHOTO},
    {"art", ENH_UPSCALE_ART},          {"anime", ENH_UPSCALE_ART},      {"quality", ENH_UPSCALE_QUALITY},
    {"resample", ENH_UPSCALE_RESAMPLE}, {"lanczos", ENH_UPSCALE_RESAMPLE}, {"true", ENH_UPSCALE_PHOTO},
    {"false", ENH_UPSCALE_NONE},       {NULL, 0}};
static const enh_named g_decompress_levels[] = {{"light", 25}, {"moderate", 50}, {"strong", 100}, {NULL, 0}};
static const enh_named g_kernel[] = {
    {"lanczos3", ENH_KERNEL_LANCZOS3}, {"lanczos", ENH_KERNEL_LANCZOS3}, {"cubic", ENH_KERNEL_CUBIC},
    {"bicubic", ENH_KERNEL_CUBIC},     {"linear", ENH_KERNEL_LINEAR},    {"bilinear", ENH_KERNEL_LINEAR},
    {"nearest", ENH_KERNEL_NEAREST},   {NULL, 0}};
static const enh_named g_fit[] = {
    {"bounds", ENH_FIT_INSIDE}, {"inside", ENH_FIT_INSIDE}, {"contain", ENH_FIT_INSIDE}, {"cover", ENH_FIT_COVER},
    {"crop", ENH_FIT_COVER},    {"fill", ENH_FIT_FILL},     {"stretch", ENH_FIT_FILL},   {"canvas", ENH_FIT_PAD},
    {"pad", ENH_FIT_PAD},       {NULL, 0}};
static const enh_named g_gravity[] = {{"centre", ENH_GRAVITY_CENTRE}, {"center", ENH_GRAVITY_CENTRE},
                                      {"smart", ENH_GRAVITY_SMART},   {"attention", ENH_GRAVITY_SMART},
                                      {NULL, 0}};
static const enh_named g_metadata[] = {{"strip", 0}, {"keep", 1}, {"true", 1}, {"false", 0}, {NULL, 0}};
static const int g_bit_depths[] = {0, 8, 16, -1};
/* "denoise": "ai" = the network at full strength (the hook also sets the method) */
static const enh_named g_ai_level[] = {{"ai", 100}, {NULL, 0}};
static const enh_named g_method[] = {{"filter", ENH_METHOD_FILTER}, {"classical", ENH_METHOD_FILTER},
                                     {"ai", ENH_METHOD_AI},         {"network", ENH_METHOD_AI},
                                     {NULL, 0}};
static const enh_named g_moderation[] = {{"off", ENH_MODERATION_OFF}, {"flag", ENH_MODERATION_FLAG},
                                         {"block", ENH_MODERATION_BLOCK}, {NULL, 0}};

/* ---- hooks ---- */

/* restorations.upscale: a number F (1..8) is the factor, with the photo upscaler unless one
 * is already chosen (`--upscale 2`, `upscale=2`, "upscale": 2); a name or a boolean chooses
 * the upscaler. */
static enh_status upscale_hook(const enh_opt *o, const enh_opt_value *v, enh_ops *ops, enh_ops_state *st,
                               enh_error *err)
{
    double d;
    char *end = NULL;
    int numeric = v->kind == ENH_VAL_NUM;
    if (v->kind == ENH_VAL_TEXT && v->str && *v->str) {
        d = strtod(v->str, &end);
        numeric = !*end && isfinite(d);
    } else {
        d = v->num;
    }
    if (!numeric) {
        enh_status s = enh_opt_set_plain(o, v, ops, err);
        if (!s)
            st->upscale_named = 1;
        return s;
    }
    enh_opt_value num = {.kind = ENH_VAL_NUM, .num = d, .path = v->path};
    if (!(d >= o->min && d <= o->max))
        return enh_opt_set_plain(o, &num, ops, err); /* refuses, with the row's message */
    ops->scale = d;
    if (ops->upscale == ENH_UPSCALE_NONE)
        ops->upscale = ENH_UPSCALE_PHOTO;
    return ENH_OK;
}

/* restorations.model: a model implies upscaling (photo) unless an upscaler was named, or the
 * model is a same-size TF.js restorer (maxim-*), which runs before any upscaling. */
static enh_status model_hook(const enh_opt *o, const enh_opt_value *v, enh_ops *ops, enh_ops_state *st,
                             enh_error *err)
{
    enh_status s = enh_opt_set_plain(o, v, ops, err);
    if (!s && ops->model[0] && !st->upscale_named && ops->upscale == ENH_UPSCALE_NONE &&
        !enh_manifest_find_tfjs(ops->model))
        ops->upscale = ENH_UPSCALE_PHOTO;
    return s;
}

/* restorations.denoise / deblur: the level "ai" also chooses the network as the method (a number
 * given later keeps the network and sets the blend). */
static enh_status ai_level_hook(const enh_opt *o, const enh_opt_value *v, enh_ops *ops, enh_ops_state *st,
                                enh_error *err)
{
    (void)st;
    enh_status s = enh_opt_set_plain(o, v, ops, err);
    int named = (v->kind == ENH_VAL_TEXT || v->kind == ENH_VAL_STR) && v->str && !strcasecmp(v->str, "ai");
    if (!s && named)
        *(o->offset == OFF(denoise) ? &ops->denoise_method : &ops->deblur_method) = ENH_METHOD_AI;
    return s;
}

/* ---- the table ---- */

/* Rows that differ only in their names and help. */
#define STRENGTH_ROW(p, key, field, fl, levels, what)                                                          \
    {.path = p, .query = key, .cli = key, .type = ENH_OPT_STRENGTH, .flags = fl, .min = 0, .max = 100,       \
     .names = levels, .def = "off", .offset = OFF(field), .metavar = "L", .help = what}
#define SIGNED_ROW(p, key, field, what)                                                                        \
    {.path = p, .query = key, .cli = key, .type = ENH_OPT_INT, .min = -100, .max = 100, .def = "0",          \
     .offset = OFF(field), .metavar = "N", .help = what}
#define BOOL_ROW(p, key, flag, field, what)                                                                    \
    {.path = p, .query = key, .cli = flag, .type = ENH_OPT_BOOL, .def = "false", .offset = OFF(field), .help = what}

const enh_opt enh_opts[] = {
    /* restorations */
    {.path = "restorations.upscale", .query = "upscale", .cli = "upscale upscaler", .type = ENH_OPT_ENUM,
     .min = 1, .max = 8, .names = g_upscale, .def = "off", .offset = OFF(upscale), .hook = upscale_hook,
     .metavar = "KIND|F",
     .help = "AI super-resolution: photo = realesrgan-x4fast, art = realesr-animevideov3, quality = "
             "realesrgan-x4plus, resample = no model (the resample kernel only); a number F means the photo "
             "upscaler (or the one named) at factor F"},
    {.path = "restorations.scale", .query = "scale upscale_scale", .cli = "upscale-scale", .type = ENH_OPT_DOUBLE,
     .flags = ENH_OPT_OMIT_ZERO, .min = 1, .max = 8, .offset = OFF(scale), .metavar = "F",
     .help = "output/input factor of the upscale (default: the model's native scale)"},
    {.path = "restorations.model", .query = "model", .cli = "model", .type = ENH_OPT_STRING,
     .max = sizeof(((enh_ops *)0)->model) - 1, .offset = OFF(model), .hook = model_hook, .metavar = "NAME",
     .help = "a specific model (see `enhance models list`): overrides the upscaler's default model, and turns "
             "upscaling on unless an upscaler is named; a same-size restorer (maxim-*) runs before any upscaling "
             "instead"},
    STRENGTH_ROW("restorations.decompress", "decompress", decompress, 0, g_decompress_levels,
                 "JPEG artifact removal (light = 25, moderate = 50, strong = 100)"),
    {.path = "restorations.denoise", .query = "denoise", .cli = "denoise", .type = ENH_OPT_STRENGTH, .min = 0,
     .max = 100, .names = g_ai_level, .def = "off", .offset = OFF(denoise), .hook = ai_level_hook, .metavar = "L",
     .help = "noise removal; auto = from the measured noise level; ai = the MAXIM denoising network (a number "
             "with denoise_method=ai blends it with the input)"},
    {.path = "restorations.deblur", .query = "deblur", .cli = "deblur", .type = ENH_OPT_STRENGTH,
     .flags = ENH_OPT_CLI_VALUE_OPTIONAL, .min = 0, .max = 100, .names = g_ai_level, .def = "off",
     .offset = OFF(deblur), .hook = ai_level_hook, .metavar = "L",
     .help = "blur compensation; auto = from the measured sharpness; ai = the MAXIM deblurring network (motion "
             "and defocus blur)"},
    STRENGTH_ROW("restorations.sharpen", "sharpen", sharpen, ENH_OPT_CLI_VALUE_OPTIONAL, NULL,
                 "unsharp mask on lightness"),
    {.path = "restorations.resample_kernel", .json_alias = "resizing.kernel", .query = "kernel resample_kernel",
     .cli = "kernel resample-kernel", .type = ENH_OPT_ENUM, .names = g_kernel, .def = "lanczos3",
     .offset = OFF(resample_kernel), .metavar = "K",
     .help = "kernel of every plain resample (resizing, upscale=resample, a model's output brought to the "
             "requested factor); cubic = MATLAB imresize bicubic, the SR papers' baseline"},
    {.path = "restorations.denoise_method", .query = "denoise_method", .cli = "denoise-method",
     .type = ENH_OPT_ENUM, .names = g_method, .def = "filter", .offset = OFF(denoise_method), .metavar = "M",
     .help = "filter = DCT thresholding; ai = maxim-denoising at the input's resolution, blended by the strength"},
    {.path = "restorations.deblur_method", .query = "deblur_method", .cli = "deblur-method", .type = ENH_OPT_ENUM,
     .names = g_method, .def = "filter", .offset = OFF(deblur_method), .metavar = "M",
     .help = "filter = unsharp mask on lightness; ai = maxim-deblurring, blended by the strength"},
    {.path = "restorations.low_light", .query = "low_light", .cli = "low-light", .type = ENH_OPT_STRENGTH,
     .flags = ENH_OPT_CLI_VALUE_OPTIONAL, .min = 0, .max = 100, .def = "off", .offset = OFF(low_light),
     .metavar = "L",
     .help = "low-light network (maxim-enhancement) blended with the input by the strength; auto = 60 when the "
             "photo is measured under-exposed"},
    /* adjustments */
    {.path = "adjustments.auto_color", .json_alias = "adjustments.auto_colour", .query = "auto_color auto_colour",
     .cli = "auto-color auto-colour", .type = ENH_OPT_BOOL, .def = "false", .offset = OFF(auto_color),
     .help = "automatic white balance (shades-of-grey in linear light)"},
    BOOL_ROW("adjustments.auto_exposure", "auto_exposure", "auto-exposure", auto_exposure,
             "fix under- and over-exposure (exposure curve and local contrast on lightness)"),
    {.path = "adjustments.hdr", .query = "hdr", .cli = "hdr", .type = ENH_OPT_INT, .min = 0, .max = 100, .def = "0",
     .offset = OFF(hdr), .metavar = "N", .help = "local tone mapping strength"},
    SIGNED_ROW("adjustments.exposure", "exposure", exposure, "exposure, -100..100 = -2..+2 EV"),
    SIGNED_ROW("adjustments.contrast", "contrast", contrast, "contrast around mid-grey"),
    SIGNED_ROW("adjustments.saturation", "saturation", saturation, "colourfulness (CIELCh chroma scale)"),
    SIGNED_ROW("adjustments.sharpness", "sharpness", sharpness, "positive sharpens, negative softens"),
    SIGNED_ROW("adjustments.white_balance.temperature", "temperature", temperature,
               "positive = warmer (more yellow), negative = cooler (more blue)"),
    SIGNED_ROW("adjustments.white_balance.tint", "tint", tint, "positive = more magenta, negative = more green"),
    /* resizing */
    {.path = "resizing.width", .query = "width", .cli = "width", .cli_short = 'w', .type = ENH_OPT_SIZE, .min = 1,
     .max = 65535, .max_pct = 800, .offset = OFF(width), .offset2 = OFF(width_pct), .metavar = "W",
     .help = "target width: pixels, or a percentage of the input such as 50%"},
    {.path = "resizing.height", .query = "height", .cli = "height", .type = ENH_OPT_SIZE, .min = 1, .max = 65535,
     .max_pct = 800, .offset = OFF(height), .offset2 = OFF(height_pct), .metavar = "H",
     .help = "target height: pixels, or a percentage of the input"},
    {.path = "resizing.scale", .query = "resize", .cli = "scale resize", .type = ENH_OPT_DOUBLE,
     .flags = ENH_OPT_OMIT_ZERO, .min = 0.1, .max = 8, .offset = OFF(resize_scale), .metavar = "F",
     .help = "plain resample by a factor (instead of a width or height)"},
    {.path = "resizing.fit", .query = "fit", .cli = "fit", .type = ENH_OPT_ENUM, .names = g_fit, .def = "bounds",
     .offset = OFF(fit), .metavar = "MODE",
     .help = "bounds = fit inside WxH; cover = fill WxH and crop; fill = stretch to WxH; canvas = fit inside, "
             "then pad with the background"},
    {.path = "resizing.gravity", .query = "gravity", .cli = "gravity", .type = ENH_OPT_ENUM, .names = g_gravity,
     .def = "centre", .offset = OFF(gravity), .metavar = "G",
     .help = "what fit=cover keeps: the centre, or smart (the most interesting part)"},
    {.path = "resizing.padding", .query = "padding", .cli = "padding", .type = ENH_OPT_INT, .min = 0, .max = 4096,
     .def = "0", .offset = OFF(padding), .metavar = "N", .help = "px of background added on every side"},
    {.path = "resizing.background", .query = "background", .cli = "background", .type = ENH_OPT_COLOUR, .min = 0,
     .max = 255, .def = "0,0,0,255", .offset = OFF(background), .metavar = "C",
     .help = "padding colour (default opaque black)"},
    /* output */
    {.path = "output.format", .query = "format", .cli = "format", .cli_short = 'f', .type = ENH_OPT_ENUM,
     .names = enh_format_names, .def = "same", .offset = OFF(format), .metavar = "F",
     .help = "output format (default: from the output name, else the input's)"},
    {.path = "output.quality", .query = "quality", .cli = "quality", .type = ENH_OPT_INT,
     .flags = ENH_OPT_OMIT_ZERO, .min = 1, .max = 100, .offset = OFF(quality), .metavar = "N",
     .help = "encoder quality (default: JPEG/WebP 90, AVIF 65)"},
    {.path = "output.metadata", .query = "metadata", .cli = "metadata", .cli_switch = "keep-metadata",
     .type = ENH_OPT_ENUM, .names = g_metadata, .def = "strip", .offset = OFF(keep_metadata), .metavar = "M",
     .help = "keep or strip EXIF/XMP/ICC (pixels are always sRGB)"},
    {.path = "output.bit_depth", .query = "bit_depth", .cli = "bit-depth", .type = ENH_OPT_INT, .min = 0, .max = 16,
     .choices = g_bit_depths, .def = "0", .offset = OFF(bit_depth), .metavar = "N",
     .help = "sample depth, 0 = as the input where the format allows (PNG/TIFF/AVIF hold 16 bits, AVIF stores 12)"},
    BOOL_ROW("output.progressive", "progressive", "progressive", progressive, "progressive JPEG"),
    BOOL_ROW("output.lossless", "lossless", "lossless", lossless, "lossless WebP/AVIF"),
    /* one-click */
    BOOL_ROW("auto", "auto", "auto", auto_mode,
             "one-click mode: assess the photo and turn on what it needs, with strengths from the measured "
             "severity; explicit settings win"),
    {.path = "moderation", .query = "moderation", .cli = "moderation", .type = ENH_OPT_ENUM,
     .flags = ENH_OPT_OMIT_ZERO, .names = g_moderation, .def = "off", .offset = OFF(moderation), .metavar = "M",
     .help = "content moderation of the input (the nsfwjs classifier and the moderation policy, see `enhance check`): "
             "flag = report the class probabilities with the result, block = refuse an input the policy blocks before "
             "any other work (the server answers 422 moderation_blocked; folder mode skips it)"},
};
const size_t enh_opts_count = sizeof enh_opts / sizeof enh_opts[0];

_Static_assert(sizeof enh_opts / sizeof enh_opts[0] <= 64, "enh_ops_state.given has 64 bits");
_Static_assert(sizeof(enh_upscale_kind) == sizeof(int) && sizeof(enh_fit) == sizeof(int) &&
                   sizeof(enh_gravity) == sizeof(int) && sizeof(enh_format) == sizeof(int) &&
                   sizeof(enh_kernel) == sizeof(int) && sizeof(enh_method) == sizeof(int) &&
                   sizeof(enh_moderation) == sizeof(int),
               "ENUM fields are written as int");

/* ---- lookup ---- */

int enh_opt_list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t l = strcspn(p, " ");
        if (l == n && !strncmp(p, name, n))
            return 1;
        p += l;
        p += strspn(p, " ");
    }
    return 0;
}


const enh_opt *enh_opt_by_path(const char *path)
{
    for (size_t i = 0; i < enh_opts_count; i++)
        if (!strcmp(enh_opts[i].path, path) || (enh_opts[i].json_alias && !strcmp(enh_opts[i].json_alias, path)))
            return &enh_opts[i];
    return NULL;
}

const enh_opt *enh_opt_by_query(const char *key)
{
    for (size_t i = 0; key && i < enh_opts_count; i++)
        if (enh_opt_list_has(enh_opts[i].query, key))
            return &enh_opts[i];
    return NULL;
}

size_t enh_opt_index(const enh_opt *o) { return (size_t)(o - enh_opts); }

/* A row's value through its hook or the plain setter; with strict_repeat, the same option given
 * twice (under two names) must agree. Here, beside the table, so ops_value.c stays a leaf. */
enh_status enh_opt_set(const enh_opt *o, const enh_opt_value *v, enh_ops *ops, enh_ops_state *st, enh_error *err)
{
    uint64_t bit = 1ull << enh_opt_index(o);
    int check = st->strict_repeat && (st->given & bit);
    enh_ops before;
    if (check)
        memcpy(&before, ops, sizeof before);
    enh_status s = o->hook ? o->hook(o, v, ops, st, err) : enh_opt_set_plain(o, v, ops, err);
    if (s)
        return s;
    if (check && memcmp(&before, ops, sizeof before))
        return enh_fail(err, ENH_EINVAL, "%s and %s disagree: they set the same option (give one of them)", o->path,
                        o->json_alias ? o->json_alias : o->path);
    st->given |= bit;
    return ENH_OK;
}


void enh_ops_query_keys(char *buf, size_t n, const char *sep)
{
    size_t len = 0;
    if (n)
        buf[0] = 0;
    for (size_t i = 0; i < enh_opts_count; i++) {
        for (const char *p = enh_opts[i].query; *p;) {
            size_t l = strcspn(p, " ");
            if (len < n)
                len += (size_t)snprintf(buf + len, n - len, "%s%.*s", len ? sep : "", (int)l, p);
            p += l;
            p += strspn(p, " ");
        }
    }
}
