/* keras_conv.c - Conv2D, DepthwiseConv2D and BatchNormalization layers (keras_load.h), and the
 * convolution node every loader of this family makes from an HWIO kernel (keras_internal.h).
 * BatchNormalization is folded into the convolution before it, in double, when that
 * convolution has no activation and no other reader: W' = W * g/sqrt(v + eps), b' = (b - m) *
 * g/sqrt(v + eps) + beta. Otherwise it is a 1x1 convolution with groups = channels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/keras_internal.h"

enh_status keras_conv_node(keras_ctx *c, int i, int x, const keras_conv_geom *k, float *kern, float *bias,
                           const enh_activation *act, enh_error *err)
{
    int depthwise = k->depthwise, mult = k->mult, cin = k->cin, cout = k->cout;
    size_t cing = depthwise ? 1 : (size_t)cin, kk = (size_t)k->kh * k->kw;
    float *wt = enh_alloc((size_t)cout * cing * kk * sizeof *wt);
    enh_node *n = wt ? keras_add_node(c, i, ENH_OP_CONV, 1, err) : NULL;
    if (!n) {
        enh_free(wt);
        enh_free(kern);
        enh_free(bias);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    n->in[0] = x;
    n->act = *act;
    n->p.conv = (__typeof__(n->p.conv)){.cin = cin, .cout = cout, .kh = k->kh, .kw = k->kw, .sh = k->sh, .sw = k->sw,
                                        .dh = k->dh, .dw = k->dw, .pt = k->pads[0], .pl = k->pads[1], .pb = k->pads[2],
                                        .pr = k->pads[3], .groups = depthwise ? cin : 1, .bias = bias};
    /* HWIO (depthwise: H W C M, output channel c*M + m) -> OIHW */
    for (size_t y = 0; y < (size_t)k->kh; y++)
        for (size_t xx = 0; xx < (size_t)k->kw; xx++)
            for (size_t ci = 0; ci < (size_t)cin; ci++)
                for (size_t m = 0; m < (size_t)(depthwise ? mult : cout); m++) {
                    float v = kern[((y * k->kw + xx) * cin + ci) * (depthwise ? mult : cout) + m];
                    size_t o = depthwise ? ci * mult + m : m, ii = depthwise ? 0 : ci;
                    wt[(o * cing + ii) * kk + y * k->kw + xx] = v;
                }
    enh_free(kern);
    n->p.conv.weight = wt;
    return ENH_OK;
}

