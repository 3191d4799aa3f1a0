/* tf_layernorm.c - LayerNorm over the last axis as one kernel. Flax's LayerNorm reaches the graph
 * as two sums over the channels (x and x^2), a few per-row element-wise steps (mean, variance
 * max(E[x^2] - mean^2, 0), rsqrt(var + eps)) and a final element-wise step (x - mean) * r * gamma
 * + beta: five passes over the tensor. The pattern is found by its data flow (both sums read the
 * same x, the row values reach the final step through views), and what each piece computes is
 * then checked numerically on probe values (gamma, beta and eps are read off the programs the
 * same way), so an exporter's different arrangement of the same arithmetic still matches and a
 * different one does not. The kernel reads each row once into L1 and writes it once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/tf_ew.h"
#include "nn/tf_fuse.h"

typedef struct {
    tf_plan *p;
    const int *readers;
    int *prod; /* value -> producing step, -1 */
} lctx;

/* The value behind a chain of views read once each, and the views on the way. */
static int chase(const lctx *c, int v, int *views, int *nviews)
{
    while (c->prod[v] >= 0 && c->p->steps[c->prod[v]].kind == TFS_VIEW && c->readers[v] == 1) {
        if (views)
            views[(*nviews)++] = c->prod[v];
        v = c->p->steps[c->prod[v]].in[0];
        if (*nviews >= 8)
            break;
    }
    return v;
}

static int is_scalar_const(const tf_plan *p, int v)
{
    return p->is_const[v] && p->val[v].dt == TF_F32 && tf_shape_count(&p->val[v].s) == 1;
}

/* Program step of value v with the given non-constant leaves (others must be scalar
 * constants); fills which[] with the leaf index of each wanted value. */
static const tf_step *ew_of(const lctx *c, int v, const int *want, int nwant, int *which)
{
    int si = c->prod[v];
    if (si < 0)
        return NULL;
    const tf_step *s = &c->p->steps[si];
    if (s->kind != TFS_EW || tf_ew_is_copy(s->ew))
        return NULL;
    int found = 0;
    for (int l = 0; l < tf_ew_nleaf(s->ew); l++) {
        int lv = tf_ew_leaf(s->ew, l), k = 0;
        for (; k < nwant; k++)
            if (lv == want[k])
                break;
        if (k < nwant) {
            which[k] = l;
            found++;
        } else if (!is_scalar_const(c->p, lv))
            return NULL;
    }
    return found == nwant ? s : NULL;
}

static const tf_step *reduce_of(const lctx *c, int v, int x, int square, long rows, long C)
{
    int si = c->prod[v];
    if (si < 0 || c->readers[v] != 1)
        return NULL;
    const tf_step *s = &c->p->steps[si];
    if (s->kind != TFS_REDUCE || s->in[0] != x || s->r_square != square || s->r_inner != 1 || s->r_outer != rows ||
        s->r_red != C || s->r_scale != 1.0f)
        return NULL;
    return s;
}

/* Evaluates a program at n points: the leaf at index `li[k]` gets vals[k][i], scalar constant
 * leaves their value. */
static void eval_at(const tf_plan *p, const tf_step *s, const int *li, float (*vals)[64], int nv, int n, float *out)
{
    float cst[TF_STEP_MAXIN][64];
    const float *arr[TF_STEP_MAXIN];
    for (int l = 0; l < tf_ew_nleaf(s->ew); l++) {
        arr[l] = NULL;
        for (int k = 0; k < nv; k++)
            if (li[k] == l)
                arr[l] = vals[k];
        if (!arr[l]) {
            float v = *(const float *)p->val[tf_ew_leaf(s->ew, l)].data;
            for (int i = 0; i < n; i++)
                cst[l][i] = v;
            arr[l] = cst[l];
        }
    }
    tf_ew_eval(s->ew, arr, n, out);
}

static int close_to(float a, float b)
{
    return fabsf(a - b) <= 1e-5f * (1.0f + fabsf(b));
}

