/* tf_ops_infer.c - shape inference of the TF ops (tf_ops.h): TF's own rules, including
 * StridedSlice's masks and Einsum's letters. */
#include <stdio.h>
#include <string.h>

#include "nn/tf_ops.h"
#include "nn/tf_ops_internal.h"

#define MAX_ELEMS ((size_t)1 << 31)

unsigned tf_op_const_inputs(const tf_node *n)
{
    switch (n->op) {
    case TFOP_RESHAPE: case TFOP_TRANSPOSE: case TFOP_SUM: case TFOP_MEAN: case TFOP_EXPANDDIMS:
    case TFOP_BROADCASTTO:
        return 2u;
    case TFOP_CONCAT:
        return n->nin > 0 ? 1u << (n->nin - 1) : 0;
    case TFOP_STRIDEDSLICE:
        return 14u;
    case TFOP_RANGE:
        return 7u;
    case TFOP_GATHER:
        return 4u;
    case TFOP_DECONV2D: case TFOP_FILL:
        return 1u;
    default:
        return 0;
    }
}

int tf_op_is_view(tf_opk op)
{
    return op == TFOP_IDENTITY || op == TFOP_STOPGRAD || op == TFOP_RESHAPE || op == TFOP_EXPANDDIMS ||
           op == TFOP_SQUEEZE;
}

static enh_status bad(const tf_node *n, enh_error *err, const char *what)
{
    return enh_fail(err, ENH_EINVAL, "node '%s' (%s): %s", n->name, tf_op_name(n->op), what);
}

static enh_status check_count(const tf_node *n, const tf_shape *s, enh_error *err)
{
    size_t c = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->d[i] < 0)
            return bad(n, err, "negative dimension");
        if (s->d[i] && c > MAX_ELEMS / (size_t)s->d[i])
            return enh_fail(err, ENH_ETOOBIG, "node '%s' (%s): tensor of more than 2^31 elements", n->name,
                            tf_op_name(n->op));
        c *= (size_t)s->d[i];
    }
    return ENH_OK;
}

/* Size of einsum letter c from the operands' shapes; -1 when absent or inconsistent. */
static int letter_size(const tf_einsum *e, char c, const tf_shape *a, const tf_shape *b)
{
    int sz = -1;
    for (int i = 0; i < e->na; i++)
        if (e->a[i] == c) {
            if (sz >= 0 && sz != a->d[i] && a->d[i] != 1 && sz != 1)
                return -1;
            sz = sz > a->d[i] ? sz : a->d[i];
        }
    for (int i = 0; i < e->nb; i++)
        if (e->b[i] == c) {
            if (sz >= 0 && sz != b->d[i] && b->d[i] != 1 && sz != 1)
                return -1;
            sz = sz > b->d[i] ? sz : b->d[i];
        }
    return sz;
}

static enh_status conv_out(const tf_node *n, int in, int k, int ax, int *out)
{
    int s = n->strides[ax], d = n->dilations[ax], dk = (k - 1) * d + 1;
    if (n->padding == TF_PAD_SAME)
        *out = (in + s - 1) / s;
    else if (n->padding == TF_PAD_VALID)
        *out = in >= dk ? (in - dk) / s + 1 : 0;
    else {
        int p = n->explicit_pad[2 * ax] + n->explicit_pad[2 * ax + 1];
        *out = in + p >= dk ? (in + p - dk) / s + 1 : 0;
    }
    return ENH_OK;
}

