/* tf_ew.h - fused element-wise programs: a tree of element-wise TF ops (unary, binary with
 * numpy broadcasting, SelectV2) of one output shape, run in one pass over the output in blocks
 * that stay in L1, split over the pool by rows. Leaves are values read with broadcast strides
 * (computed inputs or constants). Also the matching of a program against GEMM epilogues.
 * Ownership: a program is owned by its step (tf_ew_free). Thread-safety: immutable once built.
 * Errors: ENH_ENOMEM only. */
#ifndef ENH_NN_TF_EW_H
#define ENH_NN_TF_EW_H

#include "nn/tf_plan.h"

typedef struct tf_ew_prog tf_ew_prog;

/* Forms the groups (pass 2 of tf_fuse.h) and turns them into TFS_EW steps. */
enh_status tf_ew_group(tf_plan *p, const int *readers, enh_error *err);
void tf_ew_free(tf_ew_prog *e);
/* 1 when the program only copies its leaf through strides (tf_copy_run runs those faster). */
int tf_ew_is_copy(const tf_ew_prog *e);
/* Transpose / StridedSlice / BroadcastTo of computed floats -> instruction-less programs
 * (tf_move.c; before tf_ew_group). */
enh_status tf_copy_steps(tf_plan *p, enh_error *err);
/* ConcatV2 of computed floats -> TFS_CONCAT steps, and their kernel (tf_move.c). */
enh_status tf_concat_steps(tf_plan *p, enh_error *err);
void tf_concat_run(const tf_plan *p, const tf_step *s, const void *const *in, float *out, enh_pool *pool);
/* A strided copy: rows by memcpy, or 2-D tiles transposed through L1 (tf_move.c). */
void tf_copy_run(const tf_ew_prog *e, const void *src, float *out, enh_pool *pool);
/* Runs it: leaves[i] = data of the program's i-th leaf (the step's in[i]), out its output. */
void tf_ew_run(const tf_ew_prog *e, const void *const *leaves, float *out, enh_pool *pool);

/* The program's leaves (value ids), and its value on n <= 256 elements given one array per
 * leaf (already broadcast): for probing what a program computes. */
int tf_ew_nleaf(const tf_ew_prog *e);
int tf_ew_leaf(const tf_ew_prog *e, int i);
void tf_ew_eval(const tf_ew_prog *e, const float *const *leaf_arrays, int n, float *out);

typedef struct {
    int act;      /* enh_gemm_act */
    float alpha;
    int residual; /* value id added after the activation, -1 none */
} tf_ew_match;
/* 0 when the program computes act(x) or act(x) + r of the value x (probed numerically). */
int tf_ew_match_epilogue(const tf_ew_prog *e, int x, const tf_plan *p, tf_ew_match *m);

/* Sum / Mean over contiguous axes of a computed float tensor -> TFS_REDUCE steps. */
enh_status tf_reduce_steps(tf_plan *p, const int *readers, enh_error *err);
void tf_reduce_run(const tf_step *s, const float *x, float *out, enh_pool *pool);

/* LayerNorm over the last axis (tf_layernorm.c): the Flax pattern -> TFS_LAYERNORM steps. */
enh_status tf_layernorm_fuse(tf_plan *p, const int *readers, enh_error *err);
void tf_layernorm_run(const tf_step *s, const float *x, float *out, enh_pool *pool);

/* Sparse axis mixes (the resize Einsums; tf_axismix.c). */
typedef struct tf_axismix tf_axismix;
enh_status tf_axismix_fuse(tf_plan *p, enh_error *err);
void tf_axismix_free(tf_axismix *m);
void tf_axismix_run(const tf_axismix *m, const float *x, float *out, enh_pool *pool);

#endif
