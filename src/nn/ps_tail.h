/* ps_tail.h - the SR nets' tail run in the last convolution's epilogue:
 *   Conv -> PixelShuffle(r) -> BinaryOp add, the other operand being either Interp nearest x r
 *   of a low-resolution tensor (realesr-general-x4v3, realesr-animevideov3) or a tensor of
 *   the output's shape.
 * Unfused, the shuffle, the upsample and the add are three more passes over the full-size
 * output (x4fast at 256x256: 48 MB written and read again, 17 ms of 360 on one core).
 * Fused, each piece of the conv output is shuffled, added and written to the final tensor
 * by the thread that computed it, while it is in that core's cache (enh_conv_plan_run_post),
 * and the executor skips the PixelShuffle, Interp and BinaryOp nodes. The graph is not
 * rewritten: shapes, the memory plan and the receptive field stay those of the plain ops, and
 * the executor falls back to them when a run's shapes or buffers do not allow the fusion.
 * The result is bit-identical to the unfused ops (one float add per output value, as there).
 * Thread-safety: enh_ps_tail_find is pure; enh_ps_tail_box only reads its context. */
#ifndef ENH_NN_PS_TAIL_H
#define ENH_NN_PS_TAIL_H

#include "nn/graph.h"

typedef struct enh_ps_tail {
    int ps, interp, add; /* node indices (interp -1: the add reads a full-size tensor); add -1 = none */
    int src;             /* the tensor added: the Interp's input, or the full-size operand */
} enh_ps_tail;

/* Whether node `conv` heads such a tail: fills *t (t->add = -1 when not). readers: the
 * reader counts of enh_graph_count_readers(g, NULL). Only the nodes right after the conv are
 * considered (the PixelShuffle, at most one Interp, the add), so no other node can run between
 * the fused write and the nodes it replaces. */
void enh_ps_tail_find(const enh_graph *g, int conv, const int *readers, enh_ps_tail *t);

/* One run of a fused tail (the argument of enh_ps_tail_box). */
typedef struct enh_ps_tail_run {
    const float *raw; /* conv output: n x (oc*r*r) x h x w */
    const float *src; /* added: n x oc x h x w (src_low) or n x oc x h*r x w*r */
    float *out;       /* n x oc x h*r x w*r */
    int oc, h, w, r, dcr, src_low;
} enh_ps_tail_run;

/* An enh_conv_post_fn: shuffles conv rows [y0,y1) x cols [x0,x1) of image img into out and
 * adds src there. */
void enh_ps_tail_box(void *run, int img, int y0, int y1, int x0, int x1);

#endif
