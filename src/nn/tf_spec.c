/* tf_spec.c - specialises a TF graph for one input size: topological order from the output
 * (dead nodes dropped), shape inference, folding of everything that does not depend on the
 * input's values (the int32 shape arithmetic and the resize matrices built from H and W),
 * then the fusions (tf_fuse.c) and the memory plan: every computed value gets an offset in
 * one arena, reused by values whose lifetimes do not overlap. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/tf_fuse.h"
#include "nn/tf_plan.h"

/* Post-order DFS from the output, iterative (graphs are tens of thousands of nodes deep).
 * NULL with *cycle = a node on a cycle (>= 0), or -1 when out of memory. */
static int *topo_order(const tf_graph *g, int *count, int *cycle)
{
    int *order = malloc((size_t)g->n * sizeof *order), *stack = malloc((size_t)g->n * 2 * sizeof *stack);
    unsigned char *state = calloc((size_t)g->n, 1); /* 0 new, 1 on stack, 2 done */
    int no = 0, sp = 0;
    *cycle = -1;
    if (!order || !stack || !state)
        goto fail;
    stack[sp++] = g->output, stack[sp++] = 0;
    state[g->output] = 1;
    while (sp) {
        int v = stack[sp - 2], *k = &stack[sp - 1];
        const tf_node *n = &g->nodes[v];
        if (*k < n->nin) {
            int u = n->in[(*k)++];
            if (state[u] == 1) {
                *cycle = u;
                goto fail;
            }
            if (state[u] == 0) {
                state[u] = 1;
                stack[sp++] = u, stack[sp++] = 0;
            }
        } else {
            state[v] = 2;
            order[no++] = v;
            sp -= 2;
        }
    }
    free(stack), free(state);
    *count = no;
    return order;
fail:
    free(order), free(stack), free(state);
    return NULL;
}

void tf_plan_free(tf_plan *p)
{
    if (!p)
        return;
    if (p->owned)
        for (int i = 0; i < p->g->n; i++)
            enh_free(p->owned[i]);
    for (int i = 0; i < p->nsteps; i++)
        tf_step_clear(&p->steps[i]);
    enh_free(atomic_load(&p->spare));
    free(p->owned), free(p->val), free(p->is_const), free(p->steps), free(p->offset), free(p->root);
    free(p);
}

typedef struct {
    int v;
    size_t bytes;
    int first, last;
} life;

static int by_size_desc(const void *a, const void *b)
{
    const life *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : x->first - y->first;
}

/* Greedy placement by decreasing size: each buffer at the lowest offset that overlaps no
 * placed buffer alive at the same time. */
static enh_status plan_memory(tf_plan *p, enh_error *err)
{
    int n = p->g->n;
    int *first = malloc((size_t)n * sizeof *first), *last = malloc((size_t)n * sizeof *last);
    life *L = malloc((size_t)(p->nsteps + 1) * sizeof *L);
    if (!first || !last || !L) {
        free(first), free(last), free(L);
        return enh_fail(err, ENH_ENOMEM, "out of memory planning activations");
    }
    for (int i = 0; i < n; i++)
        first[i] = last[i] = -1;
    for (int s = 0; s < p->nsteps; s++) {
        const tf_step *st = &p->steps[s];
        if (st->kind == TFS_DEAD)
            continue;
        for (int k = 0; k < st->nin; k++) {
            int r = p->root[st->in[k]];
            if (!p->is_const[r])
                last[r] = s;
        }
        if (st->residual >= 0 && !p->is_const[st->residual])
            last[p->root[st->residual]] = s;
        int r = p->root[st->node];
        if (first[r] < 0)
            first[r] = s;
    }
    last[p->root[p->output]] = p->nsteps;
    int nl = 0;
    for (int i = 0; i < n; i++)
        if (first[i] >= 0 && p->root[i] == i) {
            size_t b = (tf_shape_count(&p->val[i].s) * 4 + ENH_ALIGN - 1) / ENH_ALIGN * ENH_ALIGN;
            L[nl++] = (life){i, b ? b : ENH_ALIGN, first[i], last[i] < first[i] ? first[i] : last[i]};
        }
    qsort(L, (size_t)nl, sizeof *L, by_size_desc);
    size_t *off = malloc((size_t)(nl ? nl : 1) * sizeof *off), top = 0;
    int *cand = malloc((size_t)(nl ? nl : 1) * sizeof *cand);
    if (!off || !cand) {
        free(first), free(last), free(L), free(off), free(cand);
        return enh_fail(err, ENH_ENOMEM, "out of memory planning activations");
    }
    for (int i = 0; i < nl; i++) {
        int nc = 0;
        for (int j = 0; j < i; j++)
            if (L[j].first <= L[i].last && L[i].first <= L[j].last)
                cand[nc++] = j;
        size_t o = 0;
        for (int moved = 1; moved;) { /* lowest offset past every conflicting overlap */
            moved = 0;
            for (int c = 0; c < nc; c++) {
                int j = cand[c];
                if (o < off[j] + L[j].bytes && off[j] < o + L[i].bytes) {
                    o = off[j] + L[j].bytes;
                    moved = 1;
                }
            }
        }
        off[i] = o;
        p->offset[L[i].v] = o;
        if (o + L[i].bytes > top)
            top = o + L[i].bytes;
    }
    p->arena_bytes = top;
    free(first), free(last), free(L), free(off), free(cand);
    return ENH_OK;
}

