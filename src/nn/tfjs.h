/* tfjs.h - public API of the TF.js graph-model runtime (model.json + weight shards, as
 * tfjs-converter writes them; the MAXIM restoration networks are the models it is built for).
 *
 * Loading parses model.json, reads the shards named in its weightsManifest (float32, and the
 * quantised uint8/uint16/float16 encodings, dequantised to float32) and translates the TF ops
 * into a graph of our own. Running specialises that graph for the input's H x W once (the int32
 * shape arithmetic is evaluated and disappears; the rest is fused into kernels of our own) and
 * keeps the specialisation for later runs of the same size.
 * Images are float32 NHWC, 1 x h x w x c, values in [0,1] for RGB. Models that need a size
 * multiple (MAXIM: 64) are padded with zeros at the bottom and right and cropped back, as
 * UpscalerJS does, when pad_multiple > 1.
 *
 * Ownership: a model owns its weights and specialisations; enh_tf_model_free releases them.
 * Thread-safety: a loaded model may be run from several threads at once (specialisations are
 * built under a lock and then read-only; each run has its own activations).
 * Errors: enh_status + message naming the file, node and op concerned and how to fix it.
 */
#ifndef ENH_NN_TFJS_H
#define ENH_NN_TFJS_H

#include <stddef.h>

#include "core/error.h"
#include "core/pool.h"

typedef struct enh_tf_model enh_tf_model;

typedef struct enh_tf_model_info {
    int in_channels, out_channels; /* 3 for MAXIM */
    int scale;                     /* output size / input size (1 for MAXIM) */
    int nodes;                     /* nodes in model.json */
    size_t weight_bytes;           /* float32 weights after dequantisation */
} enh_tf_model_info;

/* Loads model.json and the shards beside it (paths in the manifest are relative to its folder). */
enh_status enh_tf_model_load(const char *model_json, enh_tf_model **out, enh_error *err);
void enh_tf_model_free(enh_tf_model *m);
const enh_tf_model_info *enh_tf_model_get_info(const enh_tf_model *m);

/* Runs one image: in is h x w x in_channels (NHWC), out h*scale x w*scale x out_channels.
 * pad_multiple > 1: zeros are padded at the bottom/right to the next multiple and the output
 * is cropped back. pool NULL = enh_pool_default(). */
enh_status enh_tf_model_run(enh_tf_model *m, const float *in, int h, int w, int pad_multiple, float *out,
                            enh_pool *pool, enh_error *err);

/* Tiles of tile x tile input pixels overlapping by `overlap`, blended with linear feathers
 * (the model's global mixing makes tiles inexact: bench/README.md has the measured seams).
 * Images no larger than a tile run whole. */
enh_status enh_tf_model_run_tiled(enh_tf_model *m, const float *in, int h, int w, int pad_multiple, int tile,
                                  int overlap, float *out, enh_pool *pool, enh_error *err);
/* Whole image when its working memory (enh_tf_model_bytes_for) fits memory_limit (0 = no
 * limit), else the largest tiles that fit with a third of a tile of overlap; ENH_ETOOBIG when
 * not even a 2 x pad_multiple tile fits. */
enh_status enh_tf_model_run_fit(enh_tf_model *m, const float *in, int h, int w, int pad_multiple,
                                size_t memory_limit, float *out, enh_pool *pool, enh_error *err);
/* Working memory of one run on h x w (activations, padding copies, scratch), estimated. */
size_t enh_tf_model_bytes_for(const enh_tf_model *m, int h, int w, int pad_multiple);
/* Activation bytes per input pixel, measured on the plan built at load (64 x 64). */
size_t enh_tf_model_arena_per_pixel(const enh_tf_model *m);

/* Peak bytes of activations of the last specialisation built for h x w (0 before any run). */
size_t enh_tf_model_peak_bytes(const enh_tf_model *m, int h, int w);

#endif
