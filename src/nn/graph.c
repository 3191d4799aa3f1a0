/* graph.c - graph IR storage and structural validation (see graph.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/graph.h"

enh_graph *enh_graph_new(void)
{
    enh_graph *g = calloc(1, sizeof *g);
    if (g) {
        g->input = -1;
        g->output = -1;
        g->in_channels = 3;
    }
    return g;
}

void enh_node_clear(enh_node *n)
{
    free(n->in);
    n->in = NULL;
    enh_free(n->act.slopes);
    n->act.slopes = NULL;
    switch (n->op) {
    case ENH_OP_CONV:
    case ENH_OP_DECONV:
        enh_free(n->p.conv.weight);
        enh_free(n->p.conv.bias);
        n->p.conv.weight = n->p.conv.bias = NULL;
        break;
    case ENH_OP_INNERPRODUCT:
        enh_free(n->p.fc.weight);
        enh_free(n->p.fc.bias);
        n->p.fc.weight = n->p.fc.bias = NULL;
        break;
    case ENH_OP_ELTWISE:
        free(n->p.elt.coeffs);
        n->p.elt.coeffs = NULL;
        break;
    default:
        break;
    }
}

void enh_graph_free(enh_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->nnodes; i++)
        enh_node_clear(&g->nodes[i]);
    free(g->nodes);
    free(g);
}

enh_node *enh_graph_add(enh_graph *g, enh_op op, const char *name, int nin)
{
    if (g->nnodes == g->cap) {
        int cap = g->cap ? g->cap * 2 : 64;
        enh_node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn)
            return NULL;
        g->nodes = nn;
        g->cap = cap;
    }
    enh_node *n = &g->nodes[g->nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->out = -1;
    snprintf(n->name, sizeof n->name, "%s", name ? name : "");
    if (nin > 0) {
        n->in = calloc((size_t)nin, sizeof *n->in);
        if (!n->in)
            return NULL;
    }
    n->nin = nin;
    g->nnodes++;
    return n;
}

const char *enh_op_name(enh_op op)
{
    static const char *names[ENH_OP_COUNT] = {
        "Input", "Convolution", "Deconvolution", "Activation", "PixelShuffle", "Interp",
        "BinaryOp", "Eltwise", "Concat", "Crop", "Pooling", "InnerProduct"};
    return op >= 0 && op < ENH_OP_COUNT ? names[op] : "?";
}

enh_status enh_graph_validate(const enh_graph *g, enh_error *err)
{
    if (g->nnodes == 0)
        return enh_fail(err, ENH_EINVAL, "model graph has no layers");
    if (g->input < 0 || g->input >= g->ntensors)
        return enh_fail(err, ENH_EINVAL, "model graph has no Input layer");
    if (g->output < 0 || g->output >= g->ntensors)
        return enh_fail(err, ENH_EINVAL, "model graph has no output");
    char *defined = calloc((size_t)g->ntensors, 1);
    if (!defined)
        return enh_fail(err, ENH_ENOMEM, "out of memory validating the graph");
    enh_status st = ENH_OK;
    for (int i = 0; i < g->nnodes && st == ENH_OK; i++) {
        const enh_node *n = &g->nodes[i];
        int need = n->op == ENH_OP_INPUT ? 0 : n->op == ENH_OP_BINARY && !n->p.bin.with_scalar ? 2 : 1;
        if (n->nin < need || n->nin > ENH_GRAPH_MAX_INPUTS || (n->op == ENH_OP_INPUT && n->nin) ||
            (n->nin && !n->in)) {
            st = enh_fail(err, ENH_EINVAL, "layer '%s' (%s) has %d inputs; it needs %d%s (at most %d)", n->name,
                          enh_op_name(n->op), n->nin, need, n->op == ENH_OP_INPUT ? "" : " or more",
                          ENH_GRAPH_MAX_INPUTS);
            break;
        }
        for (int k = 0; k < n->nin; k++) {
            int t = n->in[k];
            if (t < 0 || t >= g->ntensors || !defined[t]) {
                st = enh_fail(err, ENH_EINVAL, "layer '%s' reads a blob before it is produced", n->name);
                break;
            }
        }
        if (st != ENH_OK)
            break;
        if (n->out < 0 || n->out >= g->ntensors || defined[n->out]) {
            st = enh_fail(err, ENH_EINVAL, "layer '%s' writes an invalid or already produced blob", n->name);
            break;
        }
        defined[n->out] = 1;
        if ((n->op == ENH_OP_INPUT) != (n->out == g->input))
            st = enh_fail(err, ENH_EINVAL, "layer '%s': only one Input layer is supported", n->name);
    }
    if (st == ENH_OK && !defined[g->output])
        st = enh_fail(err, ENH_EINVAL, "the model output blob is never produced");
    free(defined);
    return st;
}
