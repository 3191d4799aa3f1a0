/* memplan_concat.c - channel concats without copies (see memplan.h, enh_memplan_concat_views).
 *
 * Dense blocks (x4plus's RDBs) concatenate a growing list of tensors: cat1 = [x0 x1],
 * cat2 = [x0 x1 x2], ... cat4 = [x0 .. x4]. With one image, a channel concat of NCHW tensors
 * is their buffers end to end, so when every such list is a prefix of the longest one, all
 * the x_i can be written in place inside one buffer (the longest concat's output, the
 * "root") and every concat of the chain is a view of that buffer's start: no copy at all.
 * A chain is accepted only when each member is used by concats of that chain alone (at the
 * same position, which the prefix rule gives), is not the graph input or output, is not a
 * concat's output itself, and appears once per concat.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/memplan.h"

static int is_channel_concat(const enh_node *nd) { return nd->op == ENH_OP_CONCAT && nd->p.concat.axis == 0; }

/* 1 when the inputs of a are a prefix of the inputs of b */
static int prefix_of(const enh_node *a, const enh_node *b)
{
    if (a->nin > b->nin)
        return 0;
    for (int k = 0; k < a->nin; k++)
        if (a->in[k] != b->in[k])
            return 0;
    return 1;
}

/* Checks the chain rooted at concat node r (members: nodes with chain[i] == r) and, when it
 * is acceptable, records the views. */
static void try_chain(const enh_graph *g, const int *producer, const int *chain, int r, int *root, size_t *choff,
                      const enh_shape *shapes)
{
    const enh_node *rn = &g->nodes[r];
    if (rn->out == g->output || rn->out == g->input || root[rn->out] >= 0)
        return;
    for (int k = 0; k < rn->nin; k++) {
        int t = rn->in[k];
        if (t == g->input || t == g->output || root[t] >= 0 || producer[t] < 0 ||
            g->nodes[producer[t]].op == ENH_OP_CONCAT)
            return;
        for (int q = 0; q < k; q++)
            if (rn->in[q] == t)
                return; /* the same tensor twice */
    }
    /* every concat that reads a member must belong to this chain */
    for (int i = 0; i < g->nnodes; i++) {
        const enh_node *nd = &g->nodes[i];
        if (nd->op != ENH_OP_CONCAT || chain[i] == r)
            continue;
        for (int k = 0; k < nd->nin; k++)
            for (int q = 0; q < rn->nin; q++)
                if (nd->in[k] == rn->in[q])
                    return;
    }
    size_t off = 0;
    for (int k = 0; k < rn->nin; k++) {
        int t = rn->in[k];
        root[t] = rn->out;
        choff[t] = off;
        off += (size_t)shapes[t].c * shapes[t].h * shapes[t].w;
    }
    for (int i = 0; i < g->nnodes; i++)
        if (chain[i] == r && i != r) {
            root[g->nodes[i].out] = rn->out;
            choff[g->nodes[i].out] = 0;
        }
}

int enh_memplan_concat_views(const enh_graph *g, const enh_shape *shapes, int *root, size_t *choff,
                             unsigned char *skip)
{
    int *producer = malloc((size_t)g->ntensors * sizeof *producer);
    int *chain = malloc((size_t)g->nnodes * sizeof *chain);
    if (!producer || !chain) {
        free(producer);
        free(chain);
        return -1;
    }
    for (int t = 0; t < g->ntensors; t++)
        producer[t] = -1;
    for (int i = 0; i < g->nnodes; i++) {
        producer[g->nodes[i].out] = i;
        chain[i] = -1;
    }
    /* roots: channel concats that are no prefix of a longer one; members: their prefixes */
    for (int i = 0; i < g->nnodes; i++) {
        if (!is_channel_concat(&g->nodes[i]))
            continue;
        int longest = i;
        for (int j = 0; j < g->nnodes; j++)
            if (j != i && is_channel_concat(&g->nodes[j]) && g->nodes[j].nin > g->nodes[longest].nin &&
                prefix_of(&g->nodes[i], &g->nodes[j]))
                longest = j;
        chain[i] = longest;
    }
    /* (a concat's longest is never itself a prefix of a longer one: prefixes are transitive and
     * the longest has the most inputs) */
    for (int r = 0; r < g->nnodes; r++)
        if (chain[r] == r)
            try_chain(g, producer, chain, r, root, choff, shapes);
    /* no copy for the chain's prefixes (views of the root) nor for the root (inputs in place) */
    for (int i = 0; i < g->nnodes; i++) {
        const enh_node *nd = &g->nodes[i];
        skip[i] = chain[i] >= 0 && (root[nd->out] >= 0 || (chain[i] == i && nd->nin > 0 && root[nd->in[0]] == nd->out));
    }
    free(producer);
    free(chain);
    return 0;
}
