/* elt_tail.h - a weighted sum right after a convolution, run in the conv's epilogue:
 *   Conv -> Eltwise sum (coefficients), the conv output being one of the summed tensors and
 *   read by nothing else. x4plus has 23: each RRDB's x + 0.2 * (its last RDB), where the RDB's
 *   own residual is already folded into the conv (graph_fuse.c), so this one cannot be.
 * Fused, each piece of the conv output is summed into the Eltwise's output by the thread that
 * computed it, while it is in that core's cache (enh_conv_plan_run_ex's post hook), and the
 * executor skips the Eltwise node: one pass over the activations and one pool job fewer. The
 * memory planner places the Eltwise's output with the conv's (enh_memplan_build_ex), so it
 * never shares memory with what the conv reads. Same arithmetic, same order as enh_eltwise:
 * bit-identical results. Thread-safety: find is pure; box only reads its context. */
#ifndef ENH_NN_ELT_TAIL_H
#define ENH_NN_ELT_TAIL_H

#include "nn/graph.h"

#define ENH_ELT_TAIL_MAX 8 /* summed tensors */

/* The Eltwise node that node `conv` feeds as described, or -1. readers: the reader counts of
 * enh_graph_count_readers(g, NULL). */
int enh_elt_tail_find(const enh_graph *g, int conv, const int *readers);

/* One run of a fused sum (the argument of enh_elt_tail_box). */
typedef struct enh_elt_tail_run {
    const float *ins[ENH_ELT_TAIL_MAX]; /* n x c x h x w each, in the Eltwise's input order */
    float coeffs[ENH_ELT_TAIL_MAX];
    int count;
    float *out;
    int c, h, w;
} enh_elt_tail_run;

/* An enh_conv_post_fn: out = sum_k coeffs[k] * ins[k] over rows [y0,y1) x cols [x0,x1) of
 * image img, every channel. */
void enh_elt_tail_box(void *run, int img, int y0, int y1, int x0, int x1);

#endif