/* Tries the pattern ending at step fi; returns 1 and rewrites the steps when it matches. */
static int try_layernorm(lctx *c, int fi, enh_status *st, enh_error *err)
{
    tf_plan *p = c->p;
    tf_step *F = &p->steps[fi];
    const tf_shape *os = &p->val[F->node].s;
    if (F->kind != TFS_EW || tf_ew_is_copy(F->ew) || os->rank < 2 || os->d[os->rank - 1] < 2)
        return 0;
    long C = os->d[os->rank - 1], rows = (long)(tf_shape_count(os) / (size_t)C);
    int x = -1, rl[2], nr = 0, gl[2], ng = 0, xl = -1, rli[2];
    for (int l = 0; l < tf_ew_nleaf(F->ew); l++) {
        int v = tf_ew_leaf(F->ew, l);
        const tf_tensor *t = &p->val[v];
        if (!p->is_const[v] && tf_shape_eq(&t->s, os) && x < 0)
            x = v, xl = l;
        else if (!p->is_const[v] && (long)tf_shape_count(&t->s) == rows && t->s.d[t->s.rank - 1] != C && nr < 2)
            rli[nr] = l, rl[nr++] = v;
        else if (p->is_const[v] && t->dt == TF_F32 && (long)tf_shape_count(&t->s) == C && t->s.d[t->s.rank - 1] == C &&
                 ng < 2)
            gl[ng++] = l;
        else if (!is_scalar_const(p, v))
            return 0;
    }
    if (x < 0 || nr != 2)
        return 0;
    int dead[24], nd = 0;
    /* which row leaf is the mean: mean = E1(R1(x)); the other r = E3(view(E2(mean, R2(x)))) */
    for (int swap = 0; swap < 2; swap++) {
        nd = 0;
        int mv = chase(c, rl[swap], dead, &nd), rv = chase(c, rl[1 - swap], dead, &nd);
        int w1[1], w3[1], w2[2];
        if (c->readers[mv] != 2) /* the final step (through its view) and E2 */
            continue;
        int r1v = -1;
        const tf_step *E1 = NULL;
        if (c->prod[mv] >= 0 && p->steps[c->prod[mv]].kind == TFS_EW) {
            const tf_step *s = &p->steps[c->prod[mv]];
            for (int l = 0; l < tf_ew_nleaf(s->ew); l++)
                if (!p->is_const[tf_ew_leaf(s->ew, l)])
                    r1v = tf_ew_leaf(s->ew, l);
            if (r1v >= 0)
                E1 = ew_of(c, mv, &r1v, 1, w1);
        }
        const tf_step *R1 = E1 ? reduce_of(c, r1v, x, 0, rows, C) : NULL;
        if (!R1 || c->readers[rv] != 1)
            continue;
        int vv = -1;
        const tf_step *E3 = NULL;
        if (c->prod[rv] >= 0 && p->steps[c->prod[rv]].kind == TFS_EW) {
            const tf_step *s = &p->steps[c->prod[rv]];
            for (int l = 0; l < tf_ew_nleaf(s->ew); l++)
                if (!p->is_const[tf_ew_leaf(s->ew, l)])
                    vv = tf_ew_leaf(s->ew, l);
            if (vv >= 0)
                E3 = ew_of(c, rv, &vv, 1, w3);
        }
        if (!E3)
            continue;
        int e2v = chase(c, vv, dead, &nd), r2v = -1;
        if (c->readers[e2v] != 1 || c->prod[e2v] < 0 || p->steps[c->prod[e2v]].kind != TFS_EW)
            continue;
        const tf_step *s2 = &p->steps[c->prod[e2v]];
        for (int l = 0; l < tf_ew_nleaf(s2->ew); l++) {
            int lv = tf_ew_leaf(s2->ew, l);
            if (!p->is_const[lv] && lv != mv)
                r2v = lv;
        }
        int want2[2] = {mv, r2v};
        const tf_step *E2 = r2v >= 0 ? ew_of(c, e2v, want2, 2, w2) : NULL;
        const tf_step *R2 = E2 ? reduce_of(c, r2v, x, 1, rows, C) : NULL;
        if (!R2)
            continue;
        /* what each piece computes, on probes */
        float a[64], b[64], y[64], pr[3][64];
        int n = 32, ok = 1;
        for (int i = 0; i < n; i++)
            pr[0][i] = (float)(i - 11) * 0.37f * (float)C;
        eval_at(p, E1, w1, pr, 1, n, y);
        for (int i = 0; i < n && ok; i++)
            ok = close_to(y[i], pr[0][i] / (float)C);
        for (int i = 0; i < n; i++) {
            pr[0][i] = (float)((i * 7) % 13 - 6) * 0.3f;          /* mean */
            pr[1][i] = (float)((i * 5) % 17) * 0.25f * (float)C;   /* sum of squares */
        }
        eval_at(p, E2, w2, pr, 2, n, y);
        for (int i = 0; i < n && ok; i++) {
            float v = pr[1][i] / (float)C - pr[0][i] * pr[0][i];
            ok = close_to(y[i], v > 0 ? v : 0);
        }
        pr[0][0] = 0;
        eval_at(p, E3, w3, pr, 1, 1, y);
        float eps = y[0] > 0 && isfinite(y[0]) ? 1.0f / (y[0] * y[0]) : -1;
        ok = ok && eps > 0 && eps < 1e-1f;
        for (int i = 0; i < n; i++)
            pr[0][i] = (float)i * 0.21f + 0.01f;
        eval_at(p, E3, w3, pr, 1, n, y);
        for (int i = 0; i < n && ok; i++)
            ok = close_to(y[i], 1.0f / sqrtf(pr[0][i] + eps));
        if (!ok)
            continue;
        /* the final step: y = (x - m) * r * gamma + beta per channel */
        float *gb = enh_alloc((size_t)2 * C * sizeof *gb);
        if (!gb) {
            *st = enh_fail(err, ENH_ENOMEM, "out of memory");
            return 0;
        }
        int fl[3] = {xl, rli[swap], rli[1 - swap]};
        for (long ch = 0; ch < C && ok; ch++) {
            /* leaves over 3 probe points per channel: channel leaves hold their value at ch */
            float cst[TF_STEP_MAXIN][64];
            const float *arr[TF_STEP_MAXIN];
            for (int l = 0; l < tf_ew_nleaf(F->ew); l++) {
                int v = tf_ew_leaf(F->ew, l);
                float val = p->is_const[v] ? ((const float *)p->val[v].data)[tf_shape_count(&p->val[v].s) == 1 ? 0 : ch] : 0;
                for (int i = 0; i < 4; i++)
                    cst[l][i] = val;
                arr[l] = cst[l];
            }
            float xs[4] = {0, 1, 0.7f, -1.3f}, ms[4] = {0, 0, 0.2f, 0.5f}, rs[4] = {1, 1, 1.9f, 0.6f};
            memcpy(cst[fl[0]], xs, sizeof xs), memcpy(cst[fl[1]], ms, sizeof ms), memcpy(cst[fl[2]], rs, sizeof rs);
            tf_ew_eval(F->ew, arr, 4, y);
            float beta = y[0], gamma = y[1] - y[0];
            for (int i = 2; i < 4 && ok; i++)
                ok = close_to(y[i], (xs[i] - ms[i]) * rs[i] * gamma + beta);
            gb[ch] = gamma, gb[C + ch] = beta;
        }
        (void)gl, (void)ng, (void)a, (void)b;
        if (!ok) {
            enh_free(gb);
            continue;
        }
        int kill[5] = {(int)(R1 - p->steps), (int)(E1 - p->steps), (int)(R2 - p->steps), (int)(E2 - p->steps),
                       (int)(E3 - p->steps)};
        for (int k = 0; k < 5; k++)
            dead[nd++] = kill[k];
        for (int k = 0; k < nd; k++) {
            tf_step *d = &p->steps[dead[k]];
            tf_step_clear(d);
            d->kind = TFS_DEAD;
            d->nin = 0;
        }
        tf_step_clear(F);
        F->kind = TFS_LAYERNORM;
        F->nin = 1;
        F->in[0] = x;
        F->bias = gb;
        F->eps = eps;
        F->cin = (int)C;
        F->r_outer = rows;
        return 1;
    }
    return 0;
}

