/* cli_enhance_opts.c - `enhance INPUT -o OUTPUT [options]`: flags -> cli_settings/enh_ops. */
#include "cli/cli_enhance_opts.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_args.h"
#include "core/fsutil.h"
#include "image/image_probe.h"
#include "nn/precision.h"

enum {
    O_OUTPUT = 1, O_RECURSIVE, O_FORCE, O_QUIET, O_HELP,
    O_SCALE, O_WIDTH, O_HEIGHT, O_FIT, O_GRAVITY, O_PADDING, O_BACKGROUND,
    O_FORMAT, O_QUALITY, O_KEEP_METADATA, O_BIT_DEPTH, O_PROGRESSIVE, O_LOSSLESS,
    O_THREADS, O_MAX_PIXELS, O_MEMORY_LIMIT,
    O_UPSCALE, O_MODEL, O_UPSCALER,
    O_AUTO, O_EXPLAIN, O_DECOMPRESS, O_DENOISE, O_DEBLUR, O_SHARPEN, O_AUTO_COLOR, O_AUTO_EXPOSURE,
    O_HDR, O_EXPOSURE, O_CONTRAST, O_SATURATION, O_SHARPNESS, O_TEMPERATURE, O_TINT, O_OPS_JSON,
    O_PRECISION, O_KERNEL
};

static const cli_opt g_opts[] = {
    {"output", 'o', CLI_ARG_REQUIRED, O_OUTPUT},
    {"recursive", 'r', CLI_ARG_NONE, O_RECURSIVE},
    {"force", 0, CLI_ARG_NONE, O_FORCE},
    {"quiet", 'q', CLI_ARG_NONE, O_QUIET},
    {"help", 'h', CLI_ARG_NONE, O_HELP},
    {"scale", 0, CLI_ARG_REQUIRED, O_SCALE},
    {"width", 'w', CLI_ARG_REQUIRED, O_WIDTH},
    {"height", 0, CLI_ARG_REQUIRED, O_HEIGHT},
    {"fit", 0, CLI_ARG_REQUIRED, O_FIT},
    {"gravity", 0, CLI_ARG_REQUIRED, O_GRAVITY},
    {"kernel", 0, CLI_ARG_REQUIRED, O_KERNEL},
    {"padding", 0, CLI_ARG_REQUIRED, O_PADDING},
    {"background", 0, CLI_ARG_REQUIRED, O_BACKGROUND},
    {"format", 'f', CLI_ARG_REQUIRED, O_FORMAT},
    {"quality", 0, CLI_ARG_REQUIRED, O_QUALITY},
    {"keep-metadata", 0, CLI_ARG_NONE, O_KEEP_METADATA},
    {"bit-depth", 0, CLI_ARG_REQUIRED, O_BIT_DEPTH},
    {"progressive", 0, CLI_ARG_NONE, O_PROGRESSIVE},
    {"lossless", 0, CLI_ARG_NONE, O_LOSSLESS},
    {"threads", 'j', CLI_ARG_REQUIRED, O_THREADS},
    {"max-pixels", 0, CLI_ARG_REQUIRED, O_MAX_PIXELS},
    {"memory-limit", 0, CLI_ARG_REQUIRED, O_MEMORY_LIMIT},
    {"upscale", 0, CLI_ARG_REQUIRED, O_UPSCALE},
    {"model", 0, CLI_ARG_REQUIRED, O_MODEL},
    {"upscaler", 0, CLI_ARG_REQUIRED, O_UPSCALER},
    {"auto", 0, CLI_ARG_NONE, O_AUTO},
    {"explain", 0, CLI_ARG_NONE, O_EXPLAIN},
    {"decompress", 0, CLI_ARG_REQUIRED, O_DECOMPRESS},
    {"denoise", 0, CLI_ARG_REQUIRED, O_DENOISE},
    {"deblur", 0, CLI_ARG_OPTIONAL, O_DEBLUR},
    {"sharpen", 0, CLI_ARG_OPTIONAL, O_SHARPEN},
    {"auto-color", 0, CLI_ARG_NONE, O_AUTO_COLOR},
    {"auto-colour", 0, CLI_ARG_NONE, O_AUTO_COLOR},
    {"auto-exposure", 0, CLI_ARG_NONE, O_AUTO_EXPOSURE},
    {"hdr", 0, CLI_ARG_REQUIRED, O_HDR},
    {"exposure", 0, CLI_ARG_REQUIRED, O_EXPOSURE},
    {"contrast", 0, CLI_ARG_REQUIRED, O_CONTRAST},
    {"saturation", 0, CLI_ARG_REQUIRED, O_SATURATION},
    {"sharpness", 0, CLI_ARG_REQUIRED, O_SHARPNESS},
    {"temperature", 0, CLI_ARG_REQUIRED, O_TEMPERATURE},
    {"tint", 0, CLI_ARG_REQUIRED, O_TINT},
    {"ops-json", 0, CLI_ARG_REQUIRED, O_OPS_JSON},
    {"precision", 0, CLI_ARG_REQUIRED, O_PRECISION},
    {NULL, 0, 0, 0},
};

