/* ops_ref.h - reference kernels for every non-convolution op of the graph IR (plus the
 * transposed convolution). Plain C, obviously correct, float math with double
 * accumulation where values are summed; these are the oracle for any faster version.
 *
 * All tensors are float32 NCHW with the batch n shared by inputs and output; shapes are
 * per image (enh_shape). Outputs never alias inputs (the memory planner guarantees it),
 * except enh_act_ref which works in place. Thread-safety: pure functions; `pool` (NULL =
 * enh_pool_default()) parallelises over planes where it pays. No function can fail:
 * shapes are validated beforehand by enh_graph_infer_shapes.
 */
#ifndef ENH_NN_OPS_REF_H
#define ENH_NN_OPS_REF_H

#include <stddef.h>

#include "core/pool.h"
#include "nn/graph.h"

/* In place over n images of c planes of `plane` values. PReLU: slopes per channel (or 1). */
void enh_act_ref(const enh_activation *a, float *x, int n, int c, size_t plane, enh_pool *pool);
float enh_act_one(const enh_activation *a, int channel, float v);

void enh_pixelshuffle_ref(const float *in, int n, enh_shape s, int r, int dcr, float *out);
void enh_interp_ref(const enh_node *node, const float *in, int n, enh_shape s, enh_shape os, float *out,
                    enh_pool *pool);
/* 1 when the Interp node maps s to os as a nearest upscale by exactly r on both axes (every
 * output row/column d reads source d / r), i.e. it can be read as in[y / r][x / r]. */
int enh_interp_is_nearest_by(const enh_node *node, enh_shape s, enh_shape os, int r);
/* a (op) b for one pair of values */
float enh_bin_one(enh_binop op, float a, float b);
/* out = a (op) b with numpy broadcasting of (c, h, w); b NULL = the node's scalar */
void enh_binary_ref(enh_binop op, const float *a, enh_shape sa, const float *b, enh_shape sb,
                    float scalar, int n, enh_shape so, float *out);
void enh_eltwise_ref(enh_eltop op, const float *coeffs, const float *const *ins, int count, int n,
                     enh_shape s, float *out);
void enh_concat_ref(int axis, const float *const *ins, const enh_shape *shapes, int count, int n,
                    enh_shape so, float *out);
void enh_crop_ref(const float *in, int n, enh_shape s, const int start[3], enh_shape so, float *out);
void enh_pool2d_ref(const enh_node *node, const float *in, int n, enh_shape s, enh_shape so, float *out,
                    enh_pool *pool);
void enh_deconv_ref(const enh_node *node, const float *in, int n, enh_shape s, enh_shape so, float *out,
                    enh_pool *pool);
void enh_fc_ref(const enh_node *node, const float *in, int n, float *out);

#endif