enh_status tf_op_infer(const tf_node *n, const tf_tensor *ins, tf_tensor *out, enh_error *err)
{
    unsigned need = tf_op_const_inputs(n);
    for (int i = 0; i < n->nin; i++)
        if ((need >> i & 1) && !ins[i].data)
            return enh_fail(err, ENH_EUNSUPPORTED,
                            "node '%s' (%s): input %d must be constant once the input size is known, and is not",
                            n->name, tf_op_name(n->op), i);
    int v[TF_MAXRANK * 2], nv;
    out->data = NULL;
    out->dt = n->nin ? ins[0].dt : n->dtype;
    tf_shape s = n->nin ? ins[0].s : (tf_shape){0};
    tf_unary un = tf_op_unary(n->op);
    tf_binary bi = tf_op_binary(n->op);
#define NEED(k)                                                                                                   \
    do {                                                                                                          \
        if (n->nin < (k))                                                                                         \
            return bad(n, err, "too few inputs");                                                                 \
    } while (0)
    if (un != TF_UN_NONE) {
        NEED(1);
    } else if (bi != TF_BI_NONE) {
        NEED(2);
        if (ins[0].dt != ins[1].dt)
            return bad(n, err, "inputs of different data types");
        if (tf_broadcast_shape(&ins[0].s, &ins[1].s, &s) < 0)
            return bad(n, err, "input shapes do not broadcast");
        if (bi >= TF_BI_GT)
            out->dt = TF_BOOL;
    } else
        switch (n->op) {
        case TFOP_CONST:
            *out = n->value;
            out->data = NULL;
            return ENH_OK;
        case TFOP_IDENTITY: case TFOP_STOPGRAD: case TFOP_ZEROSLIKE: case TFOP_ONESLIKE:
            NEED(1);
            break;
        case TFOP_CAST:
            NEED(1);
            out->dt = n->dtype;
            break;
        case TFOP_BIASADD:
            NEED(2);
            break;
        case TFOP_ADDN:
            NEED(1);
            for (int i = 1; i < n->nin; i++)
                if (!tf_shape_eq(&ins[i].s, &s))
                    return bad(n, err, "AddN inputs of different shapes");
            break;
        case TFOP_SELECT:
            NEED(3);
            out->dt = ins[1].dt;
            if (tf_broadcast_shape(&ins[0].s, &ins[1].s, &s) < 0 || tf_broadcast_shape(&s, &ins[2].s, &s) < 0)
                return bad(n, err, "input shapes do not broadcast");
            break;
        case TFOP_BROADCASTTO: {
            NEED(2);
            tf_shape t = {0};
            if ((nv = tf_const_ints(&ins[1], v, TF_MAXRANK)) < 0)
                return bad(n, err, "shape must be a 1-D int tensor of rank <= 8");
            t.rank = nv;
            memcpy(t.d, v, (size_t)nv * sizeof *v);
            if (tf_broadcast_shape(&ins[0].s, &t, &s) < 0 || !tf_shape_eq(&s, &t))
                return bad(n, err, "input does not broadcast to the shape");
            break;
        }
        case TFOP_FILL:
            NEED(2);
            if ((nv = tf_const_ints(&ins[0], v, TF_MAXRANK)) < 0)
                return bad(n, err, "dims must be a 1-D int tensor");
            s.rank = nv;
            memcpy(s.d, v, (size_t)nv * sizeof *v);
            out->dt = ins[1].dt;
            break;
        case TFOP_CONCAT: {
            NEED(2);
            int ax;
            if (tf_const_ints(&ins[n->nin - 1], &ax, 1) != 1)
                return bad(n, err, "axis must be a scalar");
            s = ins[0].s;
            if (ax < 0)
                ax += s.rank;
            if (ax < 0 || ax >= s.rank)
                return bad(n, err, "axis out of range");
            for (int i = 1; i < n->nin - 1; i++) {
                if (ins[i].s.rank != s.rank || ins[i].dt != ins[0].dt)
                    return bad(n, err, "inputs of different ranks or types");
                for (int d = 0; d < s.rank; d++)
                    if (d != ax && ins[i].s.d[d] != s.d[d])
                        return bad(n, err, "inputs differ outside the concatenation axis");
                s.d[ax] += ins[i].s.d[ax];
            }
            break;
        }
        case TFOP_PACK: {
            NEED(1);
            int ax = n->axis < 0 ? n->axis + ins[0].s.rank + 1 : n->axis;
            if (ax < 0 || ax > ins[0].s.rank || ins[0].s.rank >= TF_MAXRANK)
                return bad(n, err, "axis out of range");
            for (int i = 1; i < n->nin; i++)
                if (!tf_shape_eq(&ins[i].s, &ins[0].s))
                    return bad(n, err, "inputs of different shapes");
            s.rank = ins[0].s.rank + 1;
            for (int d = 0, k = 0; d < s.rank; d++)
                s.d[d] = d == ax ? n->nin : ins[0].s.d[k++];
            break;
        }
        case TFOP_RANGE: {
            NEED(3);
            double a[3];
            for (int i = 0; i < 3; i++) {
                if (tf_shape_count(&ins[i].s) != 1)
                    return bad(n, err, "start, limit and delta must be scalars");
                a[i] = ins[i].dt == TF_F32 ? ((const float *)ins[i].data)[0] : ((const int *)ins[i].data)[0];
            }
            if (a[2] == 0)
                return bad(n, err, "delta is 0");
            double cnt = (a[1] - a[0]) / a[2];
            if (!(cnt <= (double)(1L << 30))) /* before the cast: a huge or NaN count is UB as a long */
                return bad(n, err, "range too long");
            long c = cnt <= 0 ? 0 : (long)(cnt + 0.999999999);
            out->dt = n->dtype;
            s.rank = 1, s.d[0] = (int)c;
            break;
        }
        case TFOP_RESHAPE: {
            NEED(2);
            if ((nv = tf_const_ints(&ins[1], v, TF_MAXRANK)) < 0)
                return bad(n, err, "shape must be a 1-D int tensor of rank <= 8");
            size_t total = tf_shape_count(&ins[0].s), known = 1;
            int neg = -1;
            s.rank = nv;
            for (int i = 0; i < nv; i++) {
                if (v[i] == -1) {
                    if (neg >= 0)
                        return bad(n, err, "more than one -1 in the shape");
                    neg = i;
                } else if (v[i] < 0)
                    return bad(n, err, "negative dimension in the shape");
                else
                    known *= (size_t)v[i];
                s.d[i] = v[i];
            }
            if (neg >= 0) {
                if (!known || total % known)
                    return bad(n, err, "the -1 dimension cannot be inferred");
                s.d[neg] = (int)(total / known);
            } else if (known != total)
                return bad(n, err, "reshape changes the number of elements");
            break;
        }
        case TFOP_EXPANDDIMS: {
            NEED(2);
            int ax;
            if (tf_const_ints(&ins[1], &ax, 1) != 1 || ins[0].s.rank >= TF_MAXRANK)
                return bad(n, err, "dim must be a scalar and the rank < 8");
            if (ax < 0)
                ax += ins[0].s.rank + 1;
            if (ax < 0 || ax > ins[0].s.rank)
                return bad(n, err, "dim out of range");
            s.rank = ins[0].s.rank + 1;
            for (int d = 0, k = 0; d < s.rank; d++)
                s.d[d] = d == ax ? 1 : ins[0].s.d[k++];
            break;
        }
        case TFOP_SQUEEZE: {
            NEED(1);
            int drop[TF_MAXRANK] = {0};
            for (int i = 0; i < n->nsqueeze; i++) {
                int ax = n->squeeze[i] < 0 ? n->squeeze[i] + ins[0].s.rank : n->squeeze[i];
                if (ax < 0 || ax >= ins[0].s.rank || ins[0].s.d[ax] != 1)
                    return bad(n, err, "squeeze_dims names a dimension that is not 1");
                drop[ax] = 1;
            }
            s.rank = 0;
            for (int d = 0; d < ins[0].s.rank; d++)
                if (!(n->nsqueeze ? drop[d] : ins[0].s.d[d] == 1))
                    s.d[s.rank++] = ins[0].s.d[d];
            break;
        }
        case TFOP_SHAPE:
            NEED(1);
            out->dt = TF_I32;
            s.rank = 1, s.d[0] = ins[0].s.rank;
            break;
        case TFOP_STRIDEDSLICE: {
            NEED(3);
            tf_slice_plan p;
            if (tf_strided_slice_plan(n, ins, &p) < 0)
                return bad(n, err, "begin/end/strides or masks do not fit the input");
            s = p.out;
            break;
        }
        case TFOP_TRANSPOSE: {
            NEED(2);
            int seen[TF_MAXRANK] = {0};
            if ((nv = tf_const_ints(&ins[1], v, TF_MAXRANK)) != ins[0].s.rank)
                return bad(n, err, "perm must list every dimension");
            for (int i = 0; i < nv; i++) {
                if (v[i] < 0 || v[i] >= nv || seen[v[i]]++)
                    return bad(n, err, "perm is not a permutation");
                s.d[i] = ins[0].s.d[v[i]];
            }
            break;
        }
        case TFOP_SUM: case TFOP_MEAN: {
            NEED(2);
            int red[TF_MAXRANK] = {0};
            if ((nv = tf_const_ints(&ins[1], v, TF_MAXRANK)) < 0)
                return bad(n, err, "axes must be an int scalar or vector");
            for (int i = 0; i < nv; i++) {
                int ax = v[i] < 0 ? v[i] + ins[0].s.rank : v[i];
                if (ax < 0 || ax >= ins[0].s.rank)
                    return bad(n, err, "axis out of range");
                red[ax] = 1;
            }
            s.rank = 0;
            for (int d = 0; d < ins[0].s.rank; d++)
                if (!red[d])
                    s.d[s.rank++] = ins[0].s.d[d];
                else if (n->keep_dims)
                    s.d[s.rank++] = 1;
            break;
        }
        case TFOP_GATHER: {
            NEED(3);
            int ax;
            if (tf_const_ints(&ins[2], &ax, 1) != 1)
                return bad(n, err, "axis must be a scalar");
            if (ax < 0)
                ax += ins[0].s.rank;
            if (n->batch_dims != 0 || ax < 0 || ax >= ins[0].s.rank || ins[1].dt != TF_I32 ||
                ins[0].s.rank + ins[1].s.rank - 1 > TF_MAXRANK)
                return bad(n, err, "only batch_dims 0, an axis in range and int32 indices are supported");
            s.rank = 0;
            for (int d = 0; d < ax; d++)
                s.d[s.rank++] = ins[0].s.d[d];
            for (int d = 0; d < ins[1].s.rank; d++)
                s.d[s.rank++] = ins[1].s.d[d];
            for (int d = ax + 1; d < ins[0].s.rank; d++)
                s.d[s.rank++] = ins[0].s.d[d];
            break;
        }
        case TFOP_EINSUM: {
            NEED(2);
            tf_einsum e;
            if (tf_einsum_parse(n->equation, &e) < 0 || e.na != ins[0].s.rank || e.nb != ins[1].s.rank)
                return bad(n, err, "equation not supported (two operands, letters only) or ranks differ");
            s.rank = e.no;
            for (int i = 0; i < e.no; i++)
                if ((s.d[i] = letter_size(&e, e.o[i], &ins[0].s, &ins[1].s)) < 0)
                    return bad(n, err, "an output letter is missing from the operands or sizes differ");
            for (int i = 0; i < e.na + e.nb; i++) { /* contracted letters: one size (the evaluator reads both) */
                char l = i < e.na ? e.a[i] : e.b[i - e.na];
                int d = i < e.na ? ins[0].s.d[i] : ins[1].s.d[i - e.na];
                if (!strchr(e.o, l) && letter_size(&e, l, &ins[0].s, &ins[1].s) != d)
                    return bad(n, err, "a contracted letter has different sizes in the operands");
            }
            break;
        }
        case TFOP_CONV2D: {
            NEED(2);
            const tf_shape *x = &ins[0].s, *f = &ins[1].s;
            if (x->rank != 4 || f->rank != 4 || ins[0].dt != TF_F32 || f->d[2] < 1 || x->d[3] % f->d[2])
                return bad(n, err, "input must be NHWC float32 and the filter HWIO with matching channels");
            if (f->d[2] != x->d[3])
                return enh_fail(err, ENH_EUNSUPPORTED, "node '%s': grouped convolution is not supported", n->name);
            s.rank = 4, s.d[0] = x->d[0], s.d[3] = f->d[3];
            conv_out(n, x->d[1], f->d[0], 1, &s.d[1]);
            conv_out(n, x->d[2], f->d[1], 2, &s.d[2]);
            break;
        }
        case TFOP_DECONV2D: {
            NEED(3);
            const tf_shape *f = &ins[1].s, *y = &ins[2].s;
            if ((nv = tf_const_ints(&ins[0], v, 4)) != 4 || f->rank != 4 || y->rank != 4 || y->d[3] != f->d[3] ||
                v[3] != f->d[2] || v[0] != y->d[0])
                return bad(n, err, "input_sizes, filter [kh,kw,out,in] and input do not fit");
            int oh, ow;
            conv_out(n, v[1], f->d[0], 1, &oh);
            conv_out(n, v[2], f->d[1], 2, &ow);
            if (oh != y->d[1] || ow != y->d[2])
                return bad(n, err, "input_sizes do not match the input's size for these strides and padding");
            s.rank = 4;
            memcpy(s.d, v, 4 * sizeof *v);
            out->dt = TF_F32;
            break;
        }
        case TFOP_PLACEHOLDER:
            return bad(n, err, "placeholder shape comes from the caller");
        default:
            return enh_fail(err, ENH_EUNSUPPORTED, "node '%s': op %s has no shape rule", n->name, tf_op_name(n->op));
        }
#undef NEED
    out->s = s;
    return check_count(n, &s, err);
}
