/* moderate.c - the nsfwjs classifiers (moderate.h) on our runtime: the manifest model loaded by
 * the TF.js layers loader (nn/keras_load.h) into the NCHW graph, nsfwjs's preprocessing
 * reproduced to the bit, the network, then the softmax the IR does not have.
 *
 * Preprocessing (nsfwjs NSFWJS.infer() on tfjs-backend-wasm, peer README "Preprocessing"):
 * RGB bytes as float32 v / 255.0f, then resizeBilinear to S x S with alignCorners = true
 * (XNNPACK, TENSORFLOW_LEGACY_MODE) in float32 without fused multiply-adds, skipped when the
 * image is already S x S. The whole image is squashed to a square (no crop). The pixels the
 * harness gets from pngjs are what we feed: 16-bit samples rounded to 8 bits as pngjs does,
 * grey repeated into R, G and B, alpha dropped as it is (not composited on a background).
 * Only the 2 x S source rows the resize reads are fetched from libvips, in increasing order,
 * so a lazily decoded photo is never held whole. */
#include "enhance/moderate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/keras_load.h"
#include "nn/manifest.h"
#include "nn/model.h"

static const char *const names[ENH_NSFW_NCLASSES] = {"drawing", "hentai", "neutral", "porn", "sexy"};

struct enh_classifier {
    char name[64];
    enh_model *model;
    int size;    /* S */
    int softmax; /* the model's output still needs its softmax */
};

const char *enh_nsfw_class_name(enh_nsfw_class c)
{
    return (unsigned)c < ENH_NSFW_NCLASSES ? names[c] : "?";
}

enh_status enh_classifier_load_path(const char *model_path, const enh_nn_options *opt, enh_classifier **out,
                                    enh_error *err)
{
    *out = NULL;
    enh_keras_model km;
    enh_status st = enh_keras_load(model_path, &km, err);
    if (st != ENH_OK)
        return st;
    if (km.in_c != 3 || km.in_h <= 0 || km.in_h != km.in_w || km.out_size != ENH_NSFW_NCLASSES) {
        enh_graph_free(km.graph);
        return enh_fail(err, ENH_EINVAL, "%s: not an nsfwjs classifier: it takes %dx%dx%d and gives %d values (a square "
                        "RGB input and %d classes are needed)", model_path, km.in_w, km.in_h, km.in_c, km.out_size,
                        ENH_NSFW_NCLASSES);
    }
    enh_classifier *c = calloc(1, sizeof *c);
    if (!c) {
        enh_graph_free(km.graph);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    c->size = km.in_h;
    c->softmax = km.out_softmax;
    const char *base = strrchr(model_path, '/');
    snprintf(c->name, sizeof c->name, "%s", base ? base + 1 : model_path);
    if ((st = enh_model_from_graph_ex(km.graph, opt, &c->model, err)) != ENH_OK) { /* takes the graph */
        free(c);
        return enh_error_prefix(err, "%s", model_path);
    }
    *out = c;
    return ENH_OK;
}

enh_status enh_classifier_load(const char *name, const char *models_dir, const enh_nn_options *opt,
                               enh_classifier **out, enh_error *err)
{
    *out = NULL;
    if (!name || !*name)
        name = ENH_CLASSIFIER_DEFAULT;
    const enh_model_entry *e = enh_manifest_find(name);
    if (!e || e->format != ENH_MODEL_TFJS_LAYERS || !enh_model_is_classifier(e))
        return enh_fail(err, ENH_EINVAL, "'%.64s' is not a moderation classifier of the manifest (%s, or see "
                        "`enhance models list`)", name, ENH_CLASSIFIER_DEFAULT);
    enh_status st = enh_model_verify(e, models_dir, err);
    if (st != ENH_OK)
        return st;
    char folder[4352], path[4500];
    if ((st = enh_model_folder(e, models_dir, folder, sizeof folder, err)) != ENH_OK)
        return st;
    const char *file = "model.json";
    for (int i = 0; i < e->nfiles; i++)
        if (!strcmp(e->files[i].file, "model.min.js"))
            file = "model.min.js";
    snprintf(path, sizeof path, "%s/%s", folder, file);
    if ((st = enh_classifier_load_path(path, opt, out, err)) != ENH_OK)
        return st;
    snprintf((*out)->name, sizeof (*out)->name, "%s", e->name);
    return ENH_OK;
}

void enh_classifier_free(enh_classifier *c)
{
    if (!c)
        return;
    enh_model_free(c->model);
    free(c);
}

const char *enh_classifier_name(const enh_classifier *c) { return c ? c->name : ""; }

int enh_classifier_input_size(const enh_classifier *c) { return c ? c->size : 0; }

/* A source row as float32 RGB in [0,1]: v / 255.0f of the 8-bit value pngjs would give. */
static enh_status fetch_row(VipsRegion *reg, VipsImage *in, int y, float *rgb, enh_error *err)
{
    int w = vips_image_get_width(in), bands = vips_image_get_bands(in);
    VipsRect r = {0, y, w, 1};
    if (vips_region_prepare(reg, &r)) {
        enh_status st = enh_fail(err, ENH_EINVAL, "cannot read the image pixels (row %d): %s", y, vips_error_buffer());
        vips_error_clear();
        return st;
    }
    int c3 = bands >= 3 ? 3 : 1; /* RGB(A) or grey(+alpha) */
    if (vips_image_get_format(in) == VIPS_FORMAT_UCHAR) {
        const unsigned char *p = (const unsigned char *)VIPS_REGION_ADDR(reg, 0, y);
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++)
                rgb[3 * x + k] = (float)p[(size_t)x * bands + (c3 == 3 ? k : 0)] / 255.0f;
    } else {
        const unsigned short *p = (const unsigned short *)VIPS_REGION_ADDR(reg, 0, y);
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) {
                int v8 = (int)floor((double)p[(size_t)x * bands + (c3 == 3 ? k : 0)] * 255.0 / 65535.0 + 0.5);
                rgb[3 * x + k] = (float)v8 / 255.0f;
            }
    }
    return ENH_OK;
}