enh_status tf_layernorm_fuse(tf_plan *p, const int *readers, enh_error *err)
{
    lctx c = {p, readers, malloc((size_t)p->g->n * sizeof(int))};
    if (!c.prod)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    for (int i = 0; i < p->g->n; i++)
        c.prod[i] = -1;
    for (int s = 0; s < p->nsteps; s++)
        if (p->steps[s].kind != TFS_DEAD)
            c.prod[p->steps[s].node] = s;
    enh_status st = ENH_OK;
    for (int s = 0; s < p->nsteps && st == ENH_OK; s++)
        try_layernorm(&c, s, &st, err);
    free(c.prod);
    return st;
}

typedef struct {
    const tf_step *s;
    const float *x;
    float *out;
} ln_ctx;

static void ln_rows(void *c_, size_t r0, size_t r1, int slot)
{
    (void)slot;
    const ln_ctx *c = c_;
    int C = c->s->cin;
    const float *g = c->s->bias, *b = c->s->bias + C;
    for (size_t r = r0; r < r1; r++) {
        const float *x = c->x + r * (size_t)C;
        float *y = c->out + r * (size_t)C;
        float s1[8] = {0}, s2[8] = {0};
        int i = 0;
        for (; i + 8 <= C; i += 8)
            for (int k = 0; k < 8; k++) {
                s1[k] += x[i + k];
                s2[k] += x[i + k] * x[i + k];
            }
        double a1 = 0, a2 = 0;
        for (int k = 0; k < 8; k++)
            a1 += s1[k], a2 += s2[k];
        for (; i < C; i++)
            a1 += x[i], a2 += (double)x[i] * x[i];
        float mean = (float)(a1 / C), var = (float)(a2 / C) - mean * mean;
        float rs = 1.0f / sqrtf((var > 0 ? var : 0) + c->s->eps);
        for (i = 0; i < C; i++)
            y[i] = (x[i] - mean) * rs * g[i] + b[i];
    }
}

void tf_layernorm_run(const tf_step *s, const float *x, float *out, enh_pool *pool)
{
    ln_ctx c = {s, x, out};
    size_t rows = (size_t)s->r_outer, grain = (size_t)(4096 / s->cin + 1);
    if (!pool || rows * (size_t)s->cin < 16384)
        ln_rows(&c, 0, rows, 0);
    else
        enh_pool_run(pool, rows, grain, ln_rows, &c);
}