enh_status tf_plan_build(const tf_graph *g, int h, int w, int c, tf_plan **out, enh_error *err)
{
    return tf_plan_build_ex(g, h, w, c, 1, out, err);
}

enh_status tf_plan_build_ex(const tf_graph *g, int h, int w, int c, int fuse, tf_plan **out, enh_error *err)
{
    *out = NULL;
    tf_plan *p = calloc(1, sizeof *p);
    int norder = 0, *order = NULL;
    enh_status st = ENH_OK;
    if (!p)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    p->g = g, p->h = h, p->w = w, p->output = g->output;
    p->val = calloc((size_t)g->n, sizeof *p->val);
    p->is_const = calloc((size_t)g->n, 1);
    p->owned = calloc((size_t)g->n, sizeof *p->owned);
    p->steps = calloc((size_t)g->n, sizeof *p->steps);
    p->offset = calloc((size_t)g->n, sizeof *p->offset);
    p->root = malloc((size_t)g->n * sizeof *p->root);
    int cycle = -1;
    order = topo_order(g, &norder, &cycle);
    if (!order && cycle >= 0) {
        st = enh_fail(err, ENH_EINVAL, "node '%s' depends on itself through a cycle of inputs (a broken model)",
                      g->nodes[cycle].name);
        goto done;
    }
    if (!p->val || !p->is_const || !p->owned || !p->steps || !p->offset || !p->root || !order) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory specialising the graph");
        goto done;
    }
    for (int i = 0; i < g->n; i++)
        p->root[i] = i;
    tf_tensor ins[64];
    for (int oi = 0; oi < norder && st == ENH_OK; oi++) {
        int v = order[oi];
        const tf_node *n = &g->nodes[v];
        if (n->op == TFOP_CONST) {
            p->val[v] = n->value;
            p->is_const[v] = 1;
            continue;
        }
        if (n->op == TFOP_PLACEHOLDER) {
            p->val[v] = (tf_tensor){.dt = TF_F32, .s = {.rank = 4, .d = {1, h, w, c}}};
            continue;
        }
        if (n->nin > 64) {
            st = enh_fail(err, ENH_EUNSUPPORTED, "node '%s' has more than 64 inputs", n->name);
            break;
        }
        int all_const = 1;
        for (int k = 0; k < n->nin; k++) {
            ins[k] = p->val[n->in[k]];
            if (!p->is_const[n->in[k]]) {
                ins[k].data = NULL;
                all_const = 0;
            }
        }
        st = tf_op_infer(n, ins, &p->val[v], err);
        if (st != ENH_OK)
            break;
        if (all_const || n->op == TFOP_SHAPE) {
            size_t cnt = tf_shape_count(&p->val[v].s);
            if (cnt > ((size_t)64 << 20)) {
                st = enh_fail(err, ENH_ETOOBIG, "node '%s': a folded constant of %zu elements", n->name, cnt);
                break;
            }
            void *d = enh_alloc(cnt ? cnt * 4 : 4);
            if (!d) {
                st = enh_fail(err, ENH_ENOMEM, "out of memory folding '%s'", n->name);
                break;
            }
            p->val[v].data = d;
            p->owned[v] = d;
            p->is_const[v] = 1;
            st = tf_op_eval(n, ins, &p->val[v], err);
            continue;
        }
        tf_step *s = &p->steps[p->nsteps++];
        s->node = v;
        s->residual = -1;
        s->kind = tf_op_is_view(n->op) ? TFS_VIEW : TFS_REF;
        s->nin = 0;
        for (int k = 0; k < n->nin; k++) {
            if (p->is_const[n->in[k]])
                continue;
            if (s->nin == TF_STEP_MAXIN) {
                st = enh_fail(err, ENH_EUNSUPPORTED, "node '%s': more than %d computed inputs", n->name,
                              TF_STEP_MAXIN);
                break;
            }
            s->in[s->nin++] = n->in[k];
        }
        if (s->kind == TFS_VIEW)
            p->root[v] = p->root[n->in[0]];
    }
    if (st == ENH_OK && p->is_const[g->output])
        st = enh_fail(err, ENH_EINVAL, "the model's output does not depend on its input");
    if (st == ENH_OK && fuse)
        st = tf_fuse(p, err);
    if (st == ENH_OK)
        st = plan_memory(p, err);
done:
    free(order);
    if (st != ENH_OK) {
        tf_plan_free(p);
        return st;
    }
    *out = p;
    return ENH_OK;
}