void cli_enhance_help(FILE *f)
{
    fprintf(f,
"usage: enhance INPUT -o OUTPUT [options]\n"
"       enhance DIR -o OUTDIR [-r] [options]\n"
"\n"
"Enhances one photo (JPEG, PNG, WebP, AVIF/HEIF, TIFF, GIF first frame), or every image in\n"
"a folder. EXIF orientation and ICC colour profiles are applied, alpha and 16-bit depth kept.\n"
"The output is written atomically: never a half-written file.\n"
"\n"
"Output:\n"
"  -o, --output PATH      output file, or output folder (folder mode, or an existing folder)\n"
"  -f, --format F         jpeg|png|webp|avif|tiff (default: from the output name, else the input's)\n"
"      --quality N        1..100 (default: JPEG/WebP 90, AVIF 65)\n"
"      --progressive      progressive JPEG\n"
"      --lossless         lossless WebP/AVIF\n"
"      --bit-depth 8|16   sample depth (default: as the input where the format allows; PNG/TIFF/AVIF can\n"
"                         hold 16 bits, AVIF stores 12)\n"
"      --keep-metadata    keep EXIF/XMP/ICC (default: stripped; pixels are always sRGB)\n"
"\n"
"AI upscaling and restoration:\n"
"      --upscale F        upscale by F (1..8) with the AI upscaler (default model: photo);\n"
"                         or --upscale KIND for that upscaler at its native scale\n"
"      --upscaler KIND    photo|art|quality|resample (resample = no model, --kernel only)\n"
"      --model NAME       a specific model (see `enhance models list`)\n"
"      --auto             assess the photo and apply what it needs (--explain prints why)\n"
"      --explain          print what auto mode measured and decided\n"
"      --decompress L     JPEG artifact removal: off|auto|moderate|strong|0..100\n"
"      --denoise L        off|auto|0..100\n"
"      --deblur[=L]       deblur (default auto; L = off|auto|0..100)\n"
"      --sharpen[=L]      sharpen (default auto; L = off|auto|0..100)\n"
"\n"
"Adjustments:\n"
"      --auto-color       automatic white balance and colour\n"
"      --auto-exposure    automatic exposure\n"
"      --hdr N            local tone mapping 0..100\n"
"      --exposure N       -100..100      --contrast N     -100..100\n"
"      --saturation N     -100..100      --sharpness N    -100..100\n"
"      --temperature N    -100..100      --tint N         -100..100\n"
"      --ops-json J       operations as JSON (a file, or the text itself if it starts with '{');\n"
"                         flags given as well override it (schema: `enhance ops --schema`)\n"
"\n"
"Resizing (applied after upscaling):\n"
"      --scale F          resample by F (0.1..8)\n"
"      --kernel K         lanczos3 (default) | cubic | linear | nearest: the kernel of every plain\n"
"                         resample (resizing, --upscaler resample, a model's output brought to F);\n"
"                         cubic = MATLAB imresize bicubic, the SR papers' baseline\n"
"  -w, --width W          width in px, or N%% of the input\n"
"      --height H         height in px, or N%% of the input\n"
"      --fit MODE         inside (bounds) | cover (crop) | fill | pad (canvas); default inside\n"
"      --gravity G        centre|smart: what cover keeps (smart = the most interesting part)\n"
"      --padding N        add N px of background on every side\n"
"      --background C     '#rrggbb[aa]', 'r,g,b[,a]', white, black, transparent (default black)\n"
"\n"
"Resources:\n"
"  -j, --threads N        worker threads (default: all cores, or ENHANCE_THREADS)\n"
"      --max-pixels N     refuse inputs above N pixels before decoding (default 50M; e.g. 100M,\n"
"                         12000x9000, 0 = no limit)\n"
"      --memory-limit S   working memory for the AI stages, e.g. 512M, 2G\n"
"      --precision P      fp32 (default, or ENHANCE_PRECISION) | bf16: faster AI models on CPUs with\n"
"                         AVX512_BF16 (measured >= 49 dB PSNR from the fp32 output on photos)\n"
"\n"
"Folders:\n"
"  -r, --recursive        include subfolders (relative paths are kept under OUTDIR)\n"
"      --force            redo outputs that are already complete\n"
"  Finished outputs are skipped when rerun with the same options (so an interrupted run\n"
"  resumes); changed options or a newer input redo them. Bad files are reported and skipped.\n"
"\n"
"  -q, --quiet            no progress or summary (errors only)\n"
"  -h, --help             this help\n"
"\n"
"Exit codes: 0 ok, 1 bad input or usage (or any file failed in folder mode), 2 internal\n"
"error, 130 interrupted.\n"
"\n"
"Examples:\n"
"  enhance photo.jpg -o big.png --upscale 4\n"
"  enhance photo.jpg -o thumb.webp --width 400 --height 400 --fit cover --gravity smart\n"
"  enhance shots/ -o out/ -r --auto --format jpeg --quality 85\n");
}

