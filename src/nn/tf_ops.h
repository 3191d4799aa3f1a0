/* tf_ops.h - reference semantics of the TF ops (shape inference and evaluation on N-d
 * tensors). Used to fold the constant part of a graph once H x W are known, and to run the
 * ops that have no fused fast kernel (tf_exec.c).
 *
 * tf_op_infer: output dtype and shape from the inputs' dtypes and shapes; inputs that give
 * a shape (Reshape's shape, Transpose's perm, Sum's axes, ...) must have data, else
 * ENH_EUNSUPPORTED ("not constant"). tf_op_eval: writes out->data (allocated by the caller
 * for out->s, 4 bytes per element) from the inputs' data.
 * Thread-safety: pure functions. Errors name the node. */
#ifndef ENH_NN_TF_OPS_H
#define ENH_NN_TF_OPS_H

#include "nn/tf_graph.h"

enh_status tf_op_infer(const tf_node *n, const tf_tensor *ins, tf_tensor *out, enh_error *err);
enh_status tf_op_eval(const tf_node *n, const tf_tensor *ins, tf_tensor *out, enh_error *err);

/* Which inputs of op n must be constant for shape inference (bit i = input i). */
unsigned tf_op_const_inputs(const tf_node *n);
/* Ops whose output is its (only data) input with another shape: no copy is needed. */
int tf_op_is_view(tf_opk op);

/* Element-wise helpers shared with the fused kernels. */
typedef enum { TF_UN_ABS, TF_UN_EXP, TF_UN_NEG, TF_UN_FLOOR, TF_UN_RSQRT, TF_UN_RECIP, TF_UN_SIGN, TF_UN_SQUARE,
               TF_UN_TANH, TF_UN_SQRT, TF_UN_RELU, TF_UN_SIGMOID, TF_UN_LOG, TF_UN_NONE } tf_unary;
typedef enum { TF_BI_ADD, TF_BI_SUB, TF_BI_MUL, TF_BI_DIV, TF_BI_MAX, TF_BI_MIN, TF_BI_FLOORDIV, TF_BI_FLOORMOD,
               TF_BI_POW, TF_BI_SQDIFF, TF_BI_GT, TF_BI_GE, TF_BI_LT, TF_BI_LE, TF_BI_EQ, TF_BI_NE, TF_BI_AND,
               TF_BI_OR, TF_BI_NONE } tf_binary;
tf_unary tf_op_unary(tf_opk op);
tf_binary tf_op_binary(tf_opk op);
float tf_unary_f(tf_unary u, float x);
float tf_binary_f(tf_binary b, float x, float y); /* comparisons give 0/1 */

/* Broadcast shape of a and b (numpy rules); -1 when incompatible. */
int tf_broadcast_shape(const tf_shape *a, const tf_shape *b, tf_shape *out);

#endif
