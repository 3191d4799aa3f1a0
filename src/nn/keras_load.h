/* keras_load.h - TF.js *layers* models (a Keras functional Model: model.json with
 * modelTopology.model_config + weightsManifest, or nsfwjs's .min.js containers of them,
 * tfjs_container.h) into the NCHW graph IR (graph.h).
 *
 * Layers: InputLayer, Conv2D, DepthwiseConv2D (a conv with groups = channels),
 * BatchNormalization (folded into the convolution before it when nothing else reads that
 * convolution, else a per-channel 1x1 conv), ReLU (max_value: clip; negative_slope: leaky),
 * Activation (relu, relu6, sigmoid, linear; softmax as the output's last step), ZeroPadding2D
 * (added to the next convolution's pads, else an identity conv with pads), Add / Multiply /
 * Maximum, Concatenate, Average/MaxPooling2D (valid, same: padded taps left out of an average),
 * GlobalAverage/MaxPooling2D, Flatten (of a 1x1 map), Dense, Dropout (identity).
 * Also the small TF.js graph models of classifiers (nsfwjs MobileNetV2Mid: fused convolutions,
 * depthwise, pooling, MatMul; keras_graph.c), into the same IR.
 * Weights are looked up by name (<layer>/<weight>); uint8/uint16-affine ones decode as
 * (float)((double)q * scale + min), the way tfjs-core does; a weight may straddle shards.
 *
 * Ownership: out->graph is the caller's (enh_graph_free, or give it to enh_model_from_graph).
 * Thread-safety: reentrant. Errors: ENH_ENOTFOUND (missing file or shard), ENH_EINVAL (malformed
 * JSON, shapes, base64, a truncated shard, a cycle, a weight that does not fit its layer),
 * ENH_EUNSUPPORTED (a layer class or option this loader does not have); messages name the file
 * and the layer. */
#ifndef ENH_NN_KERAS_LOAD_H
#define ENH_NN_KERAS_LOAD_H

#include "nn/graph.h"

typedef struct enh_keras_model {
    enh_graph *graph;
    int in_c, in_h, in_w; /* from the InputLayer (in_h/in_w 0 when the model takes any size) */
    int out_softmax;      /* the output ends in a softmax, left to the caller (the IR has none) */
    int out_size;         /* values per image at the output (0 when the input size is free) */
} enh_keras_model;

/* model_path: model.json or model.min.js; its shards are looked up beside it (name, else
 * name.min.js). */
enh_status enh_keras_load(const char *model_path, enh_keras_model *out, enh_error *err);

#endif
