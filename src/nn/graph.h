/* graph.h - the runtime's graph IR, independent of any file format (ncnn today; ONNX or
 * TF.js loaders can fill the same structures).
 *
 * A graph is a list of nodes in execution (topological) order over numbered tensors.
 * Every tensor is float32 N x C x H x W; N (batch) is the same for the whole graph, C/H/W
 * are found by shape inference for a given input size (the input is fully dynamic).
 * Vectors (global pooling / InnerProduct outputs) are C x 1 x 1. Fan-out needs no node:
 * any number of nodes may read a tensor (ncnn Split layers are resolved as aliases).
 *
 * Ownership: a graph owns its nodes, their input arrays and weights (enh_alloc'd);
 * enh_graph_free releases everything. A graph is immutable once a model is built from it
 * and may then be read from any number of threads.
 * Errors: functions return enh_status; messages name the node (layer) concerned.
 */
#ifndef ENH_NN_GRAPH_H
#define ENH_NN_GRAPH_H

#include <stddef.h>

#include "core/error.h"
#include "nn/conv.h"

typedef enum {
    ENH_OP_INPUT = 0,
    ENH_OP_CONV,         /* conv (groups allowed) + fused activation (+ residual input) */
    ENH_OP_DECONV,       /* transposed convolution + activation */
    ENH_OP_ACT,          /* standalone activation (ReLU, LeakyReLU, PReLU, Clip, Sigmoid) */
    ENH_OP_PIXELSHUFFLE, /* depth-to-space */
    ENH_OP_INTERP,       /* resize: nearest / bilinear / bicubic */
    ENH_OP_BINARY,       /* a (op) b with numpy broadcasting, or a (op) scalar */
    ENH_OP_ELTWISE,      /* n-ary sum with coefficients / product / max */
    ENH_OP_CONCAT,       /* along channels (axis 0), height (1) or width (2) */
    ENH_OP_CROP,         /* sub-box of c/h/w */
    ENH_OP_POOL,         /* max / average pooling, also global */
    ENH_OP_INNERPRODUCT, /* fully connected on the flattened C x H x W of each image */
    ENH_OP_COUNT
} enh_op;

/* Activation attached to a node (or the whole node for ENH_OP_ACT). */
typedef enum {
    ENH_NACT_NONE = 0,
    ENH_NACT_RELU,
    ENH_NACT_LEAKY,   /* a = negative slope */
    ENH_NACT_PRELU,   /* slopes[nslopes], 1 = shared */
    ENH_NACT_CLIP,    /* [a, b] */
    ENH_NACT_SIGMOID
} enh_nact;

typedef struct enh_activation {
    enh_nact kind;
    float a, b;
    float *slopes; /* owned */
    int nslopes;
} enh_activation;

typedef enum { ENH_BIN_ADD = 0, ENH_BIN_SUB, ENH_BIN_MUL, ENH_BIN_DIV, ENH_BIN_MAX, ENH_BIN_MIN,
               ENH_BIN_POW, ENH_BIN_RSUB, ENH_BIN_RDIV } enh_binop;
typedef enum { ENH_ELT_PROD = 0, ENH_ELT_SUM = 1, ENH_ELT_MAX = 2 } enh_eltop;
typedef enum { ENH_INTERP_NEAREST = 1, ENH_INTERP_BILINEAR = 2, ENH_INTERP_BICUBIC = 3 } enh_interp_mode;

typedef struct enh_node {
    enh_op op;
    char name[64];   /* layer name from the file (for messages) */
    int nin;
    int *in;         /* tensor ids (owned array); conv: [x] or [x, residual] */
    int out;         /* tensor id */
    enh_activation act; /* CONV, DECONV, INNERPRODUCT, ACT */
    union {
        struct { /* CONV, DECONV: weights OIHW (deconv: cout x cin/groups x kh x kw, not flipped) */
            int cin, cout, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups;
            int out_pad_b, out_pad_r; /* DECONV: extra rows/cols at bottom/right */
            float *weight, *bias;     /* owned; bias may be NULL */
        } conv;
        struct { int r; int dcr; } ps; /* dcr = 1: DCR (TF) order, 0: CRD (PyTorch) */
        struct {
            enh_interp_mode mode;
            float scale_h, scale_w; /* used when out_h/out_w are 0 */
            int out_h, out_w;
            int align_corners;
        } interp;
        struct { enh_binop op; int with_scalar; float scalar; } bin;
        struct { enh_eltop op; float *coeffs; /* owned, nin entries or NULL */ } elt;
        struct { int axis; } concat; /* 0 = C, 1 = H, 2 = W */
        struct {
            /* per axis (C, H, W): start, end (exclusive; ENH_CROP_END = to the end,
             * negative = counted from the end), or size > 0 when end is unused */
            int start[3], end[3], size[3];
        } crop;
        struct {
            int max;          /* 1 = max, 0 = average */
            int global;
            int kh, kw, sh, sw, pt, pl, pb, pr;
            int pad_mode;     /* 0 full (ceil: extra bottom/right), 1 valid, 2 same-upper, 3 same-lower */
            int count_include_pad;
        } pool;
        struct { int num_output, in_size; float *weight, *bias; } fc;
    } p;
} enh_node;