/* One output row of XNNPACK's align-corners bilinear resize, float32 without FMA contraction
 * (the peer README's formula; -ffp-contract would round differently). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("fp-contract=off")))
#endif
static void resize_row(const float *top, const float *bot, int w, int s, float ay, float *out)
{
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
    float sx = (float)(w - 1) / (float)(s - 1);
    for (int ox = 0; ox < s; ox++) {
        float ix = (float)ox * sx;
        int x0 = (int)ix, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
        float ax = ix - (float)x0;
        for (int k = 0; k < 3; k++) {
            float tl = top[3 * x0 + k], tr = top[3 * x1 + k], bl = bot[3 * x0 + k], br = bot[3 * x1 + k];
            float t = tl + (tr - tl) * ax, b = bl + (br - bl) * ax;
            out[3 * ox + k] = t + (b - t) * ay;
        }
    }
}

enh_status enh_classify_prepare(const enh_classifier *c, VipsImage *in, float *nhwc, enh_error *err)
{
    int w = vips_image_get_width(in), h = vips_image_get_height(in), bands = vips_image_get_bands(in), s = c->size;
    VipsBandFormat f = vips_image_get_format(in);
    if ((f != VIPS_FORMAT_UCHAR && f != VIPS_FORMAT_USHORT) || bands < 1 || bands > 4)
        return enh_fail(err, ENH_EUNSUPPORTED, "moderation takes 8- or 16-bit images with 1-4 bands, not %d bands of %s",
                        bands, vips_enum_nick(VIPS_TYPE_BAND_FORMAT, f));
    if (w < 1 || h < 1 || w > (1 << 24) / 3)
        return enh_fail(err, ENH_EINVAL, "image of %dx%d pixels cannot be classified", w, h);
    float *rows = malloc((size_t)w * 3 * 2 * sizeof *rows);
    VipsRegion *reg = rows ? vips_region_new(in) : NULL;
    if (!reg) {
        free(rows);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    int have[2] = {-1, -1}; /* source row held in each slot */
    enh_status st = ENH_OK;
    int same = w == s && h == s;
    float sy = (float)(h - 1) / (float)(s - 1);
    for (int oy = 0; oy < s && st == ENH_OK; oy++) {
        float iy = same ? (float)oy : (float)oy * sy;
        int y0 = same ? oy : (int)iy, y1 = y0 + 1 < h ? y0 + 1 : h - 1;
        float ay = same ? 0.f : iy - (float)y0;
        int want[2] = {y0, y1}, slot[2];
        for (int k = 0; k < 2 && st == ENH_OK; k++) {
            slot[k] = have[0] == want[k] ? 0 : have[1] == want[k] ? 1 : -1;
            if (slot[k] < 0) { /* replace the slot the other wanted row does not use */
                int other = k ? slot[0] : (have[0] == want[1] ? 0 : have[1] == want[1] ? 1 : -1);
                slot[k] = other == 0 ? 1 : 0;
                st = fetch_row(reg, in, want[k], rows + (size_t)slot[k] * w * 3, err);
                have[slot[k]] = want[k];
            }
        }
        if (st != ENH_OK)
            break;
        float *o = nhwc + (size_t)oy * s * 3;
        if (same)
            memcpy(o, rows + (size_t)slot[0] * w * 3, (size_t)s * 3 * sizeof *o);
        else
            resize_row(rows + (size_t)slot[0] * w * 3, rows + (size_t)slot[1] * w * 3, w, s, ay, o);
    }
    g_object_unref(reg);
    free(rows);
    return st;
}

