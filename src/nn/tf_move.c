/* tf_move.c - data movement and reductions of computed float tensors: Transpose, StridedSlice
 * and BroadcastTo become element-wise programs without instructions (a strided read, split
 * over the pool), Sum/Mean over a contiguous run of axes become TFS_REDUCE steps. */
#include <stdlib.h>
#include <string.h>

#include "nn/cpu.h"
#include "nn/tf_ew_internal.h"
#include "nn/tf_move_avx2.h"
#include "nn/tf_ops_internal.h"

/* Transpose, StridedSlice and BroadcastTo of a computed float tensor: a program without
 * instructions whose leaf is read through the op's strides. */
enh_status tf_copy_steps(tf_plan *p, enh_error *err)
{
    for (int i = 0; i < p->nsteps; i++) {
        tf_step *s = &p->steps[i];
        if (s->kind != TFS_REF)
            continue;
        const tf_node *n = &p->g->nodes[s->node];
        if (n->op != TFOP_TRANSPOSE && n->op != TFOP_STRIDEDSLICE && n->op != TFOP_BROADCASTTO)
            continue;
        const tf_tensor *x = &p->val[n->in[0]];
        if (p->is_const[n->in[0]] || x->dt != TF_F32)
            continue;
        const tf_shape *os = &p->val[s->node].s;
        long nat[TF_MAXRANK], st[TF_MAXRANK], base = 0, k = 1;
        for (int d = x->s.rank - 1; d >= 0; d--) {
            nat[d] = k;
            k *= x->s.d[d];
        }
        if (n->op == TFOP_TRANSPOSE) {
            int perm[TF_MAXRANK];
            tf_tensor pt = p->val[n->in[1]];
            tf_const_ints(&pt, perm, TF_MAXRANK);
            for (int d = 0; d < os->rank; d++)
                st[d] = nat[perm[d]];
        } else if (n->op == TFOP_BROADCASTTO) {
            tf_bcast_strides(&x->s, os, st);
        } else {
            tf_tensor ins[4];
            for (int j = 0; j < n->nin && j < 4; j++)
                ins[j] = p->val[n->in[j]];
            tf_slice_plan sp;
            if (tf_strided_slice_plan(n, ins, &sp) < 0)
                continue;
            /* output dims = input dims minus shrunk ones plus new axes (size 1, any stride) */
            int od = 0, ok = 1;
            for (int d = 0; d < x->s.rank; d++) {
                base += nat[d] * sp.begin[d];
                int shrunk = 0;
                /* a shrunk dim has len 1 and is absent from the output: find it by matching */
                while (od < os->rank && os->d[od] == 1 && sp.len[d] != 1) {
                    st[od++] = 0; /* new axis */
                }
                if (od < os->rank && os->d[od] == sp.len[d])
                    st[od++] = nat[d] * sp.stride[d];
                else if (sp.len[d] == 1)
                    shrunk = 1;
                else
                    ok = 0;
                (void)shrunk;
            }
            while (od < os->rank && os->d[od] == 1)
                st[od++] = 0;
            if (!ok || od != os->rank || n->new_axis_mask || n->shrink_axis_mask || n->ellipsis_mask)
                continue;
        }
        tf_ew_prog *e = calloc(1, sizeof *e);
        if (!e)
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        e->nleaf = 1, e->ninstr = 0, e->nreg = 1;
        e->leaf_val[0] = n->in[0];
        tf_ew_compile_strides(e, p, os, st);
        e->base[0] = base;
        s->kind = TFS_EW;
        s->ew = e;
        s->nin = 1;
        s->in[0] = n->in[0];
    }
    return ENH_OK;
}

