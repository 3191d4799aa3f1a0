/* tf_axismix.c - Einsums that contract one axis of a computed tensor with a constant, mostly
 * zero matrix: jax.image.resize lowered by jax2tf (gb,cgef->bcef and abgd,gf->abdf, with the
 * antialiased bilinear weights folded once H and W are known). Each output element is a sum of
 * a few taps (2-8) instead of a dense dot product over the whole axis. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/tf_ew.h"
#include "nn/tf_ops_internal.h"

struct tf_axismix {
    int rank;               /* of the output */
    int dim[TF_MAXRANK];
    long xst[TF_MAXRANK];   /* X's stride for each output dim (0 for the matrix's free letter) */
    int jdim;               /* output dim indexed by the matrix's free letter */
    long gst;               /* X's stride along the contracted letter */
    int *tap_start;         /* per free index j: taps [tap_start[j], tap_start[j+1]) */
    int *tap_g;
    float *tap_w;
    size_t count;
};

void tf_axismix_free(tf_axismix *m)
{
    if (!m)
        return;
    free(m->tap_start), free(m->tap_g), free(m->tap_w);
    free(m);
}

typedef struct {
    const tf_axismix *m;
    const float *x;
    float *out;
} mix_ctx;

static void mix_rows(void *c_, size_t r0, size_t r1, int slot)
{
    (void)slot;
    const mix_ctx *c = c_;
    const tf_axismix *m = c->m;
    int R = m->rank, inner = m->dim[R - 1];
    for (size_t row = r0; row < r1; row++) {
        long off = 0;
        int j = 0;
        size_t rr = row;
        for (int d = R - 2; d >= 0; d--) {
            int ix = (int)(rr % (size_t)m->dim[d]);
            rr /= (size_t)m->dim[d];
            off += ix * m->xst[d];
            if (d == m->jdim)
                j = ix;
        }
        float *o = c->out + row * (size_t)inner;
        long s = m->xst[R - 1];
        if (m->jdim == R - 1) {
            for (int i = 0; i < inner; i++) {
                float acc = 0;
                for (int t = m->tap_start[i]; t < m->tap_start[i + 1]; t++)
                    acc += m->tap_w[t] * c->x[off + m->tap_g[t] * m->gst];
                o[i] = acc;
            }
        } else {
            for (int i = 0; i < inner; i++)
                o[i] = 0;
            for (int t = m->tap_start[j]; t < m->tap_start[j + 1]; t++) {
                const float *xp = c->x + off + m->tap_g[t] * m->gst;
                float w = m->tap_w[t];
                if (s == 1)
                    for (int i = 0; i < inner; i++)
                        o[i] += w * xp[i];
                else
                    for (int i = 0; i < inner; i++)
                        o[i] += w * xp[i * s];
            }
        }
    }
}

void tf_axismix_run(const tf_axismix *m, const float *x, float *out, enh_pool *pool)
{
    mix_ctx c = {m, x, out};
    size_t rows = m->count / (size_t)m->dim[m->rank - 1];
    size_t grain = (size_t)m->dim[m->rank - 1] >= 2048 ? 1 : 2048 / (size_t)m->dim[m->rank - 1];
    if (!pool || m->count < 16384)
        mix_rows(&c, 0, rows, 0);
    else
        enh_pool_run(pool, rows, grain, mix_rows, &c);
}

