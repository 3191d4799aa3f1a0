/* model.h - runtime internals beside the public nn.h: building a model from a graph IR
 * (any loader, or a test's synthetic graph) and the executor's statistics.
 * Ownership: enh_model_from_graph takes the graph (freed with the model, also on error).
 * Thread-safety: as nn.h (a built model is immutable). */
#ifndef ENH_NN_MODEL_H
#define ENH_NN_MODEL_H

#include "nn/graph.h"
#include "nn/nn.h"

/* Fuses (enh_graph_fuse), validates, creates a conv plan for every convolution. */
enh_status enh_model_from_graph(enh_graph *g, enh_model **out, enh_error *err);
/* Same with runtime options (nn_options.h; NULL = the process default). */
enh_status enh_model_from_graph_ex(enh_graph *g, const enh_nn_options *opt, enh_model **out, enh_error *err);
/* Same without fusion (for tests that compare fused against unfused execution). */
enh_status enh_model_from_graph_unfused(enh_graph *g, enh_model **out, enh_error *err);

const enh_graph *enh_model_graph(const enh_model *m);
/* Output size for an input of h x w (shape inference); -1 when the shapes do not infer,
 * -2 when memory ran out (not a property of the model). */
int enh_model_output_size(const enh_model *m, int h, int w, int *oc, int *oh, int *ow);
/* As enh_model_run (nn.h) for any graph, classifiers included (no fixed-scale rule): out gets
 * n images of the output tensor, enh_model_output_size(h, w) each. */
enh_status enh_model_run_graph(const enh_model *m, const float *in, int n, int h, int w, float *out,
                               enh_pool *pool, enh_error *err);
/* Name of the kernel of the first convolution plan ("ref", ...), "" when none. */
const char *enh_model_kernel_name(const enh_model *m);

#endif
