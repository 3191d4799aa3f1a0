/* memplan.c - liveness-based buffer reuse (see memplan.h). */
#include <stdlib.h>
#include <string.h>

#include "nn/memplan.h"

void enh_memplan_free(enh_memplan *mp)
{
    free(mp->shapes);
    free(mp->offset);
    free(mp->skip);
    memset(mp, 0, sizeof *mp);
}

/* planner state while walking the nodes */
typedef struct {
    int *slot_of, *root, nslots;
    size_t *cap;
    char *busy;
} planner;

/* Gives tensor t (or the buffer it lives in) a slot unless it has one: the smallest free slot
 * that fits, else the largest free one (grown), else a new one. */
static void place(planner *pl, const enh_graph *g, const enh_memplan *mp, int n, int t)
{
    if (pl->root[t] >= 0)
        t = pl->root[t];
    if (t == g->input || t == g->output || pl->slot_of[t] >= 0)
        return;
    const enh_shape *s = &mp->shapes[t];
    size_t need = (size_t)n * s->c * s->h * s->w;
    int best = -1, largest = -1;
    for (int k = 0; k < pl->nslots; k++) {
        if (pl->busy[k])
            continue;
        if (pl->cap[k] >= need && (best < 0 || pl->cap[k] < pl->cap[best]))
            best = k;
        if (largest < 0 || pl->cap[k] > pl->cap[largest])
            largest = k;
    }
    if (best < 0)
        best = largest >= 0 ? largest : pl->nslots++;
    if (pl->cap[best] < need)
        pl->cap[best] = need;
    pl->busy[best] = 1;
    pl->slot_of[t] = best;
}

enh_status enh_memplan_build(const enh_graph *g, int n, int c, int h, int w, enh_memplan *mp,
                             enh_error *err)
{
    return enh_memplan_build_ex(g, n, c, h, w, NULL, mp, err);
}

enh_status enh_memplan_build_ex(const enh_graph *g, int n, int c, int h, int w, const int *early,
                                enh_memplan *mp, enh_error *err)
{
    memset(mp, 0, sizeof *mp);
    int nt = g->ntensors;
    mp->ntensors = nt;
    mp->shapes = calloc((size_t)nt, sizeof *mp->shapes);
    mp->offset = malloc((size_t)nt * sizeof *mp->offset);
    int *last = malloc((size_t)nt * sizeof *last), *slot_of = malloc((size_t)nt * sizeof *slot_of);
    size_t *cap = calloc((size_t)nt, sizeof *cap);
    char *busy = calloc((size_t)nt, 1);
    int *root = malloc((size_t)nt * sizeof *root);
    size_t *choff = calloc((size_t)nt, sizeof *choff);
    mp->skip = calloc((size_t)g->nnodes + 1, 1);
    enh_status st = ENH_OK;
    if (!mp->shapes || !mp->offset || !last || !slot_of || !cap || !busy || !root || !choff || !mp->skip) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory planning activations");
        goto done;
    }
    if ((st = enh_graph_infer_shapes(g, c, h, w, mp->shapes, err)) != ENH_OK)
        goto done;
    for (int t = 0; t < nt; t++) {
        last[t] = -1;
        slot_of[t] = -1;
        root[t] = -1;
        mp->offset[t] = ENH_MEMPLAN_EXTERNAL;
    }
    if (n == 1 && enh_memplan_concat_views(g, mp->shapes, root, choff, mp->skip) != 0) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory planning activations");
        goto done;
    }
    /* a tensor placed inside another one lives in that one's buffer: its reads extend it */
    for (int i = 0; i < g->nnodes; i++)
        for (int k = 0; k < g->nodes[i].nin; k++) {
            int u = g->nodes[i].in[k];
            last[u] = i;
            if (root[u] >= 0)
                last[root[u]] = i;
        }
    planner pl = {slot_of, root, 0, cap, busy};
    for (int i = 0; i < g->nnodes; i++) {
        const enh_node *nd = &g->nodes[i];
        const enh_shape *s = &mp->shapes[nd->out];
        mp->total_floats += (size_t)n * s->c * s->h * s->w;
        place(&pl, g, mp, n, nd->out);
        if (early && early[i] >= 0) /* written by this node's epilogue: must not overlap its inputs */
            place(&pl, g, mp, n, g->nodes[early[i]].out);
        /* inputs whose last reader is this node release their slot (after the output took
         * one, so an op never writes over what it reads) */
        for (int k = 0; k < nd->nin; k++) {
            int u = root[nd->in[k]] >= 0 ? root[nd->in[k]] : nd->in[k];
            if (last[u] == i && slot_of[u] >= 0)
                busy[slot_of[u]] = 0;
        }
        int t = root[nd->out] >= 0 ? root[nd->out] : nd->out;
        if (last[t] < 0 && slot_of[t] >= 0) /* nobody reads it: free right away */
            busy[slot_of[t]] = 0;
    }
    int nslots = pl.nslots;
    size_t *base = calloc((size_t)nslots + 1, sizeof *base);
    if (!base) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory planning activations");
        goto done;
    }
    for (int k = 0; k < nslots; k++) /* 16-float (64-byte) aligned slots */
        base[k + 1] = base[k] + (cap[k] + 15) / 16 * 16;
    mp->arena_floats = base[nslots];
    for (int t = 0; t < nt; t++)
        if (slot_of[t] >= 0)
            mp->offset[t] = base[slot_of[t]];
    for (int t = 0; t < nt; t++)
        if (root[t] >= 0 && slot_of[root[t]] >= 0)
            mp->offset[t] = base[slot_of[root[t]]] + choff[t];
    free(base);
done:
    free(root);
    free(choff);
    free(last);
    free(slot_of);
    free(cap);
    free(busy);
    if (st != ENH_OK)
        enh_memplan_free(mp);
    return st;
}