/* The mix for Einsum step s, or NULL when it is not one (or the matrix is not sparse). */
static tf_axismix *make_mix(const tf_plan *p, const tf_step *s)
{
    const tf_node *n = &p->g->nodes[s->node];
    if (n->op != TFOP_EINSUM || n->nin != 2)
        return NULL;
    int mi = p->is_const[n->in[0]] ? 0 : p->is_const[n->in[1]] ? 1 : -1;
    if (mi < 0 || p->is_const[n->in[1 - mi]])
        return NULL;
    tf_einsum e;
    if (tf_einsum_parse(n->equation, &e) < 0)
        return NULL;
    const char *ml = mi == 0 ? e.a : e.b, *xl = mi == 0 ? e.b : e.a;
    int nm = mi == 0 ? e.na : e.nb, nx = mi == 0 ? e.nb : e.na;
    const tf_tensor *M = &p->val[n->in[mi]], *X = &p->val[n->in[1 - mi]];
    if (nm != 2 || ml[0] == ml[1] || M->dt != TF_F32)
        return NULL;
    /* contracted letter: in M and X, not in the output; free letter: in M and the output */
    int gi = -1, fi = -1;
    for (int i = 0; i < 2; i++) {
        int inx = strchr(xl, ml[i]) != NULL, ino = strchr(e.o, ml[i]) != NULL;
        if (inx && !ino)
            gi = i;
        else if (!inx && ino)
            fi = i;
    }
    if (gi < 0 || fi < 0)
        return NULL;
    /* every other letter of X appears once in X and in the output */
    for (int i = 0; i < nx; i++) {
        if (xl[i] == ml[gi])
            continue;
        if (!strchr(e.o, xl[i]) || strchr(xl + i + 1, xl[i]))
            return NULL;
    }
    if (e.no != nx)
        return NULL;
    int G = M->s.d[gi], J = M->s.d[fi];
    const float *md = M->data;
    long mgs = gi == 0 ? J : 1, mjs = fi == 0 ? G : 1;
    size_t nz = 0;
    for (int g = 0; g < G; g++)
        for (int j = 0; j < J; j++)
            nz += md[g * mgs + j * mjs] != 0;
    if (nz * 4 > (size_t)G * J) /* dense: not a resize */
        return NULL;
    tf_axismix *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->tap_start = malloc((size_t)(J + 1) * sizeof *m->tap_start);
    m->tap_g = malloc((nz ? nz : 1) * sizeof *m->tap_g);
    m->tap_w = malloc((nz ? nz : 1) * sizeof *m->tap_w);
    if (!m->tap_start || !m->tap_g || !m->tap_w) {
        tf_axismix_free(m);
        return NULL;
    }
    int t = 0;
    for (int j = 0; j < J; j++) {
        m->tap_start[j] = t;
        for (int g = 0; g < G; g++) {
            float w = md[g * mgs + j * mjs];
            if (w != 0)
                m->tap_g[t] = g, m->tap_w[t++] = w;
        }
    }
    m->tap_start[J] = t;
    long xnat[TF_MAXRANK], k = 1;
    for (int i = nx - 1; i >= 0; i--) {
        xnat[i] = k;
        k *= X->s.d[i];
    }
    m->rank = e.no;
    m->jdim = -1;
    for (int o = 0; o < e.no; o++) {
        m->dim[o] = p->val[s->node].s.d[o];
        if (e.o[o] == ml[fi]) {
            m->jdim = o;
            m->xst[o] = 0;
        } else {
            const char *q = strchr(xl, e.o[o]);
            m->xst[o] = X->s.d[q - xl] == 1 ? 0 : xnat[q - xl];
        }
    }
    m->gst = xnat[strchr(xl, ml[gi]) - xl];
    m->count = tf_shape_count(&p->val[s->node].s);
    if (m->jdim < 0 || m->count == 0) {
        tf_axismix_free(m);
        return NULL;
    }
    return m;
}

enh_status tf_axismix_fuse(tf_plan *p, enh_error *err)
{
    (void)err;
    for (int i = 0; i < p->nsteps; i++) {
        tf_step *s = &p->steps[i];
        if (s->kind != TFS_REF)
            continue;
        tf_axismix *m = make_mix(p, s);
        if (!m)
            continue;
        const tf_node *n = &p->g->nodes[s->node];
        s->kind = TFS_AXISMIX;
        s->mix = m;
        s->nin = 1;
        s->in[0] = p->is_const[n->in[0]] ? n->in[1] : n->in[0];
    }
    return ENH_OK;
}