enh_status enh_classify_input(const enh_classifier *c, const float *nhwc, float probs[ENH_NSFW_NCLASSES],
                              enh_error *err)
{
    int s = c->size;
    size_t plane = (size_t)s * s;
    float *nchw = enh_alloc(plane * 3 * sizeof *nchw);
    if (!nchw)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < 3; k++)
            nchw[k * plane + p] = nhwc[p * 3 + k];
    float out[ENH_NSFW_NCLASSES];
    enh_status st = enh_model_run_graph(c->model, nchw, 1, s, s, out, NULL, err);
    enh_free(nchw);
    if (st != ENH_OK)
        return st;
    if (c->softmax) { /* as XNNPACK: exp(x - max), then times 1 / sum */
        float mx = out[0], sum = 0.f;
        for (int k = 1; k < ENH_NSFW_NCLASSES; k++)
            mx = out[k] > mx ? out[k] : mx;
        for (int k = 0; k < ENH_NSFW_NCLASSES; k++)
            sum += out[k] = expf(out[k] - mx);
        float inv = 1.f / sum;
        for (int k = 0; k < ENH_NSFW_NCLASSES; k++)
            out[k] *= inv;
    }
    for (int k = 0; k < ENH_NSFW_NCLASSES; k++) {
        if (!isfinite(out[k]))
            return enh_fail(err, ENH_EINTERNAL, "the classifier gave a non-finite probability");
        probs[k] = out[k];
    }
    return ENH_OK;
}

enh_status enh_classify(const enh_classifier *c, VipsImage *in, float probs[ENH_NSFW_NCLASSES], enh_error *err)
{
    for (int k = 0; k < ENH_NSFW_NCLASSES; k++)
        probs[k] = 0;
    size_t n = (size_t)c->size * c->size * 3;
    float *x = enh_alloc(n * sizeof *x);
    if (!x)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    enh_status st = enh_classify_prepare(c, in, x, err);
    if (st == ENH_OK)
        st = enh_classify_input(c, x, probs, err);
    enh_free(x);
    return st;
}
