/* tf_fuse.c - see tf_fuse.h. Three passes over the steps:
 * 1. GEMM ops: Dense (Einsum abcg,gf->abcf with a constant [K,N]), convolutions and
 *    transposed convolutions with constant filters, each taking the bias AddV2 that follows.
 * 2. Element-wise groups: maximal trees of element-wise steps of one output shape whose
 *    intermediate values have no reader outside the group become one program (tf_ew.h).
 * 3. A group that reads a GEMM op's output and is only an activation of it (plus, possibly, a
 *    residual add) moves into the GEMM's epilogue; which activation it is, is found by
 *    evaluating the program on probe values (GELU, sigmoid, ReLU, leaky ReLU), not by the
 *    shape of the TF subgraph, which differs between exporters. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/tf_ew.h"
#include "nn/tf_fuse.h"
#include "nn/tf_pack.h"
#include "nn/tf_ops_internal.h"


typedef struct {
    tf_plan *p;
    int *readers;   /* per value: step inputs reading it (+1 for the output) */
    int *producer;  /* per value: index of the step that computes it, -1 */
} fctx;

static void count_readers(fctx *c)
{
    tf_plan *p = c->p;
    memset(c->readers, 0, (size_t)p->g->n * sizeof *c->readers);
    for (int i = 0; i < p->g->n; i++)
        c->producer[i] = -1;
    for (int s = 0; s < p->nsteps; s++) {
        const tf_step *st = &p->steps[s];
        if (st->kind == TFS_DEAD)
            continue;
        c->producer[st->node] = s;
        for (int k = 0; k < st->nin; k++)
            c->readers[st->in[k]]++;
        if (st->residual >= 0)
            c->readers[st->residual]++;
    }
    c->readers[p->output]++;
}

static const tf_node *node_of(const tf_plan *p, const tf_step *s)
{
    return &p->g->nodes[s->node];
}

/* The only reader step of value v (REF kind), or NULL. */
static tf_step *sole_reader(fctx *c, int v, int from)
{
    if (c->readers[v] != 1)
        return NULL;
    for (int s = from + 1; s < c->p->nsteps; s++) {
        tf_step *st = &c->p->steps[s];
        if (st->kind == TFS_DEAD)
            continue;
        for (int k = 0; k < st->nin; k++)
            if (st->in[k] == v)
                return st;
        if (st->residual == v)
            return NULL;
    }
    return NULL;
}

/* A bias add after a GEMM op: AddV2/BiasAdd of v and a constant of N values along the last
 * axis; returns the constant's data or NULL. */
static const float *bias_of(const tf_plan *p, const tf_step *r, int v, int nch)
{
    const tf_node *n = node_of(p, r);
    if (r->kind != TFS_REF || (n->op != TFOP_ADD && n->op != TFOP_BIASADD) || n->nin != 2)
        return NULL;
    int other = n->in[0] == v ? n->in[1] : n->in[0];
    if (other == v || !p->is_const[other] || p->val[other].dt != TF_F32)
        return NULL;
    const tf_shape *s = &p->val[other].s;
    if ((int)tf_shape_count(s) != nch || (s->rank && s->d[s->rank - 1] != nch))
        return NULL;
    if (!tf_shape_eq(&p->val[r->node].s, &p->val[v].s))
        return NULL;
    return p->val[other].data;
}

/* The constant value that bias_of took the bias from (call only when it returned one). */
static int bias_value(const tf_plan *p, const tf_step *r, int v)
{
    const tf_node *n = node_of(p, r);
    return n->in[0] == v ? n->in[1] : n->in[0];
}

/* Moves step `from` into step `into` (which computes a later value from it). */
static void absorb(tf_step *from, tf_step *into, int new_in)
{
    int node = into->node;
    tf_step_clear(into); /* an epilogue's element-wise program would leak */
    *into = *from;
    into->node = node;
    into->nin = 1;
    into->in[0] = new_in;
    memset(from, 0, sizeof *from);
    from->kind = TFS_DEAD;
    from->residual = -1;
}

