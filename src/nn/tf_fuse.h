/* tf_fuse.h - rewrites a specialised plan's steps into fused kernels: Dense/conv + bias (+
 * activation, + residual) as GEMMs with packed weights, LayerNorm, chains of element-wise ops,
 * the resize Einsums as sparse axis mixes. A fusion only happens when the intermediate values
 * it swallows have no other reader.
 * Ownership: fused steps own their packed weights and programs (tf_step_clear frees them).
 * Errors: ENH_ENOMEM. */
#ifndef ENH_NN_TF_FUSE_H
#define ENH_NN_TF_FUSE_H

#include "nn/tf_plan.h"

enh_status tf_fuse(tf_plan *p, enh_error *err);
void tf_step_clear(tf_step *s);

#endif
