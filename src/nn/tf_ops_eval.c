/* tf_ops_eval.c - reference evaluation of the TF ops (tf_ops.h) on N-d tensors: element-wise
 * ops with numpy broadcasting, reductions, data movement (transpose, slice, gather, concat),
 * Einsum, and NHWC convolutions. Plain loops; the fast kernels live in tf_kern*.c. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/tf_ops.h"
#include "nn/tf_ops_internal.h"

static int32_t binary_i(tf_binary b, int32_t x, int32_t y, int *bad)
{
    switch (b) {
    case TF_BI_ADD: return (int32_t)((uint32_t)x + (uint32_t)y);
    case TF_BI_SUB: return (int32_t)((uint32_t)x - (uint32_t)y);
    case TF_BI_MUL: return (int32_t)((uint32_t)x * (uint32_t)y);
    case TF_BI_MAX: return x > y ? x : y;
    case TF_BI_MIN: return x < y ? x : y;
    case TF_BI_DIV: case TF_BI_FLOORDIV: case TF_BI_FLOORMOD: {
        if (y == 0 || (x == INT32_MIN && y == -1)) {
            *bad = 1;
            return 0;
        }
        int32_t q = x / y, r = x % y;
        if (r != 0 && ((r < 0) != (y < 0)))
            q--, r += y;
        return b == TF_BI_FLOORMOD ? r : q;
    }
    case TF_BI_SQDIFF: return (x - y) * (x - y);
    case TF_BI_POW: { int32_t p = 1; for (int i = 0; i < y && i < 64; i++) p *= x; return p; }
    case TF_BI_GT: return x > y;
    case TF_BI_GE: return x >= y;
    case TF_BI_LT: return x < y;
    case TF_BI_LE: return x <= y;
    case TF_BI_EQ: return x == y;
    case TF_BI_NE: return x != y;
    case TF_BI_AND: return x && y;
    case TF_BI_OR: return x || y;
    default: return 0;
    }
}


/* Calls f(ctx, outer_offsets[nin], out_offset, inner count, inner strides[nin]) over every
 * innermost row of an out-shaped iteration; offsets in elements. */
