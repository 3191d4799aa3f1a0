/* keras_internal.h - shared by the TF.js layers-model loader's files: the weight table
 * (keras_weights.c), the layer builders (keras_layers.c) and the topology (keras_load.c).
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

/* Builds layer i (its inbound layers are built). */
enh_status keras_build_layer(keras_ctx *c, int i, enh_error *err);
/* The tensor of layer i for a reader that is not a convolution (pending padding made real). */
enh_status keras_tensor_of(keras_ctx *c, int i, int *t, enh_error *err);

#endif
