/* nn.h - public API of the neural-network runtime (image-to-image models).
 *
 * A model is loaded once (weights converted/packed at load) and is then immutable:
 * any number of threads may call enh_model_run on the same enh_model concurrently.
 * Each call gets its own activations (sized by the memory planner for the given input
 * shape), reusing an arena of an earlier call when one is idle (a few are kept per model,
 * 512 MiB at most, released by enh_model_free), and uses the pool for intra-op parallelism.
 * Tensors are float32 NCHW, n images of c x h x w, values in [0,1] for RGB input.
 * Errors: enh_status + message naming the layer / byte offset for malformed files.
 */
#ifndef ENH_NN_NN_H
#define ENH_NN_NN_H

#include <stddef.h>

#include "core/error.h"
#include "core/pool.h"
#include "nn/nn_options.h"
#include "nn/precision.h"

typedef struct enh_model enh_model;

typedef struct enh_model_info {
    int in_channels;      /* 3 for RGB models */
    int out_channels;
    int scale;            /* output = scale x input (spatially) */
    int receptive_radius; /* LR pixels of context each output pixel depends on; -1 = unbounded/too large */
    int layers;
    size_t weight_bytes;
    double flops_per_pixel; /* direct-convolution FLOPs per input pixel */
    int bf16_convs;         /* convolutions that run in bf16 (0: all fp32; see precision.h) */
    int convs;              /* convolutions in all */
    int ps_tails;           /* conv -> PixelShuffle -> add tails run in the conv's epilogue (ps_tail.h) */
    int elt_tails;          /* conv -> Eltwise sums run in the conv's epilogue (elt_tail.h) */
} enh_model_info;

/* Loads an ncnn .param/.bin pair with the process default options (nn_options.h). */
enh_status enh_model_load_ncnn(const char *param_path, const char *bin_path, enh_model **out,
                               enh_error *err);
/* Same with runtime options (precision, kernel path, ...: nn_options.h; NULL = the process
 * default). Weights are packed for them at load. ENH_EUNSUPPORTED: a kernel path or bf16 this
 * CPU lacks; ENH_EINVAL: bf16 with another kernel path forced. */
enh_status enh_model_load_ncnn_ex(const char *param_path, const char *bin_path, const enh_nn_options *opt,
                                  enh_model **out, enh_error *err);
/* The options the model was loaded with. */
const enh_nn_options *enh_model_options(const enh_model *m);
void enh_model_free(enh_model *m);
const enh_model_info *enh_model_get_info(const enh_model *m);

/* Runs n images of in_c x h x w (in_c == info.in_channels); `out` must hold
 * n * out_channels * (h*scale) * (w*scale) floats. pool NULL = enh_pool_default(). */
enh_status enh_model_run(const enh_model *m, const float *in, int n, int h, int w, float *out,
                         enh_pool *pool, enh_error *err);

/* Bytes of working memory enh_model_run needs for this input shape (activations). */
size_t enh_model_workspace_bytes(const enh_model *m, int n, int h, int w);

#endif
