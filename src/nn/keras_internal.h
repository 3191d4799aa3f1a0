/* keras_internal.h - shared by the TF.js layers-model loader's files: the weight table
 * (keras_weights.c), the helpers (keras_util.c), the layer builders (keras_conv.c,
 * keras_layers.c), the graph-model nodes (keras_graph.c) and the topology (keras_load.c).
 * Thread-safety: one load's private state. Errors: as keras_load.h. */
#ifndef ENH_NN_KERAS_INTERNAL_H
#define ENH_NN_KERAS_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "nn/keras_load.h"

#define KERAS_MAX_RANK 4

typedef struct {
    const char *name;   /* in the manifest (json-owned) */
    int rank, shape[KERAS_MAX_RANK];
    size_t count;
    int qbytes;         /* 0 = float32, 1 = uint8, 2 = uint16 (affine) */
    double scale, min;
    const unsigned char *data; /* into the group's bytes */
} keras_weight;

typedef struct {
    keras_weight *w;
    int n;
    unsigned char **groups; /* each weight group's shards, concatenated */
    int ngroups;
} keras_weights;

enh_status keras_weights_load(json_t *manifest, const char *dir, keras_weights *kw, const char *file,
                              enh_error *err);
void keras_weights_free(keras_weights *kw);
/* The weight <layer>/<wname> (or one whose name ends in /<layer>/<wname>), checked against the
 * expected shape (-1 = any, the found size is written back), decoded into a new enh_alloc'd
 * array. ENH_EINVAL names the layer when it is missing or of another shape. */
enh_status keras_weight_get(const keras_weights *kw, const char *layer, const char *wname, int rank,
                            int *shape, float **out, enh_error *err);
/* The same for the weight of exactly this name (a graph model's Const node); `who` names the
 * reader in messages. */
enh_status keras_weight_named(const keras_weights *kw, const char *name, const char *who, int rank, int *shape,
                              float **out, enh_error *err);

/* One Keras layer of the topology. */
typedef struct {
    const char *name, *cls; /* json-owned */
    json_t *cfg;
    int nin, *in;           /* inbound layers (indices) */
    int readers;            /* inbound references from the layers built + 1 for the output */
    int tensor;             /* IR tensor of its output, -1 before it is built */
    int node;               /* IR node that wrote `tensor` in this layer (folding target), else -1 */
    int pad[4];             /* ZeroPadding2D not yet applied to `tensor`: top, left, bottom, right */
    int padded_tensor;      /* the same padding made real (an identity conv), -1 before */
    int flatten;            /* Flatten / Dense input: its map must be 1x1 */
} keras_layer;

typedef struct {
    const char *file;
    enh_graph *g;
    keras_layer *L;
    int nl;
    const keras_weights *w;
    int output_layer;
    enh_keras_model *m;
} keras_ctx;

#define KERAS_LIM_K 64      /* kernel and pool sizes */
#define KERAS_LIM_STRIDE 64 /* strides and dilations */
#define KERAS_LIM_CH 65536  /* channels */
#define KERAS_LIM_PAD 4096  /* padding per side */

/* keras_load.c / keras_graph.c: builds layer (node) i, its inputs built. */
enh_status keras_build_layer(keras_ctx *c, int i, enh_error *err);
/* keras_graph.c: a TF.js graph model's nodes as c->L (op as cls, the node as cfg) and its output;
 * node i into the IR (its inputs built). */
enh_status keras_graph_topology(keras_ctx *c, json_t *root, enh_error *err);
enh_status keras_build_graph_node(keras_ctx *c, int i, enh_error *err);

/* keras_util.c */
enh_status keras_bad(keras_ctx *c, int i, enh_error *err, const char *fmt, const char *what);
enh_status keras_unsupported(keras_ctx *c, int i, enh_error *err, const char *what);
json_t *keras_cfg(keras_ctx *c, int i, const char *key);
const char *keras_cfg_str(keras_ctx *c, int i, const char *key, const char *dflt);
/* An int or a pair of ints into out[2] (absent: dflt); -1 when malformed. */
int keras_pair(json_t *v, int dflt, int out[2]);
enh_status keras_channels_last(keras_ctx *c, int i, enh_error *err);
/* An activation by name ("linear", "relu", "relu6", "sigmoid"; "softmax" only for the output
 * layer: *softmax set, a->kind NONE). */
enh_status keras_activation(keras_ctx *c, int i, const char *name, enh_activation *a, int *softmax, enh_error *err);
/* A node written for layer i (its tensor and node recorded); NULL with ENH_ENOMEM in err. */
enh_node *keras_add_node(keras_ctx *c, int i, enh_op op, int nin, enh_error *err);
/* Layer i is layer `from`'s tensor (folding into from's node stays possible when i is its one reader). */
void keras_alias(keras_ctx *c, int i, int from);
/* The tensor of layer i for a reader that is not a convolution (pending padding made real). */
enh_status keras_tensor_of(keras_ctx *c, int i, int *t, enh_error *err);
/* TF 'same' padding of one axis of size n: total max((ceil(n/s)-1)*s + k_eff - n, 0), smaller half first. */
void keras_same_pads(int n, int k_eff, int s, int *before, int *after);
/* Spatial size of tensor t at the model's input size (layer i named in errors). */
enh_status keras_tensor_hw(keras_ctx *c, int i, int t, int *h, int *w, enh_error *err);
/* Dependency order of the layers the output needs (a cycle is an error naming a layer on it). */
enh_status keras_order(keras_ctx *c, int **out, int *count, enh_error *err);

/* keras_conv.c */
typedef struct {
    int kh, kw, cin, cout, mult, depthwise; /* depthwise: cout = cin * mult */
    int sh, sw, dh, dw, pads[4];            /* pads: top, left, bottom, right */
} keras_conv_geom;
/* A convolution node for layer i reading tensor x, from an HWIO kernel (depthwise: H W C M);
 * takes kern and bias (freed on every path). */
enh_status keras_conv_node(keras_ctx *c, int i, int x, const keras_conv_geom *k, float *kern, float *bias,
                           const enh_activation *act, enh_error *err);
enh_status keras_build_conv(keras_ctx *c, int i, int depthwise, enh_error *err);
enh_status keras_build_bn(keras_ctx *c, int i, enh_error *err);

#endif
