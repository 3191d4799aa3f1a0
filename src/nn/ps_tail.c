/* ps_tail.c - Conv -> PixelShuffle -> add in the conv's epilogue (see ps_tail.h). */
#include "nn/ps_tail.h"

#include <stddef.h>

#include "nn/v4.h"

void enh_ps_tail_find(const enh_graph *g, int conv, const int *readers, enh_ps_tail *t)
{
    t->ps = t->interp = t->add = t->src = -1;
    const enh_node *c = &g->nodes[conv];
    /* sigmoid runs after the conv as a separate pass: the epilogue would come too early */
    if (c->op != ENH_OP_CONV || !enh_nact_in_conv_epilogue(c->act.kind) || readers[c->out] != 1 ||
        conv + 2 >= g->nnodes)
        return;
    const enh_node *ps = &g->nodes[conv + 1];
    if (ps->op != ENH_OP_PIXELSHUFFLE || ps->in[0] != c->out || readers[ps->out] != 1)
        return;
    int up = -1, ai = conv + 2;
    if (g->nodes[ai].op == ENH_OP_INTERP) { /* the upsample may sit between the shuffle and the add */
        up = ai++;
        if (ai >= g->nnodes)
            return;
    }
    const enh_node *add = &g->nodes[ai];
    if (add->op != ENH_OP_BINARY || add->p.bin.op != ENH_BIN_ADD || add->p.bin.with_scalar || add->nin != 2)
        return;
    int other = add->in[0] == ps->out ? add->in[1] : add->in[1] == ps->out ? add->in[0] : -1;
    if (other < 0 || other == ps->out)
        return;
    if (up >= 0) { /* only as the add's other operand, read by nobody else */
        const enh_node *u = &g->nodes[up];
        if (u->out != other || readers[other] != 1)
            return;
        t->src = u->in[0];
    } else {
        t->src = other;
    }
    t->ps = conv + 1;
    t->interp = up;
    t->add = ai;
}

/* One output row: o[x*r+dx] = cr[dx][x] + (low ? s[x] : s[x*r+dx]) for x in [x0, x1). */
static void row_any(float *o, const float *const *cr, const float *s, int low, int r, int x0, int x1)
{
    for (int x = x0; x < x1; x++)
        for (int dx = 0; dx < r; dx++)
            o[x * r + dx] = cr[dx][x] + (low ? s[x] : s[x * r + dx]);
}

/* The same for r = 2 and 4, four columns at a time: the r-way interleave is a transpose of
 * 4-float vectors (v4.h), the rest goes through row_any. */
static void row4(float *o, const float *const *cr, const float *s, int low, int x0, int x1)
{
    int x = x0;
    for (; x + 4 <= x1; x += 4) {
        v4 a = ld4(cr[0] + x), b = ld4(cr[1] + x), c = ld4(cr[2] + x), d = ld4(cr[3] + x);
        if (low) {
            v4 sv = ld4(s + x);
            a += sv, b += sv, c += sv, d += sv;
        }
        v4 t0 = __builtin_shufflevector(a, b, 0, 4, 1, 5), t1 = __builtin_shufflevector(a, b, 2, 6, 3, 7);
        v4 t2 = __builtin_shufflevector(c, d, 0, 4, 1, 5), t3 = __builtin_shufflevector(c, d, 2, 6, 3, 7);
        v4 q[4] = {__builtin_shufflevector(t0, t2, 0, 1, 4, 5), __builtin_shufflevector(t0, t2, 2, 3, 6, 7),
                   __builtin_shufflevector(t1, t3, 0, 1, 4, 5), __builtin_shufflevector(t1, t3, 2, 3, 6, 7)};
        for (int k = 0; k < 4; k++)
            st4(o + 4 * (x + k), low ? q[k] : q[k] + ld4(s + 4 * (x + k)));
    }
    row_any(o, cr, s, low, 4, x, x1);
}

static void row2(float *o, const float *const *cr, const float *s, int low, int x0, int x1)
{
    int x = x0;
    for (; x + 4 <= x1; x += 4) {
        v4 a = ld4(cr[0] + x), b = ld4(cr[1] + x);
        if (low) {
            v4 sv = ld4(s + x);
            a += sv, b += sv;
        }
        v4 lo = __builtin_shufflevector(a, b, 0, 4, 1, 5), hi = __builtin_shufflevector(a, b, 2, 6, 3, 7);
        st4(o + 2 * x, low ? lo : lo + ld4(s + 2 * x));
        st4(o + 2 * x + 4, low ? hi : hi + ld4(s + 2 * x + 4));
    }
    row_any(o, cr, s, low, 2, x, x1);
}

/* out[c][y*r+dy][x*r+dx] = raw[q(c,dy,dx)][y][x] + src(...) */
void enh_ps_tail_box(void *run, int img, int y0, int y1, int x0, int x1)
{
    const enh_ps_tail_run *t = run;
    const int oc = t->oc, h = t->h, w = t->w, r = t->r, oh = h * r, ow = w * r;
    const size_t plane = (size_t)h * w;
    const float *raw = t->raw + (size_t)img * oc * r * r * plane;
    for (int c = 0; c < oc; c++) {
        const float *sp = t->src + ((size_t)img * oc + c) * (t->src_low ? plane : (size_t)oh * ow);
        float *op = t->out + ((size_t)img * oc + c) * oh * ow;
        for (int y = y0; y < y1; y++)
            for (int dy = 0; dy < r; dy++) {
                float *o = op + (size_t)(y * r + dy) * ow;
                const float *s = t->src_low ? sp + (size_t)y * w : sp + (size_t)(y * r + dy) * ow;
                const float *cr[8];
                for (int dx = 0; dx < r; dx++) {
                    int q = t->dcr ? (dy * r + dx) * oc + c : (c * r + dy) * r + dx;
                    cr[dx] = raw + q * plane + (size_t)y * w;
                }
                if (r == 4)
                    row4(o, cr, s, t->src_low, x0, x1);
                else if (r == 2)
                    row2(o, cr, s, t->src_low, x0, x1);
                else
                    row_any(o, cr, s, t->src_low, r, x0, x1);
            }
    }
}
