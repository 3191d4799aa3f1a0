/* tf_kern.h - the fused kernels of the TF runtime's steps (tf_plan.h): Dense and convolutions
 * through the packed GEMM, LayerNorm, element-wise programs, sparse axis mixes, transposes.
 * Each has a reference semantics in tf_ops_eval.c (the unfused nodes it replaces); the tests
 * run plans with and without fusion against each other.
 * Thread-safety: reentrant; work is split over the pool. Fails only with ENH_ENOMEM (the
 * scratch of an im2col chunk or a transposed convolution); shapes were checked when the plan
 * was built. */
#ifndef ENH_NN_TF_KERN_H
#define ENH_NN_TF_KERN_H

#include "nn/tf_plan.h"

enh_status tf_kern_run(const tf_plan *p, const tf_step *s, const void *const *in, const void *residual, void *out,
                       enh_pool *pool);

#endif