enh_status keras_build_conv(keras_ctx *c, int i, int depthwise, enh_error *err)
{
    int k[2], st2[2], dil[2], src = c->L[i].in[0];
    keras_layer *in = &c->L[src];
    if (keras_pair(keras_cfg(c, i, "kernel_size"), -1, k) || keras_pair(keras_cfg(c, i, "strides"), 1, st2) ||
        keras_pair(keras_cfg(c, i, "dilation_rate"), 1, dil))
        return keras_bad(c, i, err, "%s", "kernel_size, strides or dilation_rate is not an int or a pair of ints");
    if (k[0] < 1 || k[0] > KERAS_LIM_K || k[1] < 1 || k[1] > KERAS_LIM_K || st2[0] < 1 || st2[0] > KERAS_LIM_STRIDE || st2[1] < 1 ||
        st2[1] > KERAS_LIM_STRIDE || dil[0] < 1 || dil[0] > KERAS_LIM_STRIDE || dil[1] < 1 || dil[1] > KERAS_LIM_STRIDE)
        return keras_bad(c, i, err, "%s", "kernel size 1..64, strides and dilations 1..64");
    if ((dil[0] > 1 || dil[1] > 1) && (st2[0] > 1 || st2[1] > 1))
        return keras_unsupported(c, i, err, "a dilation with a stride over 1");
    enh_status st = keras_channels_last(c, i, err);
    if (st)
        return st;
    json_t *groups = keras_cfg(c, i, "groups");
    if (groups && json_integer_value(groups) != 1)
        return keras_unsupported(c, i, err, "a grouped Conv2D (groups != 1)");
    const char *padding = keras_cfg_str(c, i, "padding", "valid");
    int pads[4] = {0, 0, 0, 0}; /* t, l, b, r */
    if (!strcmp(padding, "same")) {
        int eh = dil[0] * (k[0] - 1) + 1, ew = dil[1] * (k[1] - 1) + 1, h = 0, w = 0;
        if (st2[0] == 1 && st2[1] == 1) {
            keras_same_pads(1, eh, 1, &pads[0], &pads[2]);
            keras_same_pads(1, ew, 1, &pads[1], &pads[3]);
        } else {
            int t0;
            if ((st = keras_tensor_of(c, src, &t0, err)) || (st = keras_tensor_hw(c, i, t0, &h, &w, err)))
                return st;
            keras_same_pads(h, eh, st2[0], &pads[0], &pads[2]);
            keras_same_pads(w, ew, st2[1], &pads[1], &pads[3]);
        }
    } else if (strcmp(padding, "valid"))
        return keras_bad(c, i, err, "padding '%.20s' is not 'valid' or 'same'", padding);
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
        if (pads[d] > KERAS_LIM_PAD)
            return keras_bad(c, i, err, "%s", "padding over 4096");
    int use_bias = !json_is_false(keras_cfg(c, i, "use_bias")), softmax;
    enh_activation act;
    if ((st = keras_activation(c, i, keras_cfg_str(c, i, "activation", "linear"), &act, &softmax, err)))
        return st;
    if (softmax)
        c->m->out_softmax = 1;
    float *kern = NULL, *bias = NULL;
    int ks[4] = {k[0], k[1], -1, -1}, cin, cout, mult = 1;
    if (depthwise) {
        json_t *dm = keras_cfg(c, i, "depth_multiplier");
        mult = dm ? (int)json_integer_value(dm) : 1;
        if (mult < 1 || mult > 64)
            return keras_bad(c, i, err, "%s", "depth_multiplier must be 1..64");
        ks[3] = mult;
        st = keras_weight_get(c->w, c->L[i].name, "depthwise_kernel", 4, ks, &kern, err);
        cin = ks[2];
        cout = cin * mult;
    } else {
        json_t *f = keras_cfg(c, i, "filters");
        ks[3] = json_is_integer(f) ? (int)json_integer_value(f) : -2;
        if (ks[3] < 1 || ks[3] > KERAS_LIM_CH)
            return keras_bad(c, i, err, "%s", "filters must be 1..65536");
        st = keras_weight_get(c->w, c->L[i].name, "kernel", 4, ks, &kern, err);
        cin = ks[2];
        cout = ks[3];
    }
    if (st)
        return enh_error_prefix(err, "%s", c->file);
    if (cin > KERAS_LIM_CH || cout > KERAS_LIM_CH) {
        enh_free(kern);
        return keras_bad(c, i, err, "%s", "more than 65536 channels");
    }
    if (use_bias) {
        int bs[1] = {cout};
        if ((st = keras_weight_get(c->w, c->L[i].name, "bias", 1, bs, &bias, err))) {
            enh_free(kern);
            return enh_error_prefix(err, "%s", c->file);
        }
    }
    keras_conv_geom gm = {k[0], k[1], cin, cout, mult, depthwise, st2[0], st2[1], dil[0], dil[1],
                          {pads[0], pads[1], pads[2], pads[3]}};
    return keras_conv_node(c, i, x, &gm, kern, bias, &act, err);
}

enh_status keras_build_bn(keras_ctx *c, int i, enh_error *err)
{
    int src = c->L[i].in[0];
    json_t *ax = keras_cfg(c, i, "axis");
    json_int_t axis = json_is_array(ax) && json_array_size(ax) == 1 ? json_integer_value(json_array_get(ax, 0))
                                                                      : json_integer_value(ax);
    if (!json_is_integer(ax) && !(json_is_array(ax) && json_array_size(ax) == 1))
        axis = 0;
    if (axis != -1 && axis != 3)
        return keras_unsupported(c, i, err, "a BatchNormalization over an axis other than the channels (-1, 3)");
    json_t *je = keras_cfg(c, i, "epsilon");
    double eps = je ? json_number_value(je) : 1e-3;
    if (!(eps >= 0 && eps < 1e3))
        return keras_bad(c, i, err, "%s", "epsilon must be a number in [0, 1000)");
    int center = !json_is_false(keras_cfg(c, i, "center")), scale = !json_is_false(keras_cfg(c, i, "scale"));
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
            st = keras_bad(c, i, err, "%s", "moving_variance + epsilon must be positive");
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
        keras_alias(c, i, src);
        c->L[i].node = in->node;
        return ENH_OK;
    }
    int x;
    if ((st = keras_tensor_of(c, src, &x, err)) != ENH_OK) {
        free(mul);
        free(add);
        return st;
    }
    enh_node *n = keras_add_node(c, i, ENH_OP_CONV, 1, err); /* a per-channel affine map: 1x1 conv, groups = ch */
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
