/* elt_tail.c - Conv -> Eltwise sum in the conv's epilogue (see elt_tail.h). */
#include "nn/elt_tail.h"

#include <stddef.h>

#include "nn/v4.h"

int enh_elt_tail_find(const enh_graph *g, int conv, const int *readers)
{
    const enh_node *c = &g->nodes[conv];
    /* sigmoid runs after the conv: the epilogue would come too early */
    if (c->op != ENH_OP_CONV || conv + 1 >= g->nnodes || readers[c->out] != 1 ||
        !enh_nact_in_conv_epilogue(c->act.kind))
        return -1;
    const enh_node *e = &g->nodes[conv + 1];
    if (e->op != ENH_OP_ELTWISE || e->p.elt.op != ENH_ELT_SUM || e->nin < 1 || e->nin > ENH_ELT_TAIL_MAX)
        return -1;
    int uses = 0;
    for (int k = 0; k < e->nin; k++)
        uses += e->in[k] == c->out;
    return uses == 1 ? conv + 1 : -1;
}

/* 4-float vectors (v4.h); the same operations in the same order per value as the scalar tail,
 * so the result does not depend on the split */
void enh_elt_tail_box(void *run, int img, int y0, int y1, int x0, int x1)
{
    const enh_elt_tail_run *t = run;
    const size_t plane = (size_t)t->h * t->w, len = (size_t)(x1 - x0);
    for (int c = 0; c < t->c; c++)
        for (int y = y0; y < y1; y++) {
            size_t off = ((size_t)img * t->c + c) * plane + (size_t)y * t->w + (size_t)x0, i = 0;
            float *o = t->out + off;
            for (; i + 4 <= len; i += 4) { /* as enh_eltwise: 0 + c0 x0, then += ck xk */
                v4 acc = 0.f + t->coeffs[0] * ld4(t->ins[0] + off + i);
                for (int k = 1; k < t->count; k++)
                    acc += t->coeffs[k] * ld4(t->ins[k] + off + i);
                st4(o + i, acc);
            }
            for (; i < len; i++) {
                float acc = 0.f + t->coeffs[0] * t->ins[0][off + i];
                for (int k = 1; k < t->count; k++)
                    acc += t->coeffs[k] * t->ins[k][off + i];
                o[i] = acc;
            }
        }
}