typedef void (*row_fn)(void *ctx, const long *off, long ooff, int n, const long *ist);
static void for_rows(const tf_shape *out, int nin, long st[][TF_MAXRANK], row_fn f, void *ctx)
{
    int r = out->rank;
    if (tf_shape_count(out) == 0)
        return;
    if (r == 0) {
        long off[4] = {0}, ist[4] = {0};
        f(ctx, off, 0, 1, ist);
        return;
    }
    int idx[TF_MAXRANK] = {0};
    long off[4] = {0}, ist[4];
    for (int k = 0; k < nin; k++)
        ist[k] = st[k][r - 1];
    int n = out->d[r - 1];
    long ooff = 0;
    for (;;) {
        f(ctx, off, ooff, n, ist);
        ooff += n;
        int d = r - 2;
        for (; d >= 0; d--) {
            idx[d]++;
            for (int k = 0; k < nin; k++)
                off[k] += st[k][d];
            if (idx[d] < out->d[d])
                break;
            for (int k = 0; k < nin; k++)
                off[k] -= st[k][d] * out->d[d];
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

typedef struct {
    const void *in[3];
    void *out;
    tf_dtype dt;  /* of the operands */
    tf_unary un;
    tf_binary bi;
    int bad;
    int cast_to;  /* Cast: destination dtype */
} ew_ctx;

static void row_unary(void *c_, const long *off, long ooff, int n, const long *ist)
{
    ew_ctx *c = c_;
    if (c->dt == TF_F32) {
        const float *a = (const float *)c->in[0] + off[0];
        float *o = (float *)c->out + ooff;
        for (int i = 0; i < n; i++)
            o[i] = tf_unary_f(c->un, a[i * ist[0]]);
    } else {
        const int32_t *a = (const int32_t *)c->in[0] + off[0];
        int32_t *o = (int32_t *)c->out + ooff;
        for (int i = 0; i < n; i++) {
            int32_t x = a[i * ist[0]];
            o[i] = c->un == TF_UN_ABS ? (x < 0 ? -x : x) : c->un == TF_UN_NEG ? -x
                   : c->un == TF_UN_SIGN ? (x > 0) - (x < 0) : c->un == TF_UN_SQUARE ? x * x : x;
        }
    }
}

static void row_binary(void *c_, const long *off, long ooff, int n, const long *ist)
{
    ew_ctx *c = c_;
    if (c->dt == TF_F32) {
        const float *a = (const float *)c->in[0] + off[0], *b = (const float *)c->in[1] + off[1];
        if (c->bi >= TF_BI_GT) {
            int32_t *o = (int32_t *)c->out + ooff;
            for (int i = 0; i < n; i++)
                o[i] = (int32_t)tf_binary_f(c->bi, a[i * ist[0]], b[i * ist[1]]);
        } else {
            float *o = (float *)c->out + ooff;
            for (int i = 0; i < n; i++)
                o[i] = tf_binary_f(c->bi, a[i * ist[0]], b[i * ist[1]]);
        }
    } else {
        const int32_t *a = (const int32_t *)c->in[0] + off[0], *b = (const int32_t *)c->in[1] + off[1];
        int32_t *o = (int32_t *)c->out + ooff;
        for (int i = 0; i < n; i++)
            o[i] = binary_i(c->bi, a[i * ist[0]], b[i * ist[1]], &c->bad);
    }
}

static void row_select(void *c_, const long *off, long ooff, int n, const long *ist)
{
    ew_ctx *c = c_;
    const int32_t *k = (const int32_t *)c->in[0] + off[0];
    const int32_t *a = (const int32_t *)c->in[1] + off[1], *b = (const int32_t *)c->in[2] + off[2];
    int32_t *o = (int32_t *)c->out + ooff;
    for (int i = 0; i < n; i++)
        o[i] = k[i * ist[0]] ? a[i * ist[1]] : b[i * ist[2]];
}

static void row_copy(void *c_, const long *off, long ooff, int n, const long *ist)
{
    ew_ctx *c = c_;
    const int32_t *a = (const int32_t *)c->in[0] + off[0];
    int32_t *o = (int32_t *)c->out + ooff;
    if (ist[0] == 1)
        memcpy(o, a, (size_t)n * 4);
    else
        for (int i = 0; i < n; i++)
            o[i] = a[i * ist[0]];
}

static void row_cast(void *c_, const long *off, long ooff, int n, const long *ist)
{
    ew_ctx *c = c_;
    if (c->dt == TF_F32) {
        const float *a = (const float *)c->in[0] + off[0];
        int32_t *o = (int32_t *)c->out + ooff;
        for (int i = 0; i < n; i++) {
            float x = a[i * ist[0]];
            o[i] = c->cast_to == TF_BOOL ? x != 0 : x != x ? 0 : x >= 2147483647.0f ? INT32_MAX
                   : x <= -2147483648.0f ? INT32_MIN : (int32_t)x;
        }
    } else {
        const int32_t *a = (const int32_t *)c->in[0] + off[0];
        if (c->cast_to == TF_F32) {
            float *o = (float *)c->out + ooff;
            for (int i = 0; i < n; i++)
                o[i] = (float)a[i * ist[0]];
        } else {
            int32_t *o = (int32_t *)c->out + ooff;
            for (int i = 0; i < n; i++)
                o[i] = c->cast_to == TF_BOOL ? a[i * ist[0]] != 0 : a[i * ist[0]];
        }
    }
}

/* out[...] = in read through explicit strides (+ a base offset) over out's shape. */
static void strided_copy(const tf_tensor *in, long base, const long *st, tf_tensor *out)
{
    long s[1][TF_MAXRANK];
    memcpy(s[0], st, sizeof s[0]);
    ew_ctx c = {.in = {(const int32_t *)in->data + base}, .out = out->data};
    for_rows(&out->s, 1, s, row_copy, &c);
}

static void natural_strides(const tf_shape *s, long *st)
{
    long k = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        st[i] = k;
        k *= s->d[i];
    }
}

static enh_status eval_einsum(const tf_node *n, const tf_tensor *ins, tf_tensor *out)
{
    tf_einsum e;
    tf_einsum_parse(n->equation, &e);
    /* letters: output first, then contracted */
    char let[2 * TF_MAXRANK + 1] = {0};
    int nl = 0, size[2 * TF_MAXRANK];
    long sa[2 * TF_MAXRANK] = {0}, sb[2 * TF_MAXRANK] = {0};
    for (int i = 0; i < e.no; i++)
        let[nl] = e.o[i], size[nl++] = out->s.d[i];
    int nout = nl;
    const char *both[2] = {e.a, e.b};
    const tf_tensor *t[2] = {&ins[0], &ins[1]};
    for (int k = 0; k < 2; k++)
        for (int i = 0; both[k][i]; i++)
            if (!strchr(let, both[k][i]))
                let[nl] = both[k][i], size[nl++] = t[k]->s.d[i];
    long na[TF_MAXRANK], nb[TF_MAXRANK];
    natural_strides(&ins[0].s, na);
    natural_strides(&ins[1].s, nb);
    for (int l = 0; l < nl; l++) {
        for (int i = 0; i < e.na; i++)
            if (e.a[i] == let[l] && ins[0].s.d[i] != 1)
                sa[l] += na[i];
        for (int i = 0; i < e.nb; i++)
            if (e.b[i] == let[l] && ins[1].s.d[i] != 1)
                sb[l] += nb[i];
    }
    const float *A = ins[0].data, *B = ins[1].data;
    float *O = out->data;
    size_t total = tf_shape_count(&out->s);
    long csize = 1;
    for (int l = nout; l < nl; l++)
        csize *= size[l];
    for (size_t o = 0; o < total; o++) {
        size_t r = o;
        long oa = 0, ob = 0;
        for (int l = nout - 1; l >= 0; l--) {
            long ix = (long)(r % (size_t)size[l]);
            r /= (size_t)size[l];
            oa += ix * sa[l], ob += ix * sb[l];
        }
        double acc = 0;
        for (long c = 0; c < csize; c++) {
            long rr = c, ca = oa, cb = ob;
            for (int l = nl - 1; l >= nout; l--) {
                long ix = rr % size[l];
                rr /= size[l];
                ca += ix * sa[l], cb += ix * sb[l];
            }
            acc += (double)A[ca] * B[cb];
        }
        O[o] = (float)acc;
    }
    return ENH_OK;
}

static void conv_pads(const tf_node *n, int in, int k, int outn, int ax, int *before)
{
    int s = n->strides[ax], d = n->dilations[ax], dk = (k - 1) * d + 1;
    if (n->padding == TF_PAD_SAME) {
        int total = (outn - 1) * s + dk - in;
        *before = total > 0 ? total / 2 : 0;
    } else if (n->padding == TF_PAD_VALID)
        *before = 0;
    else
        *before = n->explicit_pad[2 * ax];
}

static void eval_conv(const tf_node *n, const tf_tensor *ins, tf_tensor *out)
{
    const tf_shape *x = &ins[0].s, *f = &ins[1].s;
    int N = x->d[0], H = x->d[1], W = x->d[2], C = x->d[3], KH = f->d[0], KW = f->d[1], CO = f->d[3];
    int OH = out->s.d[1], OW = out->s.d[2], pt, pl;
    conv_pads(n, H, KH, OH, 1, &pt);
    conv_pads(n, W, KW, OW, 2, &pl);
    const float *X = ins[0].data, *F = ins[1].data;
    float *O = out->data;
    for (int b = 0; b < N; b++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float *o = O + (((size_t)b * OH + oy) * OW + ox) * CO;
                for (int co = 0; co < CO; co++)
                    o[co] = 0;
                for (int ky = 0; ky < KH; ky++) {
                    int iy = oy * n->strides[1] + ky * n->dilations[1] - pt;
                    if (iy < 0 || iy >= H)
                        continue;
                    for (int kx = 0; kx < KW; kx++) {
                        int ix = ox * n->strides[2] + kx * n->dilations[2] - pl;
                        if (ix < 0 || ix >= W)
                            continue;
                        const float *xi = X + (((size_t)b * H + iy) * W + ix) * C;
                        const float *fk = F + ((size_t)ky * KW + kx) * C * CO;
                        for (int c = 0; c < C; c++)
                            for (int co = 0; co < CO; co++)
                                o[co] += xi[c] * fk[(size_t)c * CO + co];
                    }
                }
            }
}

/* Conv2DBackpropInput: the gradient of a conv with this filter, i.e. each input pixel of
 * out_backprop scatters filter-weighted values into the (larger) output. */
static void eval_deconv(const tf_node *n, const tf_tensor *ins, tf_tensor *out)
{
    const tf_shape *f = &ins[1].s, *y = &ins[2].s;
    int N = out->s.d[0], OH = out->s.d[1], OW = out->s.d[2], CO = out->s.d[3];
    int KH = f->d[0], KW = f->d[1], H = y->d[1], W = y->d[2], CI = y->d[3], pt, pl;
    conv_pads(n, OH, KH, H, 1, &pt);
    conv_pads(n, OW, KW, W, 2, &pl);
    const float *Y = ins[2].data, *F = ins[1].data;
    float *O = out->data;
    memset(O, 0, tf_shape_count(&out->s) * 4);
    for (int b = 0; b < N; b++)
        for (int iy = 0; iy < H; iy++)
            for (int ix = 0; ix < W; ix++) {
                const float *yi = Y + (((size_t)b * H + iy) * W + ix) * CI;
                for (int ky = 0; ky < KH; ky++) {
                    int oy = iy * n->strides[1] + ky * n->dilations[1] - pt;
                    if (oy < 0 || oy >= OH)
                        continue;
                    for (int kx = 0; kx < KW; kx++) {
                        int ox = ix * n->strides[2] + kx * n->dilations[2] - pl;
                        if (ox < 0 || ox >= OW)
                            continue;
                        float *o = O + (((size_t)b * OH + oy) * OW + ox) * CO;
                        const float *fk = F + ((size_t)ky * KW + kx) * CO * CI;
                        for (int co = 0; co < CO; co++) {
                            float acc = 0;
                            for (int ci = 0; ci < CI; ci++)
                                acc += fk[(size_t)co * CI + ci] * yi[ci];
                            o[co] += acc;
                        }
                    }
                }
            }
}

static enh_status eval_reduce(const tf_node *n, const tf_tensor *ins, tf_tensor *out)
{
    int v[TF_MAXRANK], nv = tf_const_ints(&ins[1], v, TF_MAXRANK), red[TF_MAXRANK] = {0};
    const tf_shape *s = &ins[0].s;
    for (int i = 0; i < nv; i++)
        red[v[i] < 0 ? v[i] + s->rank : v[i]] = 1;
    /* output strides laid over the input shape (0 on reduced axes) */
    long ost[TF_MAXRANK], k = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        ost[i] = red[i] ? 0 : k;
        k *= red[i] ? 1 : s->d[i];
    }
    size_t nout = tf_shape_count(&out->s), nin = tf_shape_count(s);
    double *acc = calloc(nout ? nout : 1, sizeof *acc);
    if (!acc)
        return ENH_ENOMEM;
    int idx[TF_MAXRANK] = {0};
    long o = 0;
    for (size_t i = 0; i < nin; i++) {
        acc[o] += ins[0].dt == TF_F32 ? ((const float *)ins[0].data)[i] : ((const int32_t *)ins[0].data)[i];
        for (int d = s->rank - 1; d >= 0; d--) {
            o += ost[d];
            if (++idx[d] < s->d[d])
                break;
            o -= ost[d] * s->d[d];
            idx[d] = 0;
        }
    }
    double div = n->op == TFOP_MEAN && nout ? (double)nin / nout : 1;
    for (size_t i = 0; i < nout; i++) {
        if (out->dt == TF_F32)
            ((float *)out->data)[i] = (float)(acc[i] / div);
        else
            ((int32_t *)out->data)[i] = (int32_t)(acc[i] / div);
    }
    free(acc);
    return ENH_OK;
}

static enh_status fail_eval(const tf_node *n, enh_error *err, const char *what)
{
    return enh_fail(err, ENH_EINVAL, "node '%s' (%s): %s", n->name, tf_op_name(n->op), what);
}

enh_status tf_op_eval(const tf_node *n, const tf_tensor *ins, tf_tensor *out, enh_error *err)
{
    size_t count = tf_shape_count(&out->s);
    long st[3][TF_MAXRANK];
    ew_ctx c = {.out = out->data, .dt = n->nin ? ins[0].dt : TF_F32};
    tf_unary un = tf_op_unary(n->op);
    tf_binary bi = tf_op_binary(n->op);
    if (un != TF_UN_NONE) {
        tf_bcast_strides(&ins[0].s, &out->s, st[0]);
        c.in[0] = ins[0].data, c.un = un;
        for_rows(&out->s, 1, st, row_unary, &c);
        return ENH_OK;
    }
    if (bi != TF_BI_NONE) {
        tf_bcast_strides(&ins[0].s, &out->s, st[0]);
        tf_bcast_strides(&ins[1].s, &out->s, st[1]);
        c.in[0] = ins[0].data, c.in[1] = ins[1].data, c.bi = bi;
        for_rows(&out->s, 2, st, row_binary, &c);
        return c.bad ? fail_eval(n, err, "integer division by zero") : ENH_OK;
    }
    switch (n->op) {
    case TFOP_IDENTITY: case TFOP_STOPGRAD: case TFOP_RESHAPE: case TFOP_EXPANDDIMS: case TFOP_SQUEEZE:
        memcpy(out->data, ins[0].data, count * 4);
        return ENH_OK;
    case TFOP_ZEROSLIKE: case TFOP_ONESLIKE:
        for (size_t i = 0; i < count; i++) {
            if (out->dt == TF_F32)
                ((float *)out->data)[i] = n->op == TFOP_ONESLIKE;
            else
                ((int32_t *)out->data)[i] = n->op == TFOP_ONESLIKE;
        }
        return ENH_OK;
    case TFOP_ADDN:
        memcpy(out->data, ins[0].data, count * 4);
        for (int k = 1; k < n->nin; k++)
            for (size_t i = 0; i < count; i++) {
                if (out->dt == TF_F32)
                    ((float *)out->data)[i] += ((const float *)ins[k].data)[i];
                else
                    ((int32_t *)out->data)[i] += ((const int32_t *)ins[k].data)[i];
            }
        return ENH_OK;
    case TFOP_CAST:
        tf_bcast_strides(&ins[0].s, &out->s, st[0]);
        c.in[0] = ins[0].data, c.cast_to = n->dtype;
        for_rows(&out->s, 1, st, row_cast, &c);
        return ENH_OK;
    case TFOP_SELECT:
        for (int k = 0; k < 3; k++) {
            tf_bcast_strides(&ins[k].s, &out->s, st[k]);
            c.in[k] = ins[k].data;
        }
        for_rows(&out->s, 3, st, row_select, &c);
        return ENH_OK;
    case TFOP_BROADCASTTO:
        tf_bcast_strides(&ins[0].s, &out->s, st[0]);
        strided_copy(&ins[0], 0, st[0], out);
        return ENH_OK;
    case TFOP_FILL:
        for (size_t i = 0; i < count; i++)
            ((int32_t *)out->data)[i] = ((const int32_t *)ins[1].data)[0];
        return ENH_OK;
    case TFOP_SHAPE:
        for (int i = 0; i < ins[0].s.rank; i++)
            ((int32_t *)out->data)[i] = ins[0].s.d[i];
        return ENH_OK;
    case TFOP_RANGE: {
        double a = ins[0].dt == TF_F32 ? ((const float *)ins[0].data)[0] : ((const int32_t *)ins[0].data)[0];
        double d = ins[2].dt == TF_F32 ? ((const float *)ins[2].data)[0] : ((const int32_t *)ins[2].data)[0];
        for (size_t i = 0; i < count; i++) {
            if (out->dt == TF_F32)
                ((float *)out->data)[i] = (float)(a + d * (double)i);
            else
                ((int32_t *)out->data)[i] = (int32_t)(a + d * (double)i);
        }
        return ENH_OK;
    }
    case TFOP_TRANSPOSE: {
        int p[TF_MAXRANK];
        long nat[TF_MAXRANK];
        tf_const_ints(&ins[1], p, TF_MAXRANK);
        natural_strides(&ins[0].s, nat);
        for (int i = 0; i < out->s.rank; i++)
            st[0][i] = nat[p[i]];
        strided_copy(&ins[0], 0, st[0], out);
        return ENH_OK;
    }
    case TFOP_STRIDEDSLICE: {
        tf_slice_plan p;
        tf_strided_slice_plan(n, ins, &p);
        long nat[TF_MAXRANK], base = 0;
        natural_strides(&ins[0].s, nat);
        /* iterate over the input dims that keep length (shrunk dims have len 1); new axes
         * have size 1 and any stride */
        tf_shape it = {.rank = ins[0].s.rank};
        for (int i = 0; i < it.rank; i++) {
            it.d[i] = p.len[i];
            st[0][i] = nat[i] * p.stride[i];
            base += nat[i] * p.begin[i];
        }
        if (count == 0)
            return ENH_OK;
        tf_tensor tmp = *out;
        tmp.s = it;
        strided_copy(&ins[0], base, st[0], &tmp);
        return ENH_OK;
    }
    case TFOP_CONCAT: case TFOP_PACK: {
        int ax, nparts = n->op == TFOP_CONCAT ? n->nin - 1 : n->nin;
        if (n->op == TFOP_CONCAT) {
            tf_const_ints(&ins[n->nin - 1], &ax, 1);
            if (ax < 0)
                ax += out->s.rank;
        } else
            ax = n->axis < 0 ? n->axis + out->s.rank : n->axis;
        size_t outer = 1, inner = 1;
        for (int d = 0; d < ax; d++)
            outer *= (size_t)out->s.d[d];
        for (int d = ax + 1; d < out->s.rank; d++)
            inner *= (size_t)out->s.d[d];
        size_t orow = (size_t)out->s.d[ax] * inner, pos = 0;
        for (int k = 0; k < nparts; k++) {
            size_t len = (n->op == TFOP_CONCAT ? (size_t)ins[k].s.d[ax] : 1) * inner;
            for (size_t o = 0; o < outer; o++)
                memcpy((int32_t *)out->data + o * orow + pos, (const int32_t *)ins[k].data + o * len, len * 4);
            pos += len;
        }
        return ENH_OK;
    }
    case TFOP_GATHER: {
        int ax;
        tf_const_ints(&ins[2], &ax, 1);
        if (ax < 0)
            ax += ins[0].s.rank;
        size_t outer = 1, inner = 1, ni = tf_shape_count(&ins[1].s);
        for (int d = 0; d < ax; d++)
            outer *= (size_t)ins[0].s.d[d];
        for (int d = ax + 1; d < ins[0].s.rank; d++)
            inner *= (size_t)ins[0].s.d[d];
        int D = ins[0].s.d[ax];
        const int32_t *ix = ins[1].data;
        for (size_t i = 0; i < ni; i++)
            if (ix[i] < 0 || ix[i] >= D)
                return fail_eval(n, err, "index out of range");
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < ni; i++)
                memcpy((int32_t *)out->data + (o * ni + i) * inner,
                       (const int32_t *)ins[0].data + (o * (size_t)D + (size_t)ix[i]) * inner, inner * 4);
        return ENH_OK;
    }
    case TFOP_SUM: case TFOP_MEAN:
        return eval_reduce(n, ins, out) == ENH_OK ? ENH_OK : enh_fail(err, ENH_ENOMEM, "out of memory");
    case TFOP_EINSUM:
        if (ins[0].dt != TF_F32 || ins[1].dt != TF_F32)
            return fail_eval(n, err, "Einsum on non-float tensors");
        return eval_einsum(n, ins, out);
    case TFOP_CONV2D:
        eval_conv(n, ins, out);
        return ENH_OK;
    case TFOP_DECONV2D:
        eval_deconv(n, ins, out);
        return ENH_OK;
    default:
        return enh_fail(err, ENH_EUNSUPPORTED, "node '%s': op %s cannot be evaluated", n->name, tf_op_name(n->op));
    }
}
