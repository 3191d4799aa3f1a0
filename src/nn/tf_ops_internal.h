/* tf_ops_internal.h - helpers shared by tf_ops_infer.c and tf_ops_eval.c (and the fused kernels
 * that need the same index rules). Pure functions, no state. */
#ifndef ENH_NN_TF_OPS_INTERNAL_H
#define ENH_NN_TF_OPS_INTERNAL_H

#include "nn/tf_graph.h"

/* StridedSlice resolved against the input: per input dim begin, stride, length; out = the
 * output shape (new axes added, shrunk axes removed). */
typedef struct {
    int begin[TF_MAXRANK], stride[TF_MAXRANK], len[TF_MAXRANK];
    tf_shape out;
} tf_slice_plan;
int tf_strided_slice_plan(const tf_node *n, const tf_tensor *ins, tf_slice_plan *p);

typedef struct {
    char a[TF_MAXRANK + 1], b[TF_MAXRANK + 1], o[TF_MAXRANK + 1];
    int na, nb, no;
} tf_einsum;
int tf_einsum_parse(const char *eq, tf_einsum *e);

int tf_const_ints(const tf_tensor *t, int *v, int max);

/* Strides of `in` read as a tensor of shape `out` (numpy broadcasting: 0 where in has 1 and out
 * does not), in elements. */
void tf_bcast_strides(const tf_shape *in, const tf_shape *out, long *st);

#endif
