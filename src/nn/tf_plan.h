/* tf_plan.h - a TF graph specialised for one input size (tf_spec.c builds it, tf_exec.c runs
 * it). Every graph node is a value: constants (weights, and everything folded once H x W are
 * known) have data here; the rest are computed by the steps, in order, each step writing one
 * value. Fused steps (tf_fuse.c) replace chains of nodes with one kernel.
 *
 * Ownership: a plan owns folded constant data (owned[i]), packed weights of its steps and its
 * step array; weights of Const nodes are borrowed from the graph, which must outlive the plan.
 * Thread-safety: immutable once built; any number of runs may use it at once.
 */
#ifndef ENH_NN_TF_PLAN_H
#define ENH_NN_TF_PLAN_H

#include <stdatomic.h>

#include "core/pool.h"
#include "nn/gemm.h"
#include "nn/tf_graph.h"
#include "nn/tf_ops.h"

typedef enum {
    TFS_REF = 0,  /* tf_op_eval of the node */
    TFS_VIEW,     /* same data as input 0, another shape (no work) */
    TFS_DENSE,    /* [.., K] x packed [K, N] + bias (+ act, + residual): Einsum abcg,gf->abcf, 1x1 conv */
    TFS_CONV,     /* NHWC conv (im2col + GEMM) + bias (+ act) */
    TFS_DECONV,   /* NHWC transposed conv, stride == kernel (GEMM + scatter) + bias */
    TFS_EW,       /* fused element-wise program (tf_ew.h) */
    TFS_LAYERNORM,/* over the last axis: (x - mean) * rsqrt(max(var, 0) + eps) * g + b */
    TFS_AXISMIX,  /* contraction of one axis with a constant sparse matrix (the resize Einsums) */
    TFS_REDUCE,   /* Sum / Mean over a contiguous run of axes: out[o, i] = sum_r in[o, r, i] */
    TFS_CONCAT,   /* ConcatV2 of computed float tensors, rows split over the pool */
    TFS_DEAD,     /* absorbed into a later fused step */
} tf_step_kind;

#define TF_STEP_MAXIN 16

struct tf_ew_prog;
struct tf_axismix;

typedef struct tf_step {
    tf_step_kind kind;
    int node;          /* graph node this step computes (its value id) */
    int nin;
    int in[TF_STEP_MAXIN]; /* value ids read (computed inputs; fused steps: all they read) */
    /* DENSE / CONV / DECONV */
    enh_gemm_b *gemm;
    int gemm_shared;   /* gemm belongs to the graph's pack cache (not freed with the step) */
    int act;           /* enh_gemm_act */
    float alpha;
    int residual;      /* value id added after the activation, -1 = none */
    int kh, kw, sh, sw, pt, pl, cin, cout;
    float *bias;       /* DECONV: owned copy, cout entries */
    /* EW / AXISMIX */
    struct tf_ew_prog *ew;
    struct tf_axismix *mix;
    /* REDUCE: outer x red x inner, scale (1 for Sum, 1/red for Mean) */
    long r_outer, r_red, r_inner;
    float r_scale;
    int r_square;      /* sum of squares (the Square before the Sum fused) */
    /* LAYERNORM */
    const float *gamma, *beta;
    float eps;
    int perm[TF_MAXRANK];
} tf_step;

typedef struct tf_plan {
    int h, w;              /* specialised input size (of the padded input) */
    const tf_graph *g;
    tf_tensor *val;        /* g->n values: shape, dtype, and data for constants */
    unsigned char *is_const;
    void **owned;          /* folded data owned by the plan (NULL = borrowed) */
    tf_step *steps;
    int nsteps;
    int output;
    /* memory: value i of a computed step lives at arena + offset[i] (views: their root's) */
    size_t *offset;
    size_t arena_bytes;
    int *root;             /* value id whose buffer a value uses (itself unless a view) */
    /* one idle arena kept between runs (up to TF_SPARE_MAX bytes): a run of the same size
     * then pays no page faults for its activations (128 MB at 256 x 256) */
    _Atomic(void *) spare;
} tf_plan;
#define TF_SPARE_MAX ((size_t)512 << 20)

/* Builds the plan for an input of 1 x h x w x c. */
enh_status tf_plan_build(const tf_graph *g, int h, int w, int c, tf_plan **out, enh_error *err);
/* Same; fuse 0 keeps every node a reference step (tf_ops_eval.c): the twin the fused kernels
 * are tested against. */
enh_status tf_plan_build_ex(const tf_graph *g, int h, int w, int c, int fuse, tf_plan **out, enh_error *err);
void tf_plan_free(tf_plan *p);
/* Runs it: in 1 x h x w x c, out the output value's elements (copied). The plan is only
 * written through its spare-arena slot (atomic), so concurrent runs are safe. prof: NULL, or
 * TF_PROF_SLOTS seconds accumulated per step kind (slots 0..TFS_DEAD) and, for TFS_REF
 * steps, per op (TFS_DEAD + 1 + op), then one slot per step (TF_PROF_SLOTS + step index). */
#define TF_PROF_SLOTS (TFS_DEAD + 1 + TFOP_COUNT)
enh_status tf_plan_run(tf_plan *p, const float *in, float *out, size_t out_count, enh_pool *pool,
                       double *prof, enh_error *err);

#endif
