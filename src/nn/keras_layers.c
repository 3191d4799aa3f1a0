/* keras_layers.c - one Keras layer (class + config + weights) into IR nodes (keras_load.h says
 * which). Layout changes happen here: Keras is NHWC with HWIO kernels, the IR NCHW with OIHW.
 * Layers that change nothing in NCHW (Flatten of a 1x1 map, Dropout, linear activations)
 * are aliases of their input tensor; ZeroPadding2D is an alias with pending pads that the next
 * convolution takes over (keras_tensor_of makes them real for any other reader). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/keras_internal.h"

#define LIM_K 64
#define LIM_STRIDE 64
#define LIM_CH 65536
#define LIM_PAD 4096

static enh_status bad(keras_ctx *c, int i, enh_error *err, const char *fmt, const char *what)
{
    char m[256];
    snprintf(m, sizeof m, fmt, what);
    return enh_fail(err, ENH_EINVAL, "%s: layer '%s' (%s): %s", c->file, c->L[i].name, c->L[i].cls, m);
}

static enh_status unsupported(keras_ctx *c, int i, enh_error *err, const char *what)
{
    return enh_fail(err, ENH_EUNSUPPORTED, "%s: layer '%s' (%s): %s is not supported", c->file, c->L[i].name, c->L[i].cls,
                    what);
}

static json_t *cfg(keras_ctx *c, int i, const char *key) { return json_object_get(c->L[i].cfg, key); }

static const char *cfg_str(keras_ctx *c, int i, const char *key, const char *dflt)
{
    json_t *v = cfg(c, i, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* An int or a list of two ints (kernel_size, strides, dilation_rate, pool_size); -1 when malformed. */
static int pair(json_t *v, int dflt, int out[2])
{
    if (!v || json_is_null(v)) {
        out[0] = out[1] = dflt;
        return 0;
    }
    if (json_is_integer(v)) {
        out[0] = out[1] = (int)json_integer_value(v);
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(json_array_get(v, 0)) ||
        !json_is_integer(json_array_get(v, 1)))
        return -1;
    json_int_t a = json_integer_value(json_array_get(v, 0)), b = json_integer_value(json_array_get(v, 1));
    if (a < -1 || a > 1 << 20 || b < -1 || b > 1 << 20)
        return -1;
    out[0] = (int)a;
    out[1] = (int)b;
    return 0;
}

static enh_status channels_last(keras_ctx *c, int i, enh_error *err)
{
    const char *df = cfg_str(c, i, "data_format", "channels_last");
    return strcmp(df, "channels_last") ? unsupported(c, i, err, "data_format channels_first") : ENH_OK;
}

/* An activation by name into *a; *softmax set (and a->kind NONE) for "softmax". */
static enh_status activation(keras_ctx *c, int i, const char *name, enh_activation *a, int *softmax, enh_error *err)
{
    memset(a, 0, sizeof *a);
    *softmax = 0;
    if (!strcmp(name, "linear"))
        return ENH_OK;
    if (!strcmp(name, "relu")) {
        a->kind = ENH_NACT_RELU;
        return ENH_OK;
    }
    if (!strcmp(name, "relu6")) {
        a->kind = ENH_NACT_CLIP;
        a->a = 0.f;
        a->b = 6.f;
        return ENH_OK;
    }
    if (!strcmp(name, "sigmoid")) {
        a->kind = ENH_NACT_SIGMOID;
        return ENH_OK;
    }
    if (!strcmp(name, "softmax")) {
        if (i != c->output_layer)
            return unsupported(c, i, err, "a softmax that is not the model's last step");
        *softmax = 1;
        return ENH_OK;
    }
    char m[96];
    snprintf(m, sizeof m, "activation '%.40s'", name);
    return unsupported(c, i, err, m);
}

static enh_node *add_node(keras_ctx *c, int i, enh_op op, int nin, enh_error *err)
{
    enh_node *n = enh_graph_add(c->g, op, c->L[i].name, nin);
    if (!n) {
        enh_fail(err, ENH_ENOMEM, "out of memory");
        return NULL;
    }
    n->out = c->g->ntensors++;
    c->L[i].tensor = n->out;
    c->L[i].node = c->g->nnodes - 1;
    return n;
}

