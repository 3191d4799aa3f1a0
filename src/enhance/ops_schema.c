/* ops_schema.c - JSON Schema (draft 2020-12) of the operations document parsed by
 * enh_ops_from_json (ops_json.c). Keep the two in step: tests/enhance/test_ops_json.c
 * checks that every property named here is accepted by the parser. Constant data,
 * thread-safe. */
#include "enhance/ops.h"

#define STRENGTH(desc)                                                                                  \
    "{\"description\":\"" desc "\",\"default\":\"off\",\"oneOf\":["                                  \
    "{\"type\":\"string\",\"enum\":[\"off\",\"auto\"]},{\"type\":\"boolean\"},"                   \
    "{\"type\":\"number\",\"minimum\":0,\"maximum\":100}]}"
#define SIGNED(desc) "{\"description\":\"" desc "\",\"type\":\"integer\",\"minimum\":-100,\"maximum\":100,\"default\":0}"
#define KERNEL(desc)                                                                                    \
    "{\"description\":\"" desc ": lanczos3 (sharp), cubic (MATLAB imresize bicubic, the SR papers' "           \
    "baseline), linear, nearest\",\"type\":\"string\",\"enum\":[\"lanczos3\",\"cubic\",\"linear\","          \
    "\"nearest\",\"lanczos\",\"bicubic\",\"bilinear\"],\"default\":\"lanczos3\"}"
#define SIZE(desc)                                                                                      \
    "{\"description\":\"" desc "\",\"oneOf\":[{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535},"  \
    "{\"type\":\"string\",\"pattern\":\"^[0-9]+(\\\\.[0-9]+)?(%|px)$\"}]}"

static const char g_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"$id\":\"https://enhance.local/schemas/ops.json\","
    "\"title\":\"enhance operations\","
    "\"description\":\"What to do to a photo. Stages run in order: restorations, upscale, adjustments, resizing, "
    "output. Unknown keys are rejected.\","
    "\"type\":\"object\",\"additionalProperties\":false,"
    "\"properties\":{"
    "\"$schema\":{\"type\":\"string\"},"
    "\"auto\":{\"type\":\"boolean\",\"default\":false,\"description\":\"One-click mode: assess the photo and turn on "
    "exactly the restorations and adjustments it needs, with strengths from the measured severity. Explicit "
    "settings win over automatic ones.\"},"
    "\"restorations\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"upscale\":{\"description\":\"AI super-resolution: photo = realesrgan-x4fast, art = realesr-animevideov3, "
    "quality = realesrgan-x4plus, resample = no model, resample_kernel only (lanczos3 by default)\",\"type\":\"string\","
    "\"enum\":[\"off\",\"photo\",\"art\",\"quality\",\"resample\"],\"default\":\"off\"},"
    "\"scale\":{\"description\":\"output/input factor of the upscale (default: the model's native scale)\","
    "\"type\":\"number\",\"minimum\":1,\"maximum\":8},"
    "\"model\":{\"description\":\"explicit model name, overrides the upscale kind's default\",\"type\":\"string\","
    "\"maxLength\":63},"
    "\"decompress\":{\"description\":\"JPEG artifact removal (moderate = 50, strong = 100)\",\"default\":\"off\","
    "\"oneOf\":[{\"type\":\"string\",\"enum\":[\"off\",\"auto\",\"moderate\",\"strong\"]},{\"type\":\"boolean\"},"
    "{\"type\":\"number\",\"minimum\":0,\"maximum\":100}]},"
    "\"denoise\":" STRENGTH("noise removal; auto = from the measured noise level") ","
    "\"deblur\":" STRENGTH("blur compensation; auto = from the measured sharpness") ","
    "\"sharpen\":" STRENGTH("unsharp mask on lightness") ","
    "\"resample_kernel\":" KERNEL("kernel of every plain resample: upscale=resample, a model's output brought to "
    "the requested scale, and resizing") "}},"
    "\"adjustments\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"auto_color\":{\"type\":\"boolean\",\"default\":false,\"description\":\"automatic white balance "
    "(shades-of-grey in linear light)\"},"
    "\"auto_exposure\":{\"type\":\"boolean\",\"default\":false,\"description\":\"fix under- and over-exposure "
    "(exposure curve + local contrast on lightness)\"},"
    "\"hdr\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100,\"default\":0,\"description\":\"local tone "
    "mapping strength\"},"
    "\"exposure\":" SIGNED("exposure, -100..100 = -2..+2 EV") ","
    "\"contrast\":" SIGNED("contrast around mid-grey") ","
    "\"saturation\":" SIGNED("colourfulness (CIELCh chroma scale)") ","
    "\"sharpness\":" SIGNED("positive sharpens, negative softens") ","
    "\"white_balance\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"temperature\":" SIGNED("positive = warmer (more yellow), negative = cooler (more blue)") ","
    "\"tint\":" SIGNED("positive = more magenta, negative = more green") "}}}},"
    "\"resizing\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"width\":" SIZE("target width: pixels or percent of the input, e.g. \\\"50%\\\"") ","
    "\"height\":" SIZE("target height: pixels or percent of the input") ","
    "\"scale\":{\"type\":\"number\",\"minimum\":0.1,\"maximum\":8,\"description\":\"plain resample factor\"},"
    "\"fit\":{\"type\":\"string\",\"enum\":[\"bounds\",\"inside\",\"contain\",\"cover\",\"crop\",\"fill\",\"canvas\","
    "\"pad\"],\"default\":\"bounds\",\"description\":\"bounds = fit inside WxH; cover/crop = fill WxH and crop; "
    "fill = stretch; canvas/pad = fit inside then pad with the background\"},"
    "\"gravity\":{\"type\":\"string\",\"enum\":[\"centre\",\"center\",\"smart\"],\"default\":\"centre\","
    "\"description\":\"where to crop for fit=cover: centre, or smart (libvips smartcrop)\"},"
    "\"padding\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4096,\"default\":0},"
    "\"background\":{\"description\":\"padding colour\",\"oneOf\":[{\"type\":\"string\","
    "\"pattern\":\"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$\"},{\"type\":\"array\",\"minItems\":3,"
    "\"maxItems\":4,\"items\":{\"type\":\"number\",\"minimum\":0,\"maximum\":255}}]},"
    "\"kernel\":" KERNEL("alias of restorations.resample_kernel (the same setting)") "}},"
    "\"output\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"format\":{\"type\":\"string\",\"enum\":[\"same\",\"jpeg\",\"jpg\",\"png\",\"webp\",\"avif\",\"tiff\",\"tif\"],"
    "\"default\":\"same\"},"
    "\"quality\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
    "\"metadata\":{\"oneOf\":[{\"type\":\"string\",\"enum\":[\"keep\",\"strip\"]},{\"type\":\"boolean\"}],"
    "\"default\":\"strip\"},"
    "\"bit_depth\":{\"type\":\"integer\",\"enum\":[0,8,16],\"default\":0,\"description\":\"0 = as the input\"},"
    "\"progressive\":{\"type\":\"boolean\",\"default\":false},"
    "\"lossless\":{\"type\":\"boolean\",\"default\":false}}}}}";

const char *enh_ops_schema_json(void) { return g_schema; }
