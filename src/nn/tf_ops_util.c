/* tf_ops_util.c - the small rules shared by shape inference, the reference ops and the fused
 * kernels: op classes, scalar element-wise functions, broadcasting, StridedSlice's masks,
 * Einsum's equation, constant int vectors. A leaf file: it uses no other tf_ file. */
#include <math.h>
#include <string.h>

#include "nn/tf_ops.h"
#include "nn/tf_ops_internal.h"

tf_unary tf_op_unary(tf_opk op)
{
    switch (op) {
    case TFOP_ABS: return TF_UN_ABS;
    case TFOP_EXP: return TF_UN_EXP;
    case TFOP_NEG: return TF_UN_NEG;
    case TFOP_FLOOR: return TF_UN_FLOOR;
    case TFOP_RSQRT: return TF_UN_RSQRT;
    case TFOP_RECIPROCAL: return TF_UN_RECIP;
    case TFOP_SIGN: return TF_UN_SIGN;
    case TFOP_SQUARE: return TF_UN_SQUARE;
    case TFOP_TANH: return TF_UN_TANH;
    case TFOP_SQRT: return TF_UN_SQRT;
    case TFOP_RELU: return TF_UN_RELU;
    case TFOP_SIGMOID: return TF_UN_SIGMOID;
    case TFOP_LOG: return TF_UN_LOG;
    default: return TF_UN_NONE;
    }
}

tf_binary tf_op_binary(tf_opk op)
{
    switch (op) {
    case TFOP_ADD: case TFOP_BIASADD: return TF_BI_ADD;
    case TFOP_SUB: return TF_BI_SUB;
    case TFOP_MUL: return TF_BI_MUL;
    case TFOP_REALDIV: return TF_BI_DIV;
    case TFOP_MAXIMUM: return TF_BI_MAX;
    case TFOP_MINIMUM: return TF_BI_MIN;
    case TFOP_FLOORDIV: return TF_BI_FLOORDIV;
    case TFOP_FLOORMOD: return TF_BI_FLOORMOD;
    case TFOP_POW: return TF_BI_POW;
    case TFOP_SQDIFF: return TF_BI_SQDIFF;
    case TFOP_GREATER: return TF_BI_GT;
    case TFOP_GREATEREQ: return TF_BI_GE;
    case TFOP_LESS: return TF_BI_LT;
    case TFOP_LESSEQ: return TF_BI_LE;
    case TFOP_EQUAL: return TF_BI_EQ;
    case TFOP_NOTEQUAL: return TF_BI_NE;
    case TFOP_LOGICALAND: return TF_BI_AND;
    case TFOP_LOGICALOR: return TF_BI_OR;
    default: return TF_BI_NONE;
    }
}

float tf_unary_f(tf_unary u, float x)
{
    switch (u) {
    case TF_UN_ABS: return fabsf(x);
    case TF_UN_EXP: return expf(x);
    case TF_UN_NEG: return -x;
    case TF_UN_FLOOR: return floorf(x);
    case TF_UN_RSQRT: return 1.0f / sqrtf(x);
    case TF_UN_RECIP: return 1.0f / x;
    case TF_UN_SIGN: return (float)((x > 0) - (x < 0));
    case TF_UN_SQUARE: return x * x;
    case TF_UN_TANH: return tanhf(x);
    case TF_UN_SQRT: return sqrtf(x);
    case TF_UN_RELU: return x > 0 ? x : 0;
    case TF_UN_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case TF_UN_LOG: return logf(x);
    default: return x;
    }
}

float tf_binary_f(tf_binary b, float x, float y)
{
    switch (b) {
    case TF_BI_ADD: return x + y;
    case TF_BI_SUB: return x - y;
    case TF_BI_MUL: return x * y;
    case TF_BI_DIV: return x / y;
    case TF_BI_MAX: return x > y ? x : y;
    case TF_BI_MIN: return x < y ? x : y;
    case TF_BI_FLOORDIV: return floorf(x / y);
    case TF_BI_FLOORMOD: { float r = fmodf(x, y); return r != 0 && (r < 0) != (y < 0) ? r + y : r; }
    case TF_BI_POW: return powf(x, y);
    case TF_BI_SQDIFF: return (x - y) * (x - y);
    case TF_BI_GT: return x > y;
    case TF_BI_GE: return x >= y;
    case TF_BI_LT: return x < y;
    case TF_BI_LE: return x <= y;
    case TF_BI_EQ: return x == y;
    case TF_BI_NE: return x != y;
    case TF_BI_AND: return x != 0 && y != 0;
    case TF_BI_OR: return x != 0 || y != 0;
    default: return 0;
    }
}

int tf_broadcast_shape(const tf_shape *a, const tf_shape *b, tf_shape *out)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    tf_shape o = {.rank = r};
    for (int i = 0; i < r; i++) {
        int da = i < r - a->rank ? 1 : a->d[i - (r - a->rank)];
        int db = i < r - b->rank ? 1 : b->d[i - (r - b->rank)];
        if (da != db && da != 1 && db != 1)
            return -1;
        o.d[i] = da == 1 ? db : da;
    }
    *out = o;
    return 0;
}

/* Values of a constant int tensor (≤ TF_MAXRANK * 2 entries) into v; returns count or -1. */
int tf_const_ints(const tf_tensor *t, int *v, int max)
{
    if (!t->data || t->dt == TF_F32)
        return -1;
    size_t n = tf_shape_count(&t->s);
    if (t->s.rank > 1 || n > (size_t)max)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = ((const int *)t->data)[i];
    return (int)n;
}