static void alias(keras_ctx *c, int i, int from)
{
    keras_layer *l = &c->L[i], *f = &c->L[from];
    l->tensor = f->tensor;
    l->node = f->readers == 1 ? f->node : -1; /* folding into it stays possible only for its one reader */
    memcpy(l->pad, f->pad, sizeof l->pad);
    l->padded_tensor = f->padded_tensor;
}

enh_status keras_tensor_of(keras_ctx *c, int i, int *t, enh_error *err)
{
    keras_layer *l = &c->L[i];
    if (!(l->pad[0] | l->pad[1] | l->pad[2] | l->pad[3])) {
        *t = l->tensor;
        return ENH_OK;
    }
    if (l->padded_tensor < 0) { /* a 1x1 identity convolution per channel, with the pads */
        enh_shape *s = calloc((size_t)c->g->ntensors, sizeof *s);
        if (!s)
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        enh_status st = enh_graph_infer_shapes(c->g, c->g->in_channels, c->m->in_h ? c->m->in_h : 64,
                                               c->m->in_w ? c->m->in_w : 64, s, err);
        int ch = s[l->tensor].c;
        free(s);
        if (st != ENH_OK)
            return st;
        int src = l->tensor;
        enh_node *n = enh_graph_add(c->g, ENH_OP_CONV, l->name, 1);
        if (!n)
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        n->in[0] = src;
        n->out = c->g->ntensors++;
        n->p.conv = (__typeof__(n->p.conv)){.cin = ch, .cout = ch, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                                        .pt = l->pad[0], .pl = l->pad[1], .pb = l->pad[2], .pr = l->pad[3], .groups = ch};
        if (!(n->p.conv.weight = enh_alloc((size_t)ch * sizeof(float))))
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        for (int k = 0; k < ch; k++)
            n->p.conv.weight[k] = 1.f;
        l->padded_tensor = n->out;
    }
    *t = l->padded_tensor;
    return ENH_OK;
}

/* Keras 'same' padding along one axis of size n: total = max((ceil(n/s)-1)*s + eff_k - n, 0),
 * the smaller half before. */
static void same_pads(int n, int k_eff, int s, int *before, int *after)
{
    int out = (n + s - 1) / s, total = (out - 1) * s + k_eff - n;
    if (total < 0)
        total = 0;
    *before = total / 2;
    *after = total - *before;
}

/* Spatial size of layer `from`'s tensor (needs a fixed input size). */
static enh_status tensor_hw(keras_ctx *c, int i, int t, int *h, int *w, enh_error *err)
{
    if (c->m->in_h <= 0 || c->m->in_w <= 0)
        return unsupported(c, i, err, "padding 'same' with a stride over 1 on an input of free size");
    enh_shape *s = calloc((size_t)c->g->ntensors, sizeof *s);
    if (!s)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    enh_status st = enh_graph_infer_shapes(c->g, c->g->in_channels, c->m->in_h, c->m->in_w, s, err);
    *h = s[t].h;
    *w = s[t].w;
    free(s);
    return st;
}

