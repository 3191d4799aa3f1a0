/* model_fuse.c - the fusions a fused model finds at load (model_internal.h): conv epilogue
 * tails (ps_tail.h, elt_tail.h) and dense-block chains that share input transforms
 * (enh_conv_vcache), and the per-run checks that a tail can run fused. Pure functions of the
 * model and the run's plan; no locking needed. */
#include <stdlib.h>
#include <string.h>

#include "nn/model_internal.h"
#include "nn/ops_ref.h"

/* The tails the executor runs in a conv's epilogue: PixelShuffle -> add (m->tails) or else a
 * weighted sum (m->elt_tail); m->early tells the memory planner what each epilogue writes. */
static enh_status find_tails(enh_model *m, enh_error *err)
{
    const enh_graph *g = m->g;
    int *readers = enh_graph_count_readers(g, NULL);
    m->tails = calloc((size_t)g->nnodes, sizeof *m->tails);
    m->elt_tail = malloc((size_t)g->nnodes * sizeof *m->elt_tail);
    m->early = malloc((size_t)g->nnodes * sizeof *m->early);
    if (!readers || !m->tails || !m->elt_tail || !m->early) {
        free(readers);
        return enh_fail(err, ENH_ENOMEM, "out of memory building the model");
    }
    for (int i = 0; i < g->nnodes; i++) {
        enh_ps_tail_find(g, i, readers, &m->tails[i]);
        m->elt_tail[i] = m->tails[i].add >= 0 ? -1 : enh_elt_tail_find(g, i, readers);
        m->early[i] = m->tails[i].add >= 0 ? m->tails[i].add : m->elt_tail[i];
        m->info.ps_tails += m->tails[i].add >= 0;
        m->info.elt_tails += m->elt_tail[i] >= 0;
    }
    free(readers);
    return ENH_OK;
}

/* The dense-block chains (memplan_concat.c finds them for the in-place concats): a conv whose
 * input is a prefix of a chain's longest tensor shares that chain's transformed inputs.
 * The no_vcache option turns this off (to measure it). */
static enh_status find_vkeys(enh_model *m, const enh_shape *sh, enh_error *err)
{
    const enh_graph *g = m->g;
    if (m->opt.no_vcache)
        return ENH_OK;
    int nt = g->ntensors;
    int *root = malloc((size_t)nt * sizeof *root);
    size_t *choff = calloc((size_t)nt, sizeof *choff);
    unsigned char *skip = calloc((size_t)g->nnodes + 1, 1), *isroot = calloc((size_t)nt, 1);
    m->vkey = malloc((size_t)g->nnodes * sizeof *m->vkey);
    enh_status st = ENH_OK;
    if (!root || !choff || !skip || !isroot || !m->vkey) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory building the model");
        goto done;
    }
    for (int t = 0; t < nt; t++)
        root[t] = -1;
    for (int i = 0; i < g->nnodes; i++)
        m->vkey[i] = -1;
    if (enh_memplan_concat_views(g, sh, root, choff, skip) != 0)
        goto done; /* no chains: every conv transforms its own input */
    for (int t = 0; t < nt; t++)
        if (root[t] >= 0)
            isroot[root[t]] = 1;
    for (int i = 0; i < g->nnodes; i++) {
        if (!m->plans[i])
            continue;
        int in = g->nodes[i].in[0];
        m->vkey[i] = root[in] >= 0 && choff[in] == 0 ? root[in] : isroot[in] ? in : -1;
    }
done:
    free(root);
    free(choff);
    free(skip);
    free(isroot);
    return st;
}

enh_status enh_model_find_fusions(enh_model *m, const enh_shape *shapes, enh_error *err)
{
    enh_status st = find_tails(m, err);
    return st == ENH_OK ? find_vkeys(m, shapes, err) : st;
}

static int disjoint(const float *a, size_t na, const float *b, size_t nb)
{
    return a + na <= b || b + nb <= a;
}

/* Whether node i's tail can be fused in this run (shapes, buffers that do not overlap), and its
 * arguments. */
int enh_model_ps_tail_setup(const enh_model *m, int i, const enh_memplan *mp, float *const *T, int n,
                            enh_ps_tail_run *tr)
{
    const enh_ps_tail *t = &m->tails[i];
    if (t->add < 0)
        return 0;
    const enh_node *c = &m->g->nodes[i], *ps = &m->g->nodes[t->ps], *add = &m->g->nodes[t->add];
    const enh_shape cs = mp->shapes[c->out], os = mp->shapes[ps->out], ss = mp->shapes[t->src];
    const int r = ps->p.ps.r;
    if (r < 1 || r > 8 || cs.c != os.c * r * r || os.h != cs.h * r || os.w != cs.w * r ||
        mp->shapes[add->out].c != os.c || mp->shapes[add->out].h != os.h || mp->shapes[add->out].w != os.w)
        return 0;
    int low = t->interp >= 0;
    if (low ? !enh_interp_is_nearest_by(&m->g->nodes[t->interp], ss, mp->shapes[m->g->nodes[t->interp].out], r)
            : (ss.c != os.c || ss.h != os.h || ss.w != os.w))
        return 0;
    *tr = (enh_ps_tail_run){.raw = T[c->out], .src = T[t->src], .out = T[add->out], .oc = os.c, .h = cs.h,
                            .w = cs.w, .r = r, .dcr = ps->p.ps.dcr, .src_low = low};
    /* the add's output is placed for the add's turn: it must not share memory with what the
     * fused epilogue still reads (the memory planner may give it the conv output's place) */
    size_t no = (size_t)n * os.c * os.h * os.w, nr = (size_t)n * cs.c * cs.h * cs.w,
           ns = (size_t)n * ss.c * ss.h * ss.w;
    return tr->raw && tr->src && tr->out && disjoint(tr->out, no, tr->raw, nr) && disjoint(tr->out, no, tr->src, ns);
}

/* Whether node i's Eltwise can be fused in this run (equal shapes, an output that shares no
 * memory with what the conv or the sum reads), and its arguments. */
int enh_model_elt_tail_setup(const enh_model *m, int i, const enh_memplan *mp, float *const *T, int n,
                             enh_elt_tail_run *er)
{
    if (m->elt_tail[i] < 0)
        return 0;
    const enh_node *c = &m->g->nodes[i], *e = &m->g->nodes[m->elt_tail[i]];
    const enh_shape os = mp->shapes[e->out];
    const size_t no = (size_t)n * os.c * os.h * os.w;
    er->out = T[e->out];
    er->count = e->nin;
    er->c = os.c, er->h = os.h, er->w = os.w;
    if (!er->out)
        return 0;
    for (int k = 0; k < e->nin; k++) {
        const enh_shape is = mp->shapes[e->in[k]];
        er->ins[k] = T[e->in[k]];
        er->coeffs[k] = e->p.elt.coeffs ? e->p.elt.coeffs[k] : 1.f;
        if (!er->ins[k] || is.c != os.c || is.h != os.h || is.w != os.w || !disjoint(er->out, no, er->ins[k], no))
            return 0;
    }
    for (int k = 0; k < c->nin; k++) { /* the conv's input and residual */
        const enh_shape is = mp->shapes[c->in[k]];
        if (!T[c->in[k]] || !disjoint(er->out, no, T[c->in[k]], (size_t)n * is.c * is.h * is.w))
            return 0;
    }
    return 1;
}