int tf_strided_slice_plan(const tf_node *n, const tf_tensor *ins, tf_slice_plan *p)
{
    int b[TF_MAXRANK * 2], e[TF_MAXRANK * 2], st[TF_MAXRANK * 2];
    int nb = tf_const_ints(&ins[1], b, TF_MAXRANK * 2), ne = tf_const_ints(&ins[2], e, TF_MAXRANK * 2);
    int ns = n->nin > 3 ? tf_const_ints(&ins[3], st, TF_MAXRANK * 2) : nb;
    if (n->nin <= 3)
        for (int i = 0; i < nb; i++)
            st[i] = 1;
    if (nb < 0 || nb != ne || nb != ns)
        return -1;
    const tf_shape *in = &ins[0].s;
    int ndense_spec = 0; /* sparse entries that consume an input dim */
    for (int i = 0; i < nb; i++)
        if (!(n->new_axis_mask >> i & 1) && !(n->ellipsis_mask >> i & 1))
            ndense_spec++;
    memset(p, 0, sizeof *p);
    int dim = 0; /* input dim */
    int have_ellipsis = 0;
    for (int i = 0; i < nb; i++) {
        if (n->ellipsis_mask >> i & 1) {
            if (have_ellipsis)
                return -1;
            have_ellipsis = 1;
            int cover = in->rank - ndense_spec;
            for (int k = 0; k < cover; k++, dim++) {
                p->begin[dim] = 0, p->stride[dim] = 1, p->len[dim] = in->d[dim];
                p->out.d[p->out.rank++] = in->d[dim];
            }
            continue;
        }
        if (n->new_axis_mask >> i & 1) {
            p->out.d[p->out.rank++] = 1;
            continue;
        }
        if (dim >= in->rank || st[i] == 0)
            return -1;
        int D = in->d[dim], s = st[i], lo, hi;
        if (n->shrink_axis_mask >> i & 1) {
            int x = b[i] < 0 ? b[i] + D : b[i];
            if (x < 0 || x >= D)
                return -1;
            p->begin[dim] = x, p->stride[dim] = 1, p->len[dim] = 1;
            dim++;
            continue;
        }
        if (s > 0) {
            lo = (n->begin_mask >> i & 1) ? 0 : b[i] < 0 ? b[i] + D : b[i];
            hi = (n->end_mask >> i & 1) ? D : e[i] < 0 ? e[i] + D : e[i];
            lo = lo < 0 ? 0 : lo > D ? D : lo;
            hi = hi < 0 ? 0 : hi > D ? D : hi;
            p->len[dim] = hi > lo ? (int)(((long)hi - lo + s - 1) / s) : 0; /* long: s may be INT_MAX */
        } else {
            lo = (n->begin_mask >> i & 1) ? D - 1 : b[i] < 0 ? b[i] + D : b[i];
            hi = (n->end_mask >> i & 1) ? -1 : e[i] < 0 ? e[i] + D : e[i];
            lo = lo < -1 ? -1 : lo > D - 1 ? D - 1 : lo;
            hi = hi < -1 ? -1 : hi > D - 1 ? D - 1 : hi;
            p->len[dim] = lo > hi ? (int)(((long)lo - hi - s - 1) / -(long)s) : 0; /* s may be INT_MIN */
        }
        p->begin[dim] = lo, p->stride[dim] = s;
        p->out.d[p->out.rank++] = p->len[dim];
        dim++;
    }
    for (; dim < in->rank; dim++) {
        p->begin[dim] = 0, p->stride[dim] = 1, p->len[dim] = in->d[dim];
        p->out.d[p->out.rank++] = in->d[dim];
    }
    return p->out.rank <= TF_MAXRANK ? 0 : -1;
}

int tf_einsum_parse(const char *eq, tf_einsum *e)
{
    memset(e, 0, sizeof *e);
    const char *arrow = strstr(eq, "->"), *comma = strchr(eq, ',');
    if (!arrow || !comma || comma > arrow)
        return -1;
    int la = (int)(comma - eq), lb = (int)(arrow - comma - 1), lo = (int)strlen(arrow + 2);
    if (la > TF_MAXRANK || lb > TF_MAXRANK || lo > TF_MAXRANK || strchr(arrow + 2, ','))
        return -1;
    memcpy(e->a, eq, (size_t)la), memcpy(e->b, comma + 1, (size_t)lb), memcpy(e->o, arrow + 2, (size_t)lo);
    e->na = la, e->nb = lb, e->no = lo;
    for (const char *s = eq; *s; s++)
        if (*s != ',' && *s != '-' && *s != '>' && (*s < 'a' || *s > 'z') && (*s < 'A' || *s > 'Z'))
            return -1; /* ellipsis, spaces: not supported */
    for (int i = 0; i < lo; i++)
        if (memchr(e->o + i + 1, e->o[i], (size_t)(lo - i - 1)))
            return -1; /* a repeated output letter (TF refuses it; the evaluator would read out of bounds) */
    return 0;
}

/* Strides of `in` read as a tensor of shape `out` (right-aligned numpy broadcasting: 0 where
 * in has 1 and out does not). */
void tf_bcast_strides(const tf_shape *in, const tf_shape *out, long *st)
{
    long s = 1;
    for (int i = out->rank - 1; i >= 0; i--) {
        int k = i - (out->rank - in->rank);
        if (k < 0) {
            st[i] = 0;
            continue;
        }
        st[i] = in->d[k] == 1 && out->d[i] != 1 ? 0 : s;
        s *= in->d[k];
    }
}
