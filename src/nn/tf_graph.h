/* tf_graph.h - the TF graph as loaded from a TF.js graph model (tfjs_load.c), before it is
 * specialised for an input size (tf_spec.c). Tensors here are N-d (rank <= 8) of float32,
 * int32 or bool, row-major; TF's NHWC layout is kept as is.
 *
 * Ownership: a tf_graph owns its nodes, their names, input arrays and constant values
 * (tf_graph_free). Thread-safety: immutable once loaded; read from any thread.
 * Errors: loaders and ops return enh_status with the node's name in the message.
 */
#ifndef ENH_NN_TF_GRAPH_H
#define ENH_NN_TF_GRAPH_H

#include <stddef.h>

#include "core/error.h"

#define TF_MAXRANK 8

typedef enum { TF_F32 = 0, TF_I32, TF_BOOL } tf_dtype;

typedef struct tf_shape {
    int rank;
    int d[TF_MAXRANK];
} tf_shape;

/* A tensor: dtype, shape and data (4 bytes per element for every dtype; bool is int32 0/1,
 * which keeps every kernel to one element size). Who owns data is said where it is used. */
typedef struct tf_tensor {
    tf_dtype dt;
    tf_shape s;
    void *data;
} tf_tensor;

#define TF_OPS(X)                                                                                         \
    X(CONST, "Const") X(PLACEHOLDER, "Placeholder") X(IDENTITY, "Identity") X(ABS, "Abs") X(ADD, "AddV2")  \
    X(BROADCASTTO, "BroadcastTo") X(CAST, "Cast") X(CONCAT, "ConcatV2") X(CONV2D, "Conv2D")               \
    X(DECONV2D, "Conv2DBackpropInput") X(EINSUM, "Einsum") X(EXP, "Exp") X(EXPANDDIMS, "ExpandDims")      \
    X(FLOOR, "Floor") X(FLOORDIV, "FloorDiv") X(FLOORMOD, "FloorMod") X(GATHER, "GatherV2")               \
    X(GREATER, "Greater") X(GREATEREQ, "GreaterEqual") X(LESS, "Less") X(LESSEQ, "LessEqual")             \
    X(EQUAL, "Equal") X(NOTEQUAL, "NotEqual") X(LOGICALAND, "LogicalAnd") X(LOGICALOR, "LogicalOr")       \
    X(MAXIMUM, "Maximum") X(MINIMUM, "Minimum") X(MUL, "Mul") X(NEG, "Neg") X(PACK, "Pack")               \
    X(RANGE, "Range") X(REALDIV, "RealDiv") X(RECIPROCAL, "Reciprocal") X(RESHAPE, "Reshape")             \
    X(RSQRT, "Rsqrt") X(SELECT, "SelectV2") X(SHAPE, "Shape") X(SIGN, "Sign") X(SQUARE, "Square")         \
    X(SQUEEZE, "Squeeze") X(STRIDEDSLICE, "StridedSlice") X(SUB, "Sub") X(SUM, "Sum") X(TANH, "Tanh")     \
    X(TRANSPOSE, "Transpose") X(SQRT, "Sqrt") X(RELU, "Relu") X(SIGMOID, "Sigmoid") X(MEAN, "Mean")       \
    X(LOG, "Log") X(POW, "Pow") X(SQDIFF, "SquaredDifference") X(BIASADD, "BiasAdd") X(ADDN, "AddN")     \
    X(STOPGRAD, "StopGradient") X(FILL, "Fill") X(ZEROSLIKE, "ZerosLike") X(ONESLIKE, "OnesLike")

typedef enum {
#define TF_OP_ENUM(e, s) TFOP_##e,
    TF_OPS(TF_OP_ENUM)
#undef TF_OP_ENUM
    TFOP_COUNT
} tf_opk;

typedef enum { TF_PAD_VALID = 0, TF_PAD_SAME, TF_PAD_EXPLICIT } tf_padding;

typedef struct tf_node {
    tf_opk op;
    char *name;       /* owned */
    int nin;
    int *in;          /* node indices (owned); control inputs are dropped at load */
    tf_dtype dtype;   /* Const / Placeholder dtype, Cast DstT, Range / Shape output type */
    /* Conv2D, Conv2DBackpropInput */
    int strides[4], dilations[4];
    tf_padding padding;
    int explicit_pad[8];
    int nchw;         /* data_format NCHW (refused by the convolutions for now) */
    int axis;         /* Pack axis */
    int keep_dims;    /* Sum, Mean */
    int begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask; /* StridedSlice */
    int nsqueeze, squeeze[TF_MAXRANK]; /* Squeeze dims (0 = all size-1 dims) */
    int batch_dims;   /* GatherV2 */
    char equation[64]; /* Einsum */
    tf_tensor value;  /* Const: owned data */
} tf_node;

struct tf_pack_cache;

typedef struct tf_graph {
    tf_node *nodes;
    int n;
    int input, output;  /* node indices of the Placeholder and of the output */
    int in_channels;    /* the Placeholder's last dimension (-1 when unknown) */
    size_t weight_bytes;
    struct tf_pack_cache *packs; /* packed weights shared by the specialisations (tf_pack.h);
                                    the graph's one internally locked, mutable part */
} tf_graph;

void tf_graph_free(tf_graph *g);
const char *tf_op_name(tf_opk op);
/* TF op name -> kind; -1 when this runtime has no such op. */
int tf_op_from_name(const char *s);
const char *tf_dtype_name(tf_dtype dt);
/* A node's input as a GraphDef names it (TF.js graph models, tfjs_load.c and keras_graph.c):
 * "name" or "name:0", the node's first output: 0 with *len the length of the node's name;
 * "^name", a control input: -2; "name:K", another output: -1. */
int tf_input_name(const char *s, size_t *len);

static inline size_t tf_shape_count(const tf_shape *s)
{
    size_t n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= (size_t)s->d[i];
    return n;
}
int tf_shape_eq(const tf_shape *a, const tf_shape *b);
/* "[1,64,64,3]" into buf (returns buf). */
char *tf_shape_str(const tf_shape *s, char *buf, size_t size);

#endif
