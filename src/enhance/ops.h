/* ops.h - the operations model: one description of "what to do to a photo", shared by
 * the CLI (flags), the HTTP API (JSON) and the pipeline.
 *
 * JSON shape (see enh_ops_schema_json):
 *   {"restorations": {"upscale", "scale", "model", "decompress", "denoise", "deblur", "sharpen",
 *                     "resample_kernel", "denoise_method", "deblur_method", "low_light"},
 *    "adjustments":  {"auto_color", "auto_exposure", "hdr", "exposure", "contrast",
 *                     "saturation", "sharpness", "white_balance": {"temperature", "tint"}},
 *    "resizing":     {"width", "height", "fit", "gravity", "padding", "background", "kernel"},
 *    "output":       {"format", "quality", "metadata", "bit_depth", "progressive", "lossless"},
 *    "auto": bool, "moderation": "off"|"flag"|"block"}
 * Every option is one row of the operations table (ops_table.h), which the JSON, query and
 * CLI parsers, the writer, the schema and the help all loop over.
 * Unknown keys are an error that names the key (ENH_EINVAL); values out of range are
 * ENH_EINVAL with the allowed range. enh_ops is a plain value (no pointers): copy freely.
 */
#ifndef ENH_ENHANCE_OPS_H
#define ENH_ENHANCE_OPS_H

#include <stddef.h>
#include "core/error.h"
#include "image/image_format.h"
#include "image/resample_kernel.h"

/* Strength fields: ENH_OFF (0), ENH_AUTO (-1) or 1..100. */
#define ENH_OFF 0
#define ENH_AUTO (-1)

typedef enum {
    ENH_UPSCALE_NONE = 0,  /* no upscaling stage */
    ENH_UPSCALE_PHOTO,     /* realesrgan-x4fast */
    ENH_UPSCALE_ART,       /* realesr-animevideov3 */
    ENH_UPSCALE_QUALITY,   /* realesrgan-x4plus */
    ENH_UPSCALE_RESAMPLE   /* lanczos only */
} enh_upscale_kind;

typedef enum {
    ENH_FIT_INSIDE = 0, /* "inside" / "bounds": fit within WxH, keep aspect */
    ENH_FIT_COVER,      /* "cover" / "crop": fill WxH, keep aspect, crop the excess */
    ENH_FIT_FILL,       /* "fill": exactly WxH, aspect not kept */
    ENH_FIT_PAD         /* "pad" / "canvas": fit inside, then pad to WxH with background */
} enh_fit;

typedef enum { ENH_GRAVITY_CENTRE = 0, ENH_GRAVITY_SMART } enh_gravity;

/* How a restoration with a network is done: the classical filter, or the network (MAXIM,
 * run at the input's resolution before any upscaling) blended with its input by the strength. */
typedef enum { ENH_METHOD_FILTER = 0, ENH_METHOD_AI } enh_method;

/* Moderation of an enhance request (enhance/check.h): off; flag = classify the input and report
 * the class probabilities with the result; block = refuse, before any other work, an input the
 * moderation policy blocks. The server and folder mode act on it; the pipeline ignores it. */
typedef enum { ENH_MODERATION_OFF = 0, ENH_MODERATION_FLAG, ENH_MODERATION_BLOCK } enh_moderation;

typedef struct enh_ops {
    /* restorations */
    enh_upscale_kind upscale;
    double scale;          /* output/input factor for upscaling, 0 = model's native scale */
    char model[64];        /* explicit model name (overrides upscale kind's default), "" = none */
    int decompress;        /* JPEG artifact removal: off/auto/1..100 (moderate=50, strong=100) */
    int denoise;
    int deblur;
    int sharpen;
    enh_method denoise_method; /* "denoise": "ai" sets AI and strength 100; a strength blends */
    enh_method deblur_method;
    int low_light;         /* low-light network: off/auto/1..100 (strength = blend with the input) */
    /* adjustments */
    int auto_color;        /* bool */
    int auto_exposure;     /* bool */
    int hdr;               /* 0..100 */
    int exposure, contrast, saturation, sharpness, temperature, tint; /* -100..100 */
    /* resizing (applied last, after upscaling) */
    int width, height;     /* px; 0 = unset */
    double width_pct, height_pct; /* percent of the input size; 0 = unset */
    double resize_scale;   /* plain resample factor (0.1..8), 0 = unset */
    enh_fit fit;
    enh_gravity gravity;
    int padding;           /* px of background around the result (canvas) */
    double background[4];  /* RGBA 0..255 */
    /* output */
    enh_format format;
    int quality;           /* 1..100, 0 = encoder default */
    int keep_metadata;     /* bool */
    int bit_depth;         /* 0 = as input, 8 or 16 */
    int progressive;       /* JPEG */
    int lossless;          /* WebP */
    /* one-click */
    int auto_mode;         /* run assessment, enable what the photo needs */
    /* kernel of every plain resample in the pipeline (upscale=resample, the model's output brought
     * to the requested scale, resizing); JSON restorations.resample_kernel (alias resizing.kernel) */
    enh_kernel resample_kernel; /* ENH_KERNEL_LANCZOS3 (default) | CUBIC (MATLAB bicubic) | LINEAR | NEAREST */
    enh_moderation moderation;  /* JSON "moderation": off (default, left out of the canonical JSON) | flag | block */
} enh_ops;

void enh_ops_init(enh_ops *ops);

/* Parses the JSON object into *ops (starting from enh_ops_init defaults). */
enh_status enh_ops_from_json(const char *json, size_t len, enh_ops *ops, enh_error *err);
/* Checks cross-field consistency (e.g. fit=pad needs width and height). */
enh_status enh_ops_validate(const enh_ops *ops, enh_error *err);
/* Canonical JSON of ops; malloc'd string, caller frees. NULL on OOM. */
char *enh_ops_to_json(const enh_ops *ops);
/* JSON Schema of the operations document, made from the operations table (static string). */
const char *enh_ops_schema_json(void);
/* Every option as the GET /v1/ops document: {"options": [{path, group, query, cli, type,
 * allowed, summary, help, json_alias?, cli_switch?, values?, choices?, minimum?, maximum?,
 * default?}]}; malloc'd, NULL on OOM. */
char *enh_ops_describe_json(void);

const char *enh_format_name(enh_format f);

#endif