/* ---- reductions */
enh_status tf_reduce_steps(tf_plan *p, const int *readers, enh_error *err)
{
    (void)err;
    for (int i = 0; i < p->nsteps; i++) {
        tf_step *s = &p->steps[i];
        if (s->kind != TFS_REF)
            continue;
        const tf_node *n = &p->g->nodes[s->node];
        if ((n->op != TFOP_SUM && n->op != TFOP_MEAN) || p->is_const[n->in[0]] || p->val[n->in[0]].dt != TF_F32)
            continue;
        const tf_shape *xs = &p->val[n->in[0]].s;
        int ax[TF_MAXRANK], na, red[TF_MAXRANK] = {0};
        tf_tensor at = p->val[n->in[1]];
        if ((na = tf_const_ints(&at, ax, TF_MAXRANK)) < 1)
            continue;
        for (int k = 0; k < na; k++)
            red[ax[k] < 0 ? ax[k] + xs->rank : ax[k]] = 1;
        int lo = -1, hi = -1, ok = 1;
        for (int d = 0; d < xs->rank; d++)
            if (red[d]) {
                if (lo < 0)
                    lo = d;
                else if (hi != d - 1)
                    ok = 0;
                hi = d;
            }
        if (!ok || lo < 0)
            continue;
        long o = 1, r = 1, in = 1;
        for (int d = 0; d < xs->rank; d++)
            *(d < lo ? &o : d <= hi ? &r : &in) *= xs->d[d];
        s->kind = TFS_REDUCE;
        s->r_outer = o, s->r_red = r, s->r_inner = in;
        s->r_scale = n->op == TFOP_MEAN && r ? 1.0f / (float)r : 1.0f;
        s->nin = 1;
        s->in[0] = n->in[0];
        /* Sum(Square(x)) (LayerNorm's second moment): square while summing, the squares are
         * never written */
        s->r_square = 0;
        for (int j = i - 1; j >= 0 && in == 1; j--) {
            tf_step *q = &p->steps[j];
            if (q->node != n->in[0])
                continue;
            const tf_node *qn = &p->g->nodes[q->node];
            if (q->kind == TFS_REF && qn->op == TFOP_SQUARE && readers[q->node] == 1 && !p->is_const[qn->in[0]] &&
                p->val[qn->in[0]].dt == TF_F32) {
                s->r_square = 1;
                s->in[0] = qn->in[0];
                q->kind = TFS_DEAD;
                q->nin = 0;
            }
            break;
        }
    }
    return ENH_OK;
}


/* ---- concatenation: every input computed, float32; outer x (sum of the parts' rows) */
enh_status tf_concat_steps(tf_plan *p, enh_error *err)
{
    (void)err;
    for (int i = 0; i < p->nsteps; i++) {
        tf_step *s = &p->steps[i];
        const tf_node *n = &p->g->nodes[s->node];
        if (s->kind != TFS_REF || n->op != TFOP_CONCAT || n->nin < 3 || n->nin - 1 > TF_STEP_MAXIN ||
            p->val[s->node].dt != TF_F32)
            continue;
        int ok = 1;
        for (int k = 0; k < n->nin - 1; k++)
            ok &= !p->is_const[n->in[k]];
        if (!ok)
            continue;
        int ax;
        tf_tensor at = p->val[n->in[n->nin - 1]];
        tf_const_ints(&at, &ax, 1);
        const tf_shape *os = &p->val[s->node].s;
        if (ax < 0)
            ax += os->rank;
        long outer = 1, inner = 1;
        for (int d = 0; d < ax; d++)
            outer *= os->d[d];
        for (int d = ax + 1; d < os->rank; d++)
            inner *= os->d[d];
        s->kind = TFS_CONCAT;
        s->nin = n->nin - 1;
        for (int k = 0; k < s->nin; k++)
            s->in[k] = n->in[k];
        s->r_outer = outer, s->r_inner = inner;
        s->r_red = ax; /* the axis; part lengths come from the inputs' shapes */
    }
    return ENH_OK;
}

typedef struct {
    const tf_plan *p;
    const tf_step *s;
    const void *const *in;
    float *out;
    long len[TF_STEP_MAXIN], row;
} cat_ctx;

static void cat_rows(void *c_, size_t r0, size_t r1, int slot)
{
    (void)slot;
    const cat_ctx *c = c_;
    for (size_t r = r0; r < r1; r++) {
        float *o = c->out + r * (size_t)c->row;
        for (int k = 0; k < c->s->nin; k++) {
            memcpy(o, (const float *)c->in[k] + r * (size_t)c->len[k], (size_t)c->len[k] * sizeof(float));
            o += c->len[k];
        }
    }
}

void tf_concat_run(const tf_plan *p, const tf_step *s, const void *const *in, float *out, enh_pool *pool)
{
    cat_ctx c = {.p = p, .s = s, .in = in, .out = out};
    for (int k = 0; k < s->nin; k++) {
        c.len[k] = (long)p->val[s->in[k]].s.d[s->r_red] * s->r_inner;
        c.row += c.len[k];
    }
    size_t rows = (size_t)s->r_outer, grain = c.row >= 4096 ? 1 : (size_t)(4096 / c.row);
    if (!pool || rows * (size_t)c.row < 32768)
        cat_rows(&c, 0, rows, 0);
    else
        enh_pool_run(pool, rows, grain, cat_rows, &c);
}

/* ---- the copy kernel */
#define TT 16 /* transpose tile side: 16 x 16 floats = 1 KB in, 1 KB out */