static enh_status fuse_gemm_ops(fctx *c, enh_error *err)
{
    tf_plan *p = c->p;
    for (int si = 0; si < p->nsteps; si++) {
        tf_step *s = &p->steps[si];
        const tf_node *n = node_of(p, s);
        if (s->kind != TFS_REF)
            continue;
        int x = -1, K = 0, N = 0;
        const float *w = NULL;
        tf_step_kind kind = TFS_REF;
        float *wt = NULL; /* owned re-laid weights (deconv) */
        if (n->op == TFOP_EINSUM && n->nin == 2 && p->is_const[n->in[1]] && !p->is_const[n->in[0]]) {
            tf_einsum e;
            if (tf_einsum_parse(n->equation, &e) < 0 || e.nb != 2 || e.na < 1 || e.a[e.na - 1] != e.b[0] ||
                e.no != e.na || memcmp(e.o, e.a, (size_t)e.na - 1) || e.o[e.no - 1] != e.b[1] || e.b[0] == e.b[1])
                continue;
            int dup = 0;
            for (int i = 0; i < e.na - 1; i++)
                dup |= e.a[i] == e.b[0] || e.a[i] == e.b[1];
            if (dup)
                continue;
            x = n->in[0], K = p->val[n->in[1]].s.d[0], N = p->val[n->in[1]].s.d[1], w = p->val[n->in[1]].data;
            if (p->val[x].s.d[p->val[x].s.rank - 1] != K)
                continue;
            kind = TFS_DENSE;
        } else if (n->op == TFOP_CONV2D && p->is_const[n->in[1]] && !p->is_const[n->in[0]]) {
            const tf_shape *f = &p->val[n->in[1]].s, *xs = &p->val[n->in[0]].s;
            x = n->in[0], w = p->val[n->in[1]].data;
            K = f->d[0] * f->d[1] * f->d[2], N = f->d[3];
            int ones = n->strides[1] == 1 && n->strides[2] == 1 && n->dilations[1] == 1 && n->dilations[2] == 1;
            kind = f->d[0] == 1 && f->d[1] == 1 && ones && n->padding != TF_PAD_EXPLICIT ? TFS_DENSE : TFS_CONV;
            s->kh = f->d[0], s->kw = f->d[1], s->sh = n->strides[1], s->sw = n->strides[2];
            s->cin = f->d[2], s->cout = f->d[3];
            if (n->dilations[1] != 1 || n->dilations[2] != 1)
                continue; /* the im2col kernel has no dilation: reference path */
            int oh = p->val[s->node].s.d[1], ow = p->val[s->node].s.d[2];
            if (n->padding == TF_PAD_SAME) {
                int th = (oh - 1) * s->sh + s->kh - xs->d[1], tw = (ow - 1) * s->sw + s->kw - xs->d[2];
                s->pt = th > 0 ? th / 2 : 0, s->pl = tw > 0 ? tw / 2 : 0;
            } else if (n->padding == TF_PAD_EXPLICIT)
                s->pt = n->explicit_pad[2], s->pl = n->explicit_pad[4];
        } else if (n->op == TFOP_DECONV2D && p->is_const[n->in[1]] && !p->is_const[n->in[2]]) {
            const tf_shape *f = &p->val[n->in[1]].s;
            if (n->padding != TF_PAD_VALID || n->strides[1] != f->d[0] || n->strides[2] != f->d[1] ||
                n->dilations[1] != 1 || n->dilations[2] != 1 ||
                p->val[s->node].s.d[1] != p->val[n->in[2]].s.d[1] * f->d[0] ||
                p->val[s->node].s.d[2] != p->val[n->in[2]].s.d[2] * f->d[1])
                continue; /* VALID input_sizes may exceed H*kh x W*kw (by < stride): the scatter fills just those */
            /* filter [kh,kw,co,ci] -> B [ci, (kh,kw,co)] */
            int kh = f->d[0], kw = f->d[1], co = f->d[2], ci = f->d[3];
            wt = enh_alloc((size_t)ci * kh * kw * co * sizeof *wt);
            if (!wt)
                return enh_fail(err, ENH_ENOMEM, "out of memory");
            const float *F = p->val[n->in[1]].data;
            for (int a = 0; a < kh * kw; a++)
                for (int o = 0; o < co; o++)
                    for (int i = 0; i < ci; i++)
                        wt[(size_t)i * kh * kw * co + (size_t)a * co + o] = F[((size_t)a * co + o) * ci + i];
            x = n->in[2], K = ci, N = kh * kw * co, w = wt;
            s->kh = kh, s->kw = kw, s->cin = ci, s->cout = co;
            kind = TFS_DECONV;
        } else
            continue;
        /* the bias add after it */
        int nch = kind == TFS_DECONV ? s->cout : N;
        tf_step *r = sole_reader(c, s->node, si);
        const float *bias = r ? bias_of(p, r, s->node, nch) : NULL;
        enh_status st;
        /* weights straight from a graph constant (not folded by this plan): shared packing */
        int wv = n->in[1];
        int shared = p->g->packs && !p->owned[wv] && (!bias || !p->owned[bias_value(p, r, s->node)]);
        if (kind == TFS_DECONV) {
            st = shared ? tf_pack_get(p->g->packs, p->val[wv].data, w, K, N, NULL, 1, &s->gemm, err)
                        : enh_gemm_pack_b(w, K, N, N, NULL, &s->gemm, err);
            if (st == ENH_OK && bias) {
                s->bias = enh_alloc((size_t)nch * sizeof *s->bias);
                if (!s->bias)
                    st = enh_fail(err, ENH_ENOMEM, "out of memory");
                else
                    memcpy(s->bias, bias, (size_t)nch * sizeof *s->bias);
            }
        } else
            st = shared ? tf_pack_get(p->g->packs, p->val[wv].data, w, K, N, bias, 0, &s->gemm, err)
                        : enh_gemm_pack_b(w, K, N, N, bias, &s->gemm, err);
        s->gemm_shared = shared && st == ENH_OK;
        enh_free(wt);
        if (st != ENH_OK)
            return enh_error_prefix(err, "node '%s'", n->name);
        s->kind = kind;
        s->nin = 1;
        s->in[0] = x;
        s->residual = -1;
        s->act = ENH_GEMM_ACT_NONE;
        if (bias) {
            absorb(s, r, x);
            c->readers[s->node] = 0;
        }
    }
    return ENH_OK;
}

