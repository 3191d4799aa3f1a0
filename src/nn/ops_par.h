/* ops_par.h - the layout and element-wise ops of ops_ref.h split over the thread pool.
 *
 * Same arguments and bit-identical results as their enh_*_ref oracles (tests/nn/test_nn_ops_par.c
 * checks it); the executor uses these so that the memory-bound tail of a model (x4fast's
 * pixel shuffle + upsampled-input add, x4plus's dense-block concats and residual sums) runs on
 * every core instead of one. Thread-safety: pure functions; pool NULL = enh_pool_default().
 * No function can fail (shapes are validated by enh_graph_infer_shapes).
 */
#ifndef ENH_NN_OPS_PAR_H
#define ENH_NN_OPS_PAR_H

#include "core/pool.h"
#include "nn/graph.h"

void enh_pixelshuffle(const float *in, int n, enh_shape s, int r, int dcr, float *out, enh_pool *pool);
void enh_binary(enh_binop op, const float *a, enh_shape sa, const float *b, enh_shape sb, float scalar, int n,
                enh_shape so, float *out, enh_pool *pool);
void enh_eltwise(enh_eltop op, const float *coeffs, const float *const *ins, int count, int n, enh_shape s,
                 float *out, enh_pool *pool);
void enh_concat(int axis, const float *const *ins, const enh_shape *shapes, int count, int n, enh_shape so,
                float *out, enh_pool *pool);

#endif