typedef struct {
    const tf_ew_prog *e;
    const float *src;
    float *out;
    int k;          /* the dim along which the source is contiguous (-1: rows are contiguous) */
    int avx2;
    long ost[TF_MAXRANK];
    size_t ktiles;  /* tiles along k per outer index */
} copy_ctx;

/* Outer index j (all dims but k and the last, in order) -> source and output offsets. */
static void outer_offsets(const copy_ctx *c, size_t j, long *so, long *oo)
{
    const tf_ew_prog *e = c->e;
    long s = e->base[0], o = 0;
    for (int d = e->rank - 2; d >= 0; d--) {
        if (d == c->k)
            continue;
        long ix = (long)(j % (size_t)e->dim[d]);
        j /= (size_t)e->dim[d];
        s += ix * e->st[0][d];
        o += ix * c->ost[d];
    }
    *so = s, *oo = o;
}

static void copy_rows(void *c_, size_t r0, size_t r1, int slot)
{
    (void)slot;
    const copy_ctx *c = c_;
    const tf_ew_prog *e = c->e;
    int R = e->rank, inner = e->dim[R - 1];
    for (size_t r = r0; r < r1; r++) {
        long so, oo;
        outer_offsets(c, r, &so, &oo);
        memcpy(c->out + oo, c->src + so, (size_t)inner * sizeof(float));
    }
}

static void copy_tiles(void *c_, size_t t0, size_t t1, int slot)
{
    (void)slot;
    const copy_ctx *c = c_;
    const tf_ew_prog *e = c->e;
    int R = e->rank, inner = e->dim[R - 1], K = e->dim[c->k];
    long sin = e->st[0][R - 1], okst = c->ost[c->k];
    for (size_t t = t0; t < t1; t++) {
        size_t j = t / c->ktiles;
        int a0 = (int)(t % c->ktiles) * TT, na = K - a0 < TT ? K - a0 : TT;
        long so, oo;
        outer_offsets(c, j, &so, &oo);
        so += (long)a0, oo += (long)a0 * okst;
        for (int b0 = 0; b0 < inner; b0 += TT) {
            int nb = inner - b0 < TT ? inner - b0 : TT;
            if (c->avx2 && na == TT && nb == TT) { /* four 8 x 8 register transposes */
                for (int a = 0; a < TT; a += 8)
                    for (int b = 0; b < TT; b += 8)
                        tf_transpose8x8_avx2(c->src + so + a + (long)(b0 + b) * sin, sin,
                                             c->out + oo + (long)a * okst + b0 + b, okst);
                continue;
            }
            float tile[TT][TT];
            for (int b = 0; b < nb; b++) { /* source rows: contiguous along k */
                const float *sp = c->src + so + (long)(b0 + b) * sin;
                for (int a = 0; a < na; a++)
                    tile[a][b] = sp[a];
            }
            for (int a = 0; a < na; a++)
                memcpy(c->out + oo + (long)a * okst + b0, tile[a], (size_t)nb * sizeof(float));
        }
    }
}

void tf_copy_run(const tf_ew_prog *e, const void *src, float *out, enh_pool *pool)
{
    copy_ctx c = {.e = e, .src = src, .out = out, .k = -1, .avx2 = enh_cpu_isa_supported(ENH_ISA_AVX2)};
    int R = e->rank;
    long k = 1;
    for (int d = R - 1; d >= 0; d--) {
        c.ost[d] = k;
        k *= e->dim[d];
    }
    if (e->st[0][R - 1] != 1)
        for (int d = R - 2; d >= 0; d--)
            if (e->st[0][d] == 1 && e->dim[d] > 1) {
                c.k = d;
                break;
            }
    size_t inner = (size_t)e->dim[R - 1];
    if (e->st[0][R - 1] == 1 || c.k < 0) {
        if (e->st[0][R - 1] != 1) { /* no contiguous source dim: the generic strided program */
            c.k = -1;
        } else {
            size_t rows = e->count / inner, grain = inner >= 1024 ? 1 : 1024 / inner;
            if (!pool || e->count < 16384)
                copy_rows(&c, 0, rows, 0);
            else
                enh_pool_run(pool, rows, grain, copy_rows, &c);
            return;
        }
    }
    if (c.k < 0) {
        tf_ew_run(e, &src, out, pool);
        return;
    }
    c.ktiles = ((size_t)e->dim[c.k] + TT - 1) / TT;
    size_t outer = e->count / inner / (size_t)e->dim[c.k], jobs = outer * c.ktiles;
    if (!pool || e->count < 16384)
        copy_tiles(&c, 0, jobs, 0);
    else
        enh_pool_run(pool, jobs, 1, copy_tiles, &c);
}
