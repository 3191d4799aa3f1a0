/* graph_fuse.c - load-time graph rewrites (see enh_graph_fuse in graph.h):
 *  1. an activation layer right after a convolution whose output nobody else reads is
 *     folded into the convolution (ncnn's own 9= activation is already there);
 *  2. a residual add (BinaryOp add of equal shapes, Eltwise sum with coefficients
 *     [c, 1]) of a convolution output nobody else reads becomes the convolution's
 *     `residual` input; a coefficient c > 0 is folded into the weights and bias, which
 *     is exact math because ReLU / LeakyReLU / PReLU are positively homogeneous (Clip is not:
 *     a clipped conv only takes coefficient 1).
 * Shapes are probed at two input sizes so broadcasting adds are never fused (at the graph's
 * fixed size when it has one: it never runs at another). */
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"

int *enh_graph_count_readers(const enh_graph *g, const char *dead)
{
    int *rd = calloc((size_t)g->ntensors + 1, sizeof *rd);
    if (!rd)
        return NULL;
    for (int i = 0; i < g->nnodes; i++)
        if (!dead || !dead[i])
            for (int k = 0; k < g->nodes[i].nin; k++)
                rd[g->nodes[i].in[k]]++;
    rd[g->output]++;
    return rd;
}

static int same_shape(const enh_shape *a, const enh_shape *b)
{
    return a->c == b->c && a->h == b->h && a->w == b->w;
}

enh_status enh_graph_fuse(enh_graph *g, enh_error *err)
{
    int nn = g->nnodes;
    char *dead = calloc((size_t)nn, 1);
    int *producer = malloc((size_t)g->ntensors * sizeof *producer);
    enh_shape *s1 = calloc((size_t)g->ntensors, sizeof *s1), *s2 = calloc((size_t)g->ntensors, sizeof *s2);
    int *rd = NULL;
    if (!dead || !producer || !s1 || !s2) {
        free(dead);
        free(producer);
        free(s1);
        free(s2);
        return enh_fail(err, ENH_ENOMEM, "out of memory optimising the graph");
    }
    int fixed = g->fixed_h > 0 && g->fixed_w > 0; /* then that one size is the only one to check */
    int probe = enh_graph_infer_shapes(g, g->in_channels, fixed ? g->fixed_h : 37, fixed ? g->fixed_w : 29, s1,
                                       NULL) == ENH_OK &&
                enh_graph_infer_shapes(g, g->in_channels, fixed ? g->fixed_h : 48, fixed ? g->fixed_w : 64, s2,
                                       NULL) == ENH_OK;
    for (int i = 0; i < g->ntensors; i++)
        producer[i] = -1;
    for (int i = 0; i < nn; i++)
        producer[g->nodes[i].out] = i;

    /* 1. activation folding */
    if (!(rd = enh_graph_count_readers(g, dead)))
        goto oom;
    for (int i = 0; i < nn; i++) {
        enh_node *a = &g->nodes[i];
        if (a->op != ENH_OP_ACT)
            continue;
        int t = a->in[0], p = producer[t];
        if (p < 0 || rd[t] != 1)
            continue;
        enh_node *c = &g->nodes[p];
        if ((c->op != ENH_OP_CONV && c->op != ENH_OP_DECONV) || c->act.kind != ENH_NACT_NONE || c->nin != 1)
            continue;
        if (a->act.kind == ENH_NACT_PRELU && a->act.nslopes != 1 && a->act.nslopes != c->p.conv.cout)
            continue;
        c->act = a->act;
        a->act.slopes = NULL; /* moved */
        c->out = a->out;
        producer[c->out] = p;
        dead[i] = 1;
    }
    free(rd);

    /* 2. residual adds */
    if (!(rd = enh_graph_count_readers(g, dead)))
        goto oom;
    for (int i = 0; i < nn && probe; i++) {
        enh_node *add = &g->nodes[i];
        if (dead[i] || add->nin != 2)
            continue;
        int is_add = add->op == ENH_OP_BINARY && add->p.bin.op == ENH_BIN_ADD && !add->p.bin.with_scalar;
        int is_sum = add->op == ENH_OP_ELTWISE && add->p.elt.op == ENH_ELT_SUM;
        if (!is_add && !is_sum)
            continue;
        for (int side = 0; side < 2; side++) {
            int tc = add->in[side], to = add->in[1 - side], p = producer[tc];
            if (p < 0 || rd[tc] != 1 || tc == to)
                continue;
            enh_node *c = &g->nodes[p];
            if (c->op != ENH_OP_CONV || c->nin != 1 || !enh_nact_in_conv_epilogue(c->act.kind))
                continue;
            if (producer[to] >= p) /* the residual must exist before the conv runs */
                continue;
            if (!same_shape(&s1[tc], &s1[to]) || !same_shape(&s2[tc], &s2[to]))
                continue;
            float cc = 1.f, co = 1.f;
            if (is_sum && add->p.elt.coeffs) {
                cc = add->p.elt.coeffs[side];
                co = add->p.elt.coeffs[1 - side];
            }
            if (co != 1.f || !(cc > 0.f) || (cc != 1.f && c->act.kind == ENH_NACT_CLIP))
                continue;
            if (cc != 1.f) {
                size_t nw = (size_t)c->p.conv.cout * (c->p.conv.cin / c->p.conv.groups) * c->p.conv.kh * c->p.conv.kw;
                for (size_t k = 0; k < nw; k++)
                    c->p.conv.weight[k] *= cc;
                if (c->p.conv.bias)
                    for (int k = 0; k < c->p.conv.cout; k++)
                        c->p.conv.bias[k] *= cc;
            }
            int *nin = realloc(c->in, 2 * sizeof *nin);
            if (!nin)
                goto oom;
            c->in = nin;
            c->in[1] = to;
            c->nin = 2;
            c->out = add->out;
            producer[c->out] = p;
            dead[i] = 1;
            break;
        }
    }
    free(rd);
    rd = NULL;

    /* compact */
    int w = 0;
    for (int i = 0; i < nn; i++) {
        if (dead[i]) {
            enh_node_clear(&g->nodes[i]);
            continue;
        }
        if (w != i)
            g->nodes[w] = g->nodes[i];
        w++;
    }
    g->nnodes = w;
    free(dead);
    free(producer);
    free(s1);
    free(s2);
    return enh_graph_validate(g, err);
oom:
    free(rd);
    free(dead);
    free(producer);
    free(s1);
    free(s2);
    return enh_fail(err, ENH_ENOMEM, "out of memory optimising the graph");
}