static enh_status fuse_epilogues(fctx *c, enh_error *err)
{
    tf_plan *p = c->p;
    (void)err;
    count_readers(c);
    for (int si = 0; si < p->nsteps; si++) {
        tf_step *s = &p->steps[si];
        if ((s->kind != TFS_DENSE && s->kind != TFS_CONV) || s->act != ENH_GEMM_ACT_NONE || s->residual >= 0)
            continue;
        tf_step *r = sole_reader(c, s->node, si);
        if (!r || r->kind != TFS_EW || !tf_shape_eq(&p->val[r->node].s, &p->val[s->node].s))
            continue;
        tf_ew_match m;
        if (tf_ew_match_epilogue(r->ew, s->node, p, &m) != 0)
            continue;
        int res = m.residual;
        if (res >= 0 && (p->is_const[res] || !tf_shape_eq(&p->val[res].s, &p->val[s->node].s)))
            continue;
        int x = s->in[0];
        tf_step_clear(r); /* its element-wise program is replaced by the epilogue */
        absorb(s, r, x);
        r->act = m.act;
        r->alpha = m.alpha;
        r->residual = res;
    }
    return ENH_OK;
}

enh_status tf_fuse(tf_plan *p, enh_error *err)
{
    fctx c = {.p = p};
    c.readers = calloc((size_t)p->g->n, sizeof *c.readers);
    c.producer = calloc((size_t)p->g->n, sizeof *c.producer);
    enh_status st = ENH_OK;
    if (!c.readers || !c.producer) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory fusing the graph");
        goto done;
    }
    count_readers(&c);
    st = fuse_gemm_ops(&c, err);
    if (st == ENH_OK) {
        count_readers(&c);
        st = tf_reduce_steps(p, c.readers, err);
    }
    if (st == ENH_OK)
        st = tf_copy_steps(p, err);
    if (st == ENH_OK)
        st = tf_concat_steps(p, err);
    if (st == ENH_OK) {
        count_readers(&c);
        st = tf_ew_group(p, c.readers, err);
    }
    if (st == ENH_OK)
        st = tf_axismix_fuse(p, err);
    if (st == ENH_OK) {
        count_readers(&c);
        st = tf_layernorm_fuse(p, c.readers, err);
    }
    if (st == ENH_OK)
        st = fuse_epilogues(&c, err);
done:
    free(c.readers), free(c.producer);
    return st;
}