#define ENH_CROP_END 0x7fffffff

typedef struct enh_shape {
    int c, h, w;
} enh_shape;

typedef struct enh_graph {
    enh_node *nodes;
    int nnodes, cap;
    int ntensors;
    int input, output;   /* tensor ids */
    int in_channels;     /* expected input channels (3 for RGB models) */
    int fixed_h, fixed_w; /* > 0: the only input size the graph is built for (a classifier whose head
                           * flattens a map of known size); load-time probes use it. 0 = any size */
} enh_graph;

enh_graph *enh_graph_new(void);
void enh_graph_free(enh_graph *g);
/* Appends a zeroed node (returns NULL on OOM). The pointer is valid until the next add. */
enh_node *enh_graph_add(enh_graph *g, enh_op op, const char *name, int nin);
void enh_node_clear(enh_node *n);
const char *enh_op_name(enh_op op);

/* Inputs of one node at most: the executor gathers them on its stack (model.c). */
#define ENH_GRAPH_MAX_INPUTS 1024

/* Structural checks: tensors defined before use, one producer each, op parameters sane, and the
 * executor's limits (every loader's graph goes through here: ENH_GRAPH_MAX_INPUTS inputs per
 * node, the inputs each op reads). */
enh_status enh_graph_validate(const enh_graph *g, enh_error *err);

/* Shape inference for an input of c x h x w: fills shapes[ntensors] (unused tensors get
 * 0 x 0 x 0). Fails with the node's name when a shape is invalid or too large. */
enh_status enh_graph_infer_shapes(const enh_graph *g, int c, int h, int w, enh_shape *shapes,
                                  enh_error *err);

/* Pooling padding for an h x w input (pad_mode resolved) and the output size. */
void enh_pool_resolve(const enh_node *n, int h, int w, int *pt, int *pb, int *pl, int *pr, int *oh,
                      int *ow);
/* Crop box per axis (C, H, W) for input shape *in; -1 when empty / outside. */
int enh_crop_resolve(const enh_node *n, const enh_shape *in, int start[3], int len[3]);

/* The activations a conv plan applies in its own epilogue (none, ReLU, LeakyReLU, PReLU, Clip:
 * MobileNet's 35 ReLU6 would each be a pass over the conv's output otherwise); Sigmoid runs as
 * a separate pass after the convolution. */
static inline int enh_nact_in_conv_epilogue(enh_nact k)
{
    return k == ENH_NACT_NONE || k == ENH_NACT_RELU || k == ENH_NACT_LEAKY || k == ENH_NACT_PRELU ||
           k == ENH_NACT_CLIP;
}

/* How many node inputs read each tensor (ntensors + 1 counts; the graph output counts as one
 * more reader), skipping the nodes with dead[i] != 0 (dead may be NULL). NULL when out of
 * memory; free() it. */
int *enh_graph_count_readers(const enh_graph *g, const char *dead);

/* Load-time rewrites: fuse activations into convolutions, residual adds into
 * convolutions (where the conv output has no other reader), drop dead nodes. */
enh_status enh_graph_fuse(enh_graph *g, enh_error *err);

/* LR pixels of context an output pixel depends on, measured from the input pixel it
 * sits over (floor(X / scale)); -1 when unbounded (global pooling, crops, mixed grids). */
int enh_graph_receptive_radius(const enh_graph *g);

/* Conv/deconv/FC FLOPs (2 * MAC) per input pixel, measured with shape inference. */
double enh_graph_flops_per_pixel(const enh_graph *g);

#endif