static int set_strength(const char *opt, const char *v, const char *const *names, const int *vals, int *field,
                        char *msg, size_t n)
{
    return cli_parse_strength(opt, v, names, vals, field, msg, n) ? 1 : 0;
}

static int apply_ops_json(const char *v, enh_ops *ops, char *msg, size_t n)
{
    char *data = NULL;
    size_t len = 0;
    enh_error err = {0};
    const char *p = v;
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p == '{') {
        data = strdup(v);
        len = strlen(v);
    } else if (enh_read_file(v, 1 << 20, &data, &len, &err) != ENH_OK) {
        snprintf(msg, n, "--ops-json: %s (give a JSON file or the JSON text itself)", err.msg);
        return 1;
    }
    if (!data) {
        snprintf(msg, n, "out of memory");
        return 1;
    }
    enh_status st = enh_ops_from_json(data, len, ops, &err);
    free(data);
    if (st) {
        snprintf(msg, n, "--ops-json: %s", err.msg);
        return 1;
    }
    return 0;
}

/* Applies one flag; returns 0 ok, 1 usage error. */
static int apply(cli_enhance_args *a, int id, const char *opt, const char *v, int *upscale_factor_given,
                 int *upscaler_given, char *msg, size_t n)
{
    cli_settings *s = &a->s;
    enh_ops *o = &s->ops;
    long l = 0;
    double d = 0;
    static const char *const dec_names[] = {"moderate", "strong", "light", NULL};
    static const int dec_vals[] = {50, 100, 25};
    switch (id) {
    case O_OUTPUT: a->output = v; return 0;
    case O_RECURSIVE: s->recursive = 1; return 0;
    case O_FORCE: s->force = 1; return 0;
    case O_QUIET: s->quiet = 1; return 0;
    case O_HELP: a->help = 1; return 0;
    case O_SCALE:
        if (cli_parse_double(opt, v, 0.1, 8, &d, msg, n))
            return 1;
        o->resize_scale = d;
        return 0;
    case O_KERNEL: {
        enh_error kerr = {0};
        if (enh_kernel_from_name(v, &o->resample_kernel, &kerr)) {
            snprintf(msg, n, "--kernel: %s", kerr.msg);
            return 1;
        }
        return 0;
    }
    case O_WIDTH:
        return cli_parse_dimension(opt, v, &o->width, &o->width_pct, msg, n) ? 1 : 0;
    case O_HEIGHT:
        return cli_parse_dimension(opt, v, &o->height, &o->height_pct, msg, n) ? 1 : 0;
    case O_FIT:
        if (!strcasecmp(v, "inside") || !strcasecmp(v, "bounds") || !strcasecmp(v, "contain"))
            o->fit = ENH_FIT_INSIDE;
        else if (!strcasecmp(v, "cover") || !strcasecmp(v, "crop"))
            o->fit = ENH_FIT_COVER;
        else if (!strcasecmp(v, "fill") || !strcasecmp(v, "stretch"))
            o->fit = ENH_FIT_FILL;
        else if (!strcasecmp(v, "pad") || !strcasecmp(v, "canvas"))
            o->fit = ENH_FIT_PAD;
        else {
            snprintf(msg, n, "--fit must be inside (bounds), cover (crop), fill or pad (canvas), got '%s'", v);
            return 1;
        }
        return 0;
    case O_GRAVITY:
        if (!strcasecmp(v, "centre") || !strcasecmp(v, "center"))
            o->gravity = ENH_GRAVITY_CENTRE;
        else if (!strcasecmp(v, "smart") || !strcasecmp(v, "attention"))
            o->gravity = ENH_GRAVITY_SMART;
        else {
            snprintf(msg, n, "--gravity must be centre or smart, got '%s'", v);
            return 1;
        }
        return 0;
    case O_PADDING:
        if (cli_parse_int(opt, v, 0, 4096, &l, msg, n))
            return 1;
        o->padding = (int)l;
        return 0;
    case O_BACKGROUND:
        return cli_parse_colour(opt, v, o->background, msg, n) ? 1 : 0;
    case O_FORMAT: {
        enh_error err = {0};
        if (enh_format_from_name(v, &o->format, &err) != ENH_OK || o->format == ENH_FORMAT_SAME) {
            snprintf(msg, n, "--format must be jpeg, png, webp, avif or tiff, got '%s'", v);
            return 1;
        }
        a->format_given = 1;
        return 0;
    }
    case O_QUALITY:
        if (cli_parse_int(opt, v, 1, 100, &l, msg, n))
            return 1;
        o->quality = (int)l;
        return 0;
    case O_KEEP_METADATA: o->keep_metadata = 1; return 0;
    case O_BIT_DEPTH:
        if (cli_parse_int(opt, v, 8, 16, &l, msg, n) || (l != 8 && l != 16)) {
            snprintf(msg, n, "--bit-depth must be 8 or 16, got '%s'", v);
            return 1;
        }
        o->bit_depth = (int)l;
        return 0;
    case O_PROGRESSIVE: o->progressive = 1; return 0;
    case O_LOSSLESS: o->lossless = 1; return 0;
    case O_THREADS:
        if (cli_parse_int(opt, v, 1, 1024, &l, msg, n))
            return 1;
        s->threads = (int)l;
        return 0;
    case O_MAX_PIXELS:
        return cli_parse_pixels(opt, v, &s->max_pixels, msg, n) ? 1 : 0;
    case O_PRECISION: {
        enh_precision p;
        enh_error err = {0};
        if (enh_precision_parse(v, &p) != 0 || p == ENH_PRECISION_DEFAULT) {
            snprintf(msg, n, "--precision must be fp32 or bf16, got '%s'", v);
            return 1;
        }
        if (enh_precision_resolve(p, &p, &err) != ENH_OK) {
            snprintf(msg, n, "--precision: %s", err.msg);
            return 1;
        }
        s->nn.precision = p;
        return 0;
    }
    case O_MEMORY_LIMIT:
        if (cli_parse_size(opt, v, &s->memory_limit, msg, n))
            return 1;
        if (s->memory_limit < (16u << 20)) {
            snprintf(msg, n, "--memory-limit must be at least 16M, got '%s'", v);
            return 1;
        }
        return 0;
    case O_UPSCALE:
        if (!strcasecmp(v, "off")) {
            o->upscale = ENH_UPSCALE_NONE;
            o->scale = 0;
            *upscale_factor_given = 0;
            return 0;
        }
        if (!strcasecmp(v, "photo") || !strcasecmp(v, "art") || !strcasecmp(v, "anime") ||
            !strcasecmp(v, "quality") || !strcasecmp(v, "resample") || !strcasecmp(v, "lanczos")) {
            /* --upscale KIND: that upscaler at its model's native scale */
            o->scale = 0;
            *upscale_factor_given = 1;
            return apply(a, O_UPSCALER, "--upscale", v, upscale_factor_given, upscaler_given, msg, n);
        }
        if (cli_parse_double(opt, v, 1, 8, &d, msg, n)) {
            snprintf(msg, n, "--upscale must be a factor in 1..8 (or photo, art, quality, resample), got '%s'", v);
            return 1;
        }
        o->scale = d;
        *upscale_factor_given = 1;
        return 0;
    case O_MODEL:
        if (strlen(v) >= sizeof o->model || !*v) {
            snprintf(msg, n, "--model name must be 1..%zu characters", sizeof o->model - 1);
            return 1;
        }
        snprintf(o->model, sizeof o->model, "%s", v);
        return 0;
    case O_UPSCALER:
        if (!strcasecmp(v, "photo"))
            o->upscale = ENH_UPSCALE_PHOTO;
        else if (!strcasecmp(v, "art") || !strcasecmp(v, "anime"))
            o->upscale = ENH_UPSCALE_ART;
        else if (!strcasecmp(v, "quality"))
            o->upscale = ENH_UPSCALE_QUALITY;
        else if (!strcasecmp(v, "resample") || !strcasecmp(v, "lanczos"))
            o->upscale = ENH_UPSCALE_RESAMPLE;
        else {
            snprintf(msg, n, "--upscaler must be photo, art, quality or resample, got '%s'", v);
            return 1;
        }
        *upscaler_given = 1;
        return 0;
    case O_AUTO: o->auto_mode = 1; return 0;
    case O_EXPLAIN: s->explain = 1; return 0;
    case O_DECOMPRESS: return set_strength(opt, v, dec_names, dec_vals, &o->decompress, msg, n);
    case O_DENOISE: return set_strength(opt, v, NULL, NULL, &o->denoise, msg, n);
    case O_DEBLUR:
        if (!v) {
            o->deblur = ENH_AUTO;
            return 0;
        }
        return set_strength(opt, v, NULL, NULL, &o->deblur, msg, n);
    case O_SHARPEN:
        if (!v) {
            o->sharpen = ENH_AUTO;
            return 0;
        }
        return set_strength(opt, v, NULL, NULL, &o->sharpen, msg, n);
    case O_AUTO_COLOR: o->auto_color = 1; return 0;
    case O_AUTO_EXPOSURE: o->auto_exposure = 1; return 0;
    case O_HDR:
        if (cli_parse_int(opt, v, 0, 100, &l, msg, n))
            return 1;
        o->hdr = (int)l;
        return 0;
    case O_EXPOSURE:
    case O_CONTRAST:
    case O_SATURATION:
    case O_SHARPNESS:
    case O_TEMPERATURE:
    case O_TINT: {
        if (cli_parse_int(opt, v, -100, 100, &l, msg, n))
            return 1;
        int *f = id == O_EXPOSURE ? &o->exposure : id == O_CONTRAST ? &o->contrast : id == O_SATURATION ? &o->saturation
               : id == O_SHARPNESS ? &o->sharpness : id == O_TEMPERATURE ? &o->temperature : &o->tint;
        *f = (int)l;
        return 0;
    }
    default:
        snprintf(msg, n, "internal: unhandled option %s", opt);
        return 1;
    }
}

