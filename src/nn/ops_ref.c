/* ops_ref.c - reference element-wise / layout ops (see ops_ref.h). */
#include <math.h>
#include <string.h>

#include "nn/ops_ref.h"

float enh_act_one(const enh_activation *a, int channel, float v)
{
    switch (a->kind) {
    case ENH_NACT_NONE: return v;
    case ENH_NACT_RELU: return v > 0.f ? v : 0.f;
    case ENH_NACT_LEAKY: return v > 0.f ? v : v * a->a;
    case ENH_NACT_PRELU: return v > 0.f ? v : v * a->slopes[a->nslopes == 1 ? 0 : channel];
    case ENH_NACT_CLIP: return v < a->a ? a->a : (v > a->b ? a->b : v);
    case ENH_NACT_SIGMOID: return 1.f / (1.f + expf(-v));
    }
    return v;
}

typedef struct {
    const enh_activation *a;
    float *x;
    int c;
    size_t plane;
} act_job;

static void act_planes(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const act_job *j = vctx;
    for (size_t t = begin; t < end; t++) {
        int ch = (int)(t % (size_t)j->c);
        float *p = j->x + t * j->plane;
        for (size_t i = 0; i < j->plane; i++)
            p[i] = enh_act_one(j->a, ch, p[i]);
    }
}

void enh_act_ref(const enh_activation *a, float *x, int n, int c, size_t plane, enh_pool *pool)
{
    if (a->kind == ENH_NACT_NONE)
        return;
    act_job j = {a, x, c, plane};
    enh_pool_run(pool ? pool : enh_pool_default(), (size_t)n * c, 1, act_planes, &j);
}

void enh_pixelshuffle_ref(const float *in, int n, enh_shape s, int r, int dcr, float *out)
{
    int oc = s.c / (r * r), oh = s.h * r, ow = s.w * r;
    for (int b = 0; b < n; b++)
        for (int p = 0; p < oc; p++)
            for (int i = 0; i < r; i++)
                for (int j = 0; j < r; j++) {
                    /* CRD (PyTorch): channel p*r*r + i*r + j;  DCR: (i*r + j)*oc + p */
                    int q = dcr ? (i * r + j) * oc + p : p * r * r + i * r + j;
                    const float *src = in + ((size_t)b * s.c + q) * s.h * s.w;
                    float *dst = out + ((size_t)b * oc + p) * oh * ow;
                    for (int y = 0; y < s.h; y++)
                        for (int x = 0; x < s.w; x++)
                            dst[(size_t)(y * r + i) * ow + x * r + j] = src[(size_t)y * s.w + x];
                }
}

float enh_bin_one(enh_binop op, float a, float b)
{
    switch (op) {
    case ENH_BIN_ADD: return a + b;
    case ENH_BIN_SUB: return a - b;
    case ENH_BIN_MUL: return a * b;
    case ENH_BIN_DIV: return a / b;
    case ENH_BIN_MAX: return a > b ? a : b;
    case ENH_BIN_MIN: return a < b ? a : b;
    case ENH_BIN_POW: return powf(a, b);
    case ENH_BIN_RSUB: return b - a;
    case ENH_BIN_RDIV: return b / a;
    }
    return a;
}

void enh_binary_ref(enh_binop op, const float *a, enh_shape sa, const float *b, enh_shape sb,
                    float scalar, int n, enh_shape so, float *out)
{
    size_t asz = (size_t)sa.c * sa.h * sa.w, bsz = (size_t)sb.c * sb.h * sb.w;
    for (int k = 0; k < n; k++) {
        const float *ak = a + k * asz;
        const float *bk = b ? b + k * bsz : NULL;
        float *ok = out + (size_t)k * so.c * so.h * so.w;
        for (int c = 0; c < so.c; c++)
            for (int y = 0; y < so.h; y++)
                for (int x = 0; x < so.w; x++) {
                    float av = ak[((size_t)(sa.c == 1 ? 0 : c) * sa.h + (sa.h == 1 ? 0 : y)) * sa.w + (sa.w == 1 ? 0 : x)];
                    float bv = bk ? bk[((size_t)(sb.c == 1 ? 0 : c) * sb.h + (sb.h == 1 ? 0 : y)) * sb.w + (sb.w == 1 ? 0 : x)]
                                  : scalar;
                    ok[((size_t)c * so.h + y) * so.w + x] = enh_bin_one(op, av, bv);
                }
    }
}

void enh_eltwise_ref(enh_eltop op, const float *coeffs, const float *const *ins, int count, int n,
                     enh_shape s, float *out)
{
    size_t total = (size_t)n * s.c * s.h * s.w;
    for (size_t i = 0; i < total; i++) {
        float v;
        if (op == ENH_ELT_SUM) {
            v = 0.f;
            for (int k = 0; k < count; k++)
                v += (coeffs ? coeffs[k] : 1.f) * ins[k][i];
        } else if (op == ENH_ELT_PROD) {
            v = ins[0][i];
            for (int k = 1; k < count; k++)
                v *= ins[k][i];
        } else {
            v = ins[0][i];
            for (int k = 1; k < count; k++)
                v = ins[k][i] > v ? ins[k][i] : v;
        }
        out[i] = v;
    }
}

void enh_concat_ref(int axis, const float *const *ins, const enh_shape *shapes, int count, int n,
                    enh_shape so, float *out)
{
    /* view every tensor as [outer][axis * inner] blocks */
    for (int b = 0; b < n; b++) {
        float *dst = out + (size_t)b * so.c * so.h * so.w;
        size_t outer = axis == 0 ? 1 : axis == 1 ? (size_t)so.c : (size_t)so.c * so.h;
        for (size_t o = 0; o < outer; o++) {
            for (int k = 0; k < count; k++) {
                enh_shape s = shapes[k];
                size_t block = axis == 0 ? (size_t)s.c * s.h * s.w : axis == 1 ? (size_t)s.h * s.w : (size_t)s.w;
                const float *src = ins[k] + (size_t)b * s.c * s.h * s.w + o * block;
                memcpy(dst, src, block * sizeof *dst);
                dst += block;
            }
        }
    }
}

void enh_crop_ref(const float *in, int n, enh_shape s, const int start[3], enh_shape so, float *out)
{
    for (int b = 0; b < n; b++)
        for (int c = 0; c < so.c; c++)
            for (int y = 0; y < so.h; y++) {
                const float *src = in + (((size_t)b * s.c + start[0] + c) * s.h + start[1] + y) * s.w + start[2];
                memcpy(out + (((size_t)b * so.c + c) * so.h + y) * so.w, src, (size_t)so.w * sizeof *out);
            }
}

void enh_fc_ref(const enh_node *node, const float *in, int n, float *out)
{
    int no = node->p.fc.num_output, ni = node->p.fc.in_size;
    for (int b = 0; b < n; b++)
        for (int o = 0; o < no; o++) {
            double acc = node->p.fc.bias ? node->p.fc.bias[o] : 0.0;
            const float *w = node->p.fc.weight + (size_t)o * ni;
            const float *x = in + (size_t)b * ni;
            for (int k = 0; k < ni; k++)
                acc += (double)w[k] * x[k];
            out[(size_t)b * no + o] = enh_act_one(&node->act, o, (float)acc);
        }
}