static enh_status build_conv(keras_ctx *c, int i, int depthwise, enh_error *err)
{
    int k[2], st2[2], dil[2], src = c->L[i].in[0];
    keras_layer *in = &c->L[src];
    if (pair(cfg(c, i, "kernel_size"), -1, k) || pair(cfg(c, i, "strides"), 1, st2) ||
        pair(cfg(c, i, "dilation_rate"), 1, dil))
        return bad(c, i, err, "%s", "kernel_size, strides or dilation_rate is not an int or a pair of ints");
    if (k[0] < 1 || k[0] > LIM_K || k[1] < 1 || k[1] > LIM_K || st2[0] < 1 || st2[0] > LIM_STRIDE || st2[1] < 1 ||
        st2[1] > LIM_STRIDE || dil[0] < 1 || dil[0] > LIM_STRIDE || dil[1] < 1 || dil[1] > LIM_STRIDE)
        return bad(c, i, err, "%s", "kernel size 1..64, strides and dilations 1..64");
    if ((dil[0] > 1 || dil[1] > 1) && (st2[0] > 1 || st2[1] > 1))
        return unsupported(c, i, err, "a dilation with a stride over 1");
    enh_status st = channels_last(c, i, err);
    if (st)
        return st;
    json_t *groups = cfg(c, i, "groups");
    if (groups && json_integer_value(groups) != 1)
        return unsupported(c, i, err, "a grouped Conv2D (groups != 1)");
    const char *padding = cfg_str(c, i, "padding", "valid");
    int pads[4] = {0, 0, 0, 0}; /* t, l, b, r */
    if (!strcmp(padding, "same")) {
        int eh = dil[0] * (k[0] - 1) + 1, ew = dil[1] * (k[1] - 1) + 1, h = 0, w = 0;
        if (st2[0] == 1 && st2[1] == 1) {
            same_pads(1, eh, 1, &pads[0], &pads[2]);
            same_pads(1, ew, 1, &pads[1], &pads[3]);
        } else {
            int t0;
            if ((st = keras_tensor_of(c, src, &t0, err)) || (st = tensor_hw(c, i, t0, &h, &w, err)))
                return st;
            same_pads(h, eh, st2[0], &pads[0], &pads[2]);
            same_pads(w, ew, st2[1], &pads[1], &pads[3]);
        }
    } else if (strcmp(padding, "valid"))
        return bad(c, i, err, "padding '%.20s' is not 'valid' or 'same'", padding);
    /* pending ZeroPadding2D of the input becomes this convolution's (for 'same' with a stride the
     * input was made real above, so its pads are already in the tensor) */
    int x = in->tensor;
    if (!strcmp(padding, "same") && (st2[0] > 1 || st2[1] > 1)) {
        if ((st = keras_tensor_of(c, src, &x, err)))
            return st;
    } else {
        for (int d = 0; d < 4; d++)
            pads[d] += in->pad[d];
    }
    for (int d = 0; d < 4; d++)
        if (pads[d] > LIM_PAD)
            return bad(c, i, err, "%s", "padding over 4096");
    int use_bias = !json_is_false(cfg(c, i, "use_bias")), softmax;
    enh_activation act;
    if ((st = activation(c, i, cfg_str(c, i, "activation", "linear"), &act, &softmax, err)))
        return st;
    if (softmax)
        c->m->out_softmax = 1;
    float *kern = NULL, *bias = NULL;
    int ks[4] = {k[0], k[1], -1, -1}, cin, cout, mult = 1;
    if (depthwise) {
        json_t *dm = cfg(c, i, "depth_multiplier");
        mult = dm ? (int)json_integer_value(dm) : 1;
        if (mult < 1 || mult > 64)
            return bad(c, i, err, "%s", "depth_multiplier must be 1..64");
        ks[3] = mult;
        st = keras_weight_get(c->w, c->L[i].name, "depthwise_kernel", 4, ks, &kern, err);
        cin = ks[2];
        cout = cin * mult;
    } else {
        json_t *f = cfg(c, i, "filters");
        ks[3] = json_is_integer(f) ? (int)json_integer_value(f) : -2;
        if (ks[3] < 1 || ks[3] > LIM_CH)
            return bad(c, i, err, "%s", "filters must be 1..65536");
        st = keras_weight_get(c->w, c->L[i].name, "kernel", 4, ks, &kern, err);
        cin = ks[2];
        cout = ks[3];
    }
    if (st)
        return enh_error_prefix(err, "%s", c->file);
    if (cin > LIM_CH || cout > LIM_CH) {
        enh_free(kern);
        return bad(c, i, err, "%s", "more than 65536 channels");
    }
    if (use_bias) {
        int bs[1] = {cout};
        if ((st = keras_weight_get(c->w, c->L[i].name, "bias", 1, bs, &bias, err))) {
            enh_free(kern);
            return enh_error_prefix(err, "%s", c->file);
        }
    }
    enh_node *n = add_node(c, i, ENH_OP_CONV, 1, err);
    if (!n) {
        enh_free(kern);
        enh_free(bias);
        return ENH_ENOMEM;
    }
    n->in[0] = x;
    n->act = act;
    n->p.conv = (__typeof__(n->p.conv)){.cin = cin, .cout = cout, .kh = k[0], .kw = k[1], .sh = st2[0], .sw = st2[1],
                                    .dh = dil[0], .dw = dil[1], .pt = pads[0], .pl = pads[1], .pb = pads[2],
                                    .pr = pads[3], .groups = depthwise ? cin : 1, .bias = bias};
    size_t cing = depthwise ? 1 : (size_t)cin, kk = (size_t)k[0] * k[1];
    float *wt = enh_alloc((size_t)cout * cing * kk * sizeof *wt);
    if (!wt) {
        enh_free(kern);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    /* HWIO (depthwise: H W C M, output channel c*M + m) -> OIHW */
    for (size_t y = 0; y < (size_t)k[0]; y++)
        for (size_t xx = 0; xx < (size_t)k[1]; xx++)
            for (size_t ci = 0; ci < (size_t)cin; ci++)
                for (size_t m = 0; m < (size_t)(depthwise ? mult : cout); m++) {
                    float v = kern[((y * k[1] + xx) * cin + ci) * (depthwise ? mult : cout) + m];
                    size_t o = depthwise ? ci * mult + m : m, ii = depthwise ? 0 : ci;
                    wt[(o * cing + ii) * kk + y * k[1] + xx] = v;
                }
    enh_free(kern);
    n->p.conv.weight = wt;
    return ENH_OK;
}

static enh_status build_bn(keras_ctx *c, int i, enh_error *err)
{
    int src = c->L[i].in[0];
    json_t *ax = cfg(c, i, "axis");
    json_int_t axis = json_is_array(ax) && json_array_size(ax) == 1 ? json_integer_value(json_array_get(ax, 0))
                                                                      : json_integer_value(ax);
    if (!json_is_integer(ax) && !(json_is_array(ax) && json_array_size(ax) == 1))
        axis = 0;
    if (axis != -1 && axis != 3)
        return unsupported(c, i, err, "a BatchNormalization over an axis other than the channels (-1, 3)");
    json_t *je = cfg(c, i, "epsilon");
    double eps = je ? json_number_value(je) : 1e-3;
    if (!(eps >= 0 && eps < 1e3))
        return bad(c, i, err, "%s", "epsilon must be a number in [0, 1000)");
    int center = !json_is_false(cfg(c, i, "center")), scale = !json_is_false(cfg(c, i, "scale"));
    int s1[1] = {-1};
    float *mean = NULL, *var = NULL, *gamma = NULL, *beta = NULL;
    enh_status st = keras_weight_get(c->w, c->L[i].name, "moving_mean", 1, s1, &mean, err);
    if (!st)
        st = keras_weight_get(c->w, c->L[i].name, "moving_variance", 1, s1, &var, err);
    if (!st && scale)
        st = keras_weight_get(c->w, c->L[i].name, "gamma", 1, s1, &gamma, err);
    if (!st && center)
        st = keras_weight_get(c->w, c->L[i].name, "beta", 1, s1, &beta, err);
    if (st) {
        enh_free(mean);
        enh_free(var);
        enh_free(gamma);
        return enh_error_prefix(err, "%s", c->file);
    }
    int ch = s1[0];
    double *mul = malloc((size_t)ch * sizeof *mul), *add = malloc((size_t)ch * sizeof *add);
    if (!mul || !add)
        st = enh_fail(err, ENH_ENOMEM, "out of memory");
    for (int k = 0; !st && k < ch; k++) {
        if (!((double)var[k] + eps > 0)) {
            st = bad(c, i, err, "%s", "moving_variance + epsilon must be positive");
            break;
        }
        /* y = (x - mean) * gamma / sqrt(var + eps) + beta, in double once */
        mul[k] = (scale ? gamma[k] : 1.0) / sqrt((double)var[k] + eps);
        add[k] = (center ? beta[k] : 0.0) - mean[k] * mul[k];
    }
    enh_free(mean);
    enh_free(var);
    enh_free(gamma);
    enh_free(beta);
    if (st) {
        free(mul);
        free(add);
        return st;
    }
    keras_layer *in = &c->L[src];
    enh_node *p = in->node >= 0 && in->readers == 1 && !(in->pad[0] | in->pad[1] | in->pad[2] | in->pad[3])
                      ? &c->g->nodes[in->node] : NULL;
    if (p && p->op == ENH_OP_CONV && p->act.kind == ENH_NACT_NONE && p->nin == 1 && p->out == in->tensor &&
        p->p.conv.cout == ch && p->p.conv.weight) { /* fold into the convolution */
        if (!p->p.conv.bias && !(p->p.conv.bias = enh_calloc((size_t)ch, sizeof(float)))) {
            free(mul);
            free(add);
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        }
        size_t per = (size_t)(p->p.conv.cin / p->p.conv.groups) * p->p.conv.kh * p->p.conv.kw;
        for (int o = 0; o < ch; o++) {
            for (size_t q = 0; q < per; q++)
                p->p.conv.weight[o * per + q] = (float)((double)p->p.conv.weight[o * per + q] * mul[o]);
            p->p.conv.bias[o] = (float)((double)p->p.conv.bias[o] * mul[o] + add[o]);
        }
        free(mul);
        free(add);
        alias(c, i, src);
        c->L[i].node = in->node;
        return ENH_OK;
    }
    int x;
    if ((st = keras_tensor_of(c, src, &x, err)) != ENH_OK) {
        free(mul);
        free(add);
        return st;
    }
    enh_node *n = add_node(c, i, ENH_OP_CONV, 1, err); /* a per-channel affine map: 1x1 conv, groups = ch */
    float *w = n ? enh_alloc((size_t)ch * sizeof *w) : NULL, *b = w ? enh_alloc((size_t)ch * sizeof *b) : NULL;
    if (!b) {
        enh_free(w);
        free(mul);
        free(add);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    for (int k = 0; k < ch; k++) {
        w[k] = (float)mul[k];
        b[k] = (float)add[k];
    }
    free(mul);
    free(add);
    n->in[0] = x;
    n->p.conv = (__typeof__(n->p.conv)){.cin = ch, .cout = ch, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                                    .groups = ch, .weight = w, .bias = b};
    return ENH_OK;
}

static enh_status build_act(keras_ctx *c, int i, enh_error *err)
{
    enh_activation a;
    int softmax = 0, src = c->L[i].in[0];
    enh_status st;
    if (!strcmp(c->L[i].cls, "ReLU")) {
        json_t *mv = cfg(c, i, "max_value"), *ns = cfg(c, i, "negative_slope"), *th = cfg(c, i, "threshold");
        double slope = ns ? json_number_value(ns) : 0;
        if (th && json_number_value(th) != 0)
            return unsupported(c, i, err, "a ReLU threshold other than 0");
        if ((mv && !json_is_null(mv) && !json_is_number(mv)) || (ns && !json_is_number(ns)))
            return bad(c, i, err, "%s", "max_value and negative_slope must be numbers");
        memset(&a, 0, sizeof a);
        if (mv && !json_is_null(mv)) {
            if (slope != 0)
                return unsupported(c, i, err, "a ReLU with both max_value and negative_slope");
            a.kind = ENH_NACT_CLIP;
            a.a = 0.f;
            a.b = (float)json_number_value(mv);
        } else if (slope != 0) {
            a.kind = ENH_NACT_LEAKY;
            a.a = (float)slope;
        } else
            a.kind = ENH_NACT_RELU;
    } else if ((st = activation(c, i, cfg_str(c, i, "activation", "?"), &a, &softmax, err)))
        return st;
    if (softmax)
        c->m->out_softmax = 1;
    if (a.kind == ENH_NACT_NONE) {
        alias(c, i, src);
        return ENH_OK;
    }
    int x;
    if ((st = keras_tensor_of(c, src, &x, err)))
        return st;
    enh_node *n = add_node(c, i, ENH_OP_ACT, 1, err);
    if (!n)
        return ENH_ENOMEM;
    n->in[0] = x;
    n->act = a;
    return ENH_OK;
}

static enh_status build_pool(keras_ctx *c, int i, int max, int global, enh_error *err)
{
    int k[2], s[2], x;
    enh_status st = channels_last(c, i, err);
    if (st || (st = keras_tensor_of(c, c->L[i].in[0], &x, err)))
        return st;
    if (global) {
        if (json_is_true(cfg(c, i, "keepdims")))
            return unsupported(c, i, err, "keepdims");
    } else {
        if (pair(cfg(c, i, "pool_size"), 2, k) || pair(cfg(c, i, "strides"), -1, s))
            return bad(c, i, err, "%s", "pool_size or strides is not an int or a pair of ints");
        if (s[0] == -1)
            s[0] = k[0], s[1] = k[1];
        if (k[0] < 1 || k[0] > LIM_K || k[1] < 1 || k[1] > LIM_K || s[0] < 1 || s[0] > LIM_STRIDE || s[1] < 1 ||
            s[1] > LIM_STRIDE)
            return bad(c, i, err, "%s", "pool size and strides must be 1..64");
    }
    const char *padding = cfg_str(c, i, "padding", "valid");
    if (!global && strcmp(padding, "same") && strcmp(padding, "valid"))
        return bad(c, i, err, "padding '%.20s' is not 'valid' or 'same'", padding);
    enh_node *n = add_node(c, i, ENH_OP_POOL, 1, err);
    if (!n)
        return ENH_ENOMEM;
    n->in[0] = x;
    n->p.pool.max = max;
    n->p.pool.global = global;
    if (!global) {
        n->p.pool.kh = k[0], n->p.pool.kw = k[1], n->p.pool.sh = s[0], n->p.pool.sw = s[1];
        n->p.pool.pad_mode = !strcmp(padding, "same") ? 2 : 1; /* same: the smaller half of the pad first */
        n->p.pool.count_include_pad = 0;                       /* TF leaves padded taps out of an average */
    }
    return ENH_OK;
}

static enh_status build_dense(keras_ctx *c, int i, enh_error *err)
{
    int src = c->L[i].in[0], x, softmax;
    enh_activation act;
    json_t *u = cfg(c, i, "units");
    int units = json_is_integer(u) ? (int)json_integer_value(u) : -1;
    if (units < 1 || units > (1 << 20))
        return bad(c, i, err, "%s", "units must be 1..2^20");
    enh_status st = activation(c, i, cfg_str(c, i, "activation", "linear"), &act, &softmax, err);
    if (st || (st = keras_tensor_of(c, src, &x, err)))
        return st;
    if (softmax)
        c->m->out_softmax = 1;
    int ks[2] = {-1, units}, use_bias = !json_is_false(cfg(c, i, "use_bias"));
    float *kern = NULL, *bias = NULL;
    if ((st = keras_weight_get(c->w, c->L[i].name, "kernel", 2, ks, &kern, err)))
        return enh_error_prefix(err, "%s", c->file);
    int bs[1] = {units};
    if (use_bias && (st = keras_weight_get(c->w, c->L[i].name, "bias", 1, bs, &bias, err))) {
        enh_free(kern);
        return enh_error_prefix(err, "%s", c->file);
    }
    float *wt = enh_alloc((size_t)ks[0] * units * sizeof *wt);
    enh_node *n = wt ? add_node(c, i, ENH_OP_INNERPRODUCT, 1, err) : NULL;
    if (!n) {
        enh_free(wt);
        enh_free(kern);
        enh_free(bias);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    for (size_t a = 0; a < (size_t)ks[0]; a++) /* [in, out] -> [out][in] */
        for (size_t o = 0; o < (size_t)units; o++)
            wt[o * ks[0] + a] = kern[a * units + o];
    enh_free(kern);
    n->in[0] = x;
    n->act = act;
    n->p.fc.num_output = units;
    n->p.fc.in_size = ks[0];
    n->p.fc.weight = wt;
    n->p.fc.bias = bias;
    c->L[src].flatten = 1; /* a vector: the map before it must be 1x1 (checked at the end) */
    return ENH_OK;
}

static enh_status build_multi(keras_ctx *c, int i, enh_op op, int sub, enh_error *err)
{
    keras_layer *l = &c->L[i];
    if (l->nin < (op == ENH_OP_CONCAT ? 1 : 2) || l->nin > ENH_GRAPH_MAX_INPUTS)
        return bad(c, i, err, "%s", op == ENH_OP_CONCAT ? "needs 1..1024 inputs" : "needs 2..1024 inputs");
    int axis = 0;
    if (op == ENH_OP_CONCAT) {
        json_t *ja = cfg(c, i, "axis");
        json_int_t a = ja ? json_integer_value(ja) : -1;
        axis = a == -1 || a == 3 ? 0 : a == 1 ? 1 : a == 2 ? 2 : -1; /* NHWC axis -> C, H, W */
        if (axis < 0 || (ja && !json_is_integer(ja)))
            return bad(c, i, err, "%s", "axis must be 1, 2, 3 or -1");
    }
    int *t = malloc((size_t)l->nin * sizeof *t);
    if (!t)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    enh_status st = ENH_OK;
    for (int k = 0; k < l->nin && !st; k++)
        st = keras_tensor_of(c, l->in[k], &t[k], err);
    enh_node *n = st ? NULL : add_node(c, i, op, l->nin, err);
    if (n) {
        memcpy(n->in, t, (size_t)l->nin * sizeof *t);
        if (op == ENH_OP_CONCAT)
            n->p.concat.axis = axis;
        else
            n->p.elt.op = (enh_eltop)sub;
    } else if (!st)
        st = ENH_ENOMEM;
    free(t);
    return st;
}

static enh_status build_zeropad(keras_ctx *c, int i, enh_error *err)
{
    json_t *p = cfg(c, i, "padding");
    int v[4]; /* t, b, l, r */
    enh_status st = channels_last(c, i, err);
    if (st)
        return st;
    if (json_is_integer(p)) {
        v[0] = v[1] = v[2] = v[3] = (int)json_integer_value(p);
    } else if (json_is_array(p) && json_array_size(p) == 2 && json_is_integer(json_array_get(p, 0))) {
        int a[2];
        if (pair(p, 0, a))
            return bad(c, i, err, "%s", "padding must be an int, a pair or a pair of pairs");
        v[0] = v[1] = a[0];
        v[2] = v[3] = a[1];
    } else if (json_is_array(p) && json_array_size(p) == 2) {
        int a[2], b[2];
        if (pair(json_array_get(p, 0), 0, a) || pair(json_array_get(p, 1), 0, b) || !json_is_array(json_array_get(p, 0)))
            return bad(c, i, err, "%s", "padding must be an int, a pair or a pair of pairs");
        v[0] = a[0], v[1] = a[1], v[2] = b[0], v[3] = b[1];
    } else
        return bad(c, i, err, "%s", "padding must be an int, a pair or a pair of pairs");
    for (int k = 0; k < 4; k++)
        if (v[k] < 0 || v[k] > LIM_PAD)
            return bad(c, i, err, "%s", "padding must be 0..4096");
    int src = c->L[i].in[0], x;
    if ((st = keras_tensor_of(c, src, &x, err)))
        return st;
    keras_layer *l = &c->L[i];
    l->tensor = x;
    l->node = -1;
    l->pad[0] = v[0], l->pad[1] = v[2], l->pad[2] = v[1], l->pad[3] = v[3];
    return ENH_OK;
}

enh_status keras_build_layer(keras_ctx *c, int i, enh_error *err)
{
    const char *cls = c->L[i].cls;
    int nin = c->L[i].nin;
    int multi = !strcmp(cls, "Add") || !strcmp(cls, "Multiply") || !strcmp(cls, "Maximum") || !strcmp(cls, "Concatenate");
    if (strcmp(cls, "InputLayer") && !multi && nin != 1)
        return bad(c, i, err, "%s", "needs exactly one input");
    if (!strcmp(cls, "Conv2D") || !strcmp(cls, "DepthwiseConv2D"))
        return build_conv(c, i, cls[0] == 'D', err);
    if (!strcmp(cls, "BatchNormalization"))
        return build_bn(c, i, err);
    if (!strcmp(cls, "ReLU") || !strcmp(cls, "Activation"))
        return build_act(c, i, err);
    if (!strcmp(cls, "MaxPooling2D") || !strcmp(cls, "AveragePooling2D"))
        return build_pool(c, i, cls[0] == 'M', 0, err);
    if (!strcmp(cls, "GlobalMaxPooling2D") || !strcmp(cls, "GlobalAveragePooling2D"))
        return build_pool(c, i, cls[6] == 'M', 1, err);
    if (!strcmp(cls, "Dense"))
        return build_dense(c, i, err);
    if (!strcmp(cls, "ZeroPadding2D"))
        return build_zeropad(c, i, err);
    if (!strcmp(cls, "Add") || !strcmp(cls, "Multiply") || !strcmp(cls, "Maximum"))
        return build_multi(c, i, ENH_OP_ELTWISE, cls[0] == 'A' ? ENH_ELT_SUM : cls[1] == 'u' ? ENH_ELT_PROD : ENH_ELT_MAX,
                           err);
    if (!strcmp(cls, "Concatenate"))
        return build_multi(c, i, ENH_OP_CONCAT, 0, err);
    if (!strcmp(cls, "Flatten") || !strcmp(cls, "Dropout")) {
        int x;
        enh_status st = keras_tensor_of(c, c->L[i].in[0], &x, err);
        if (st)
            return st;
        alias(c, i, c->L[i].in[0]);
        memset(c->L[i].pad, 0, sizeof c->L[i].pad);
        c->L[i].tensor = x;
        if (cls[0] == 'F')
            c->L[c->L[i].in[0]].flatten = 1;
        return ENH_OK;
    }
    char m[96];
    snprintf(m, sizeof m, "the layer class '%.40s'", cls);
    return unsupported(c, i, err, m);
}