static const char *opt_name(int id)
{
    for (const cli_opt *o = g_opts; o->name; o++)
        if (o->id == id)
            return o->name;
    return "?";
}

int cli_enhance_parse(int argc, char **argv, cli_enhance_args *a, char *msg, size_t n)
{
    memset(a, 0, sizeof *a);
    enh_ops_init(&a->s.ops);
    a->s.nn = *enh_nn_options_default();
    a->s.max_pixels = ENH_IMAGE_DEFAULT_MAX_PIXELS;

    /* pass 1: --ops-json is the base the other flags override */
    cli_parser p;
    const char *v = NULL;
    int id;
    cli_parser_init(&p, argc, argv, g_opts);
    while ((id = cli_next(&p, &v, msg, n)) != CLI_END) {
        if (id == CLI_ERROR)
            return 1;
        if (id == O_HELP) {
            a->help = 1;
            return 0;
        }
        if (id == O_OPS_JSON && apply_ops_json(v, &a->s.ops, msg, n))
            return 1;
    }

    int upscale_factor_given = 0, upscaler_given = 0, model_given = 0, dims_given = 0;
    cli_parser_init(&p, argc, argv, g_opts);
    while ((id = cli_next(&p, &v, msg, n)) != CLI_END) {
        if (id == CLI_POSITIONAL) {
            if (!a->input) {
                a->input = v;
                continue;
            }
            snprintf(msg, n, "unexpected argument '%s' (one INPUT, and the output goes after -o)", v);
            return 1;
        }
        if (id == O_OPS_JSON)
            continue;
        char optname[64];
        snprintf(optname, sizeof optname, "--%s", opt_name(id));
        if (apply(a, id, optname, v, &upscale_factor_given, &upscaler_given, msg, n))
            return 1;
        if (id == O_MODEL)
            model_given = 1;
        if (id == O_WIDTH || id == O_HEIGHT)
            dims_given = 1;
    }
    enh_ops *o = &a->s.ops;
    /* --upscale F alone means the default AI upscaler; --model implies upscaling */
    if ((upscale_factor_given || model_given) && !upscaler_given && o->upscale == ENH_UPSCALE_NONE)
        o->upscale = ENH_UPSCALE_PHOTO;
    if (!a->input) {
        snprintf(msg, n, "missing INPUT (usage: enhance INPUT -o OUTPUT [options]; see --help)");
        return 1;
    }
    if (!a->output) {
        snprintf(msg, n, "missing -o OUTPUT (where to write the result; see --help)");
        return 1;
    }
    if (o->resize_scale > 0 && dims_given) {
        snprintf(msg, n, "--scale cannot be combined with --width/--height (use one way of sizing)");
        return 1;
    }
    enh_error err = {0};
    if (enh_ops_validate(o, &err) != ENH_OK) {
        snprintf(msg, n, "%s", err.msg);
        return 1;
    }
    return 0;
}
