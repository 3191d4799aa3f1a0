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


static enh_status build_act(keras_ctx *c, int i, enh_error *err)
{
    enh_activation a;
    int softmax = 0, src = c->L[i].in[0];
    enh_status st;
    if (!strcmp(c->L[i].cls, "ReLU")) {
        json_t *mv = keras_cfg(c, i, "max_value"), *ns = keras_cfg(c, i, "negative_slope"), *th = keras_cfg(c, i, "threshold");
        double slope = ns ? json_number_value(ns) : 0;
        if (th && json_number_value(th) != 0)
            return keras_unsupported(c, i, err, "a ReLU threshold other than 0");
        if ((mv && !json_is_null(mv) && !json_is_number(mv)) || (ns && !json_is_number(ns)))
            return keras_bad(c, i, err, "%s", "max_value and negative_slope must be numbers");
        memset(&a, 0, sizeof a);
        if (mv && !json_is_null(mv)) {
            if (slope != 0)
                return keras_unsupported(c, i, err, "a ReLU with both max_value and negative_slope");
            a.kind = ENH_NACT_CLIP;
            a.a = 0.f;
            a.b = (float)json_number_value(mv);
        } else if (slope != 0) {
            a.kind = ENH_NACT_LEAKY;
            a.a = (float)slope;
        } else
            a.kind = ENH_NACT_RELU;
    } else if ((st = keras_activation(c, i, keras_cfg_str(c, i, "activation", "?"), &a, &softmax, err)))
        return st;
    if (softmax)
        c->m->out_softmax = 1;
    if (a.kind == ENH_NACT_NONE) {
        keras_alias(c, i, src);
        return ENH_OK;
    }
    int x;
    if ((st = keras_tensor_of(c, src, &x, err)))
        return st;
    enh_node *n = keras_add_node(c, i, ENH_OP_ACT, 1, err);
    if (!n)
        return ENH_ENOMEM;
    n->in[0] = x;
    n->act = a;
    return ENH_OK;
}

static enh_status build_pool(keras_ctx *c, int i, int max, int global, enh_error *err)
{
    int k[2], s[2], x;
    enh_status st = keras_channels_last(c, i, err);
    if (st || (st = keras_tensor_of(c, c->L[i].in[0], &x, err)))
        return st;
    if (global) {
        if (json_is_true(keras_cfg(c, i, "keepdims")))
            return keras_unsupported(c, i, err, "keepdims");
    } else {
        if (keras_pair(keras_cfg(c, i, "pool_size"), 2, k) || keras_pair(keras_cfg(c, i, "strides"), -1, s))
            return keras_bad(c, i, err, "%s", "pool_size or strides is not an int or a pair of ints");
        if (s[0] == -1)
            s[0] = k[0], s[1] = k[1];
        if (k[0] < 1 || k[0] > KERAS_LIM_K || k[1] < 1 || k[1] > KERAS_LIM_K || s[0] < 1 || s[0] > KERAS_LIM_STRIDE || s[1] < 1 ||
            s[1] > KERAS_LIM_STRIDE)
            return keras_bad(c, i, err, "%s", "pool size and strides must be 1..64");
    }
    const char *padding = keras_cfg_str(c, i, "padding", "valid");
    if (!global && strcmp(padding, "same") && strcmp(padding, "valid"))
        return keras_bad(c, i, err, "padding '%.20s' is not 'valid' or 'same'", padding);
    enh_node *n = keras_add_node(c, i, ENH_OP_POOL, 1, err);
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
    json_t *u = keras_cfg(c, i, "units");
    int units = json_is_integer(u) ? (int)json_integer_value(u) : -1;
    if (units < 1 || units > (1 << 20))
        return keras_bad(c, i, err, "%s", "units must be 1..2^20");
    enh_status st = keras_activation(c, i, keras_cfg_str(c, i, "activation", "linear"), &act, &softmax, err);
    if (st || (st = keras_tensor_of(c, src, &x, err)))
        return st;
    if (softmax)
        c->m->out_softmax = 1;
    int ks[2] = {-1, units}, use_bias = !json_is_false(keras_cfg(c, i, "use_bias"));
    float *kern = NULL, *bias = NULL;
    if ((st = keras_weight_get(c->w, c->L[i].name, "kernel", 2, ks, &kern, err)))
        return enh_error_prefix(err, "%s", c->file);
    int bs[1] = {units};
    if (use_bias && (st = keras_weight_get(c->w, c->L[i].name, "bias", 1, bs, &bias, err))) {
        enh_free(kern);
        return enh_error_prefix(err, "%s", c->file);
    }
    float *wt = enh_alloc((size_t)ks[0] * units * sizeof *wt);
    enh_node *n = wt ? keras_add_node(c, i, ENH_OP_INNERPRODUCT, 1, err) : NULL;
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
        return keras_bad(c, i, err, "%s", op == ENH_OP_CONCAT ? "needs 1..1024 inputs" : "needs 2..1024 inputs");
    int axis = 0;
    if (op == ENH_OP_CONCAT) {
        json_t *ja = keras_cfg(c, i, "axis");
        json_int_t a = ja ? json_integer_value(ja) : -1;
        axis = a == -1 || a == 3 ? 0 : a == 1 ? 1 : a == 2 ? 2 : -1; /* NHWC axis -> C, H, W */
        if (axis < 0 || (ja && !json_is_integer(ja)))
            return keras_bad(c, i, err, "%s", "axis must be 1, 2, 3 or -1");
    }
    int *t = malloc((size_t)l->nin * sizeof *t);
    if (!t)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    enh_status st = ENH_OK;
    for (int k = 0; k < l->nin && !st; k++)
        st = keras_tensor_of(c, l->in[k], &t[k], err);
    enh_node *n = st ? NULL : keras_add_node(c, i, op, l->nin, err);
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
    json_t *p = keras_cfg(c, i, "padding");
    int v[4]; /* t, b, l, r */
    enh_status st = keras_channels_last(c, i, err);
    if (st)
        return st;
    if (json_is_integer(p)) {
        v[0] = v[1] = v[2] = v[3] = (int)json_integer_value(p);
    } else if (json_is_array(p) && json_array_size(p) == 2 && json_is_integer(json_array_get(p, 0))) {
        int a[2];
        if (keras_pair(p, 0, a))
            return keras_bad(c, i, err, "%s", "padding must be an int, a pair or a pair of pairs");
        v[0] = v[1] = a[0];
        v[2] = v[3] = a[1];
    } else if (json_is_array(p) && json_array_size(p) == 2) {
        int a[2], b[2];
        if (keras_pair(json_array_get(p, 0), 0, a) || keras_pair(json_array_get(p, 1), 0, b) || !json_is_array(json_array_get(p, 0)))
            return keras_bad(c, i, err, "%s", "padding must be an int, a pair or a pair of pairs");
        v[0] = a[0], v[1] = a[1], v[2] = b[0], v[3] = b[1];
    } else
        return keras_bad(c, i, err, "%s", "padding must be an int, a pair or a pair of pairs");
    for (int k = 0; k < 4; k++)
        if (v[k] < 0 || v[k] > KERAS_LIM_PAD)
            return keras_bad(c, i, err, "%s", "padding must be 0..4096");
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
        return keras_bad(c, i, err, "%s", "needs exactly one input");
    if (!strcmp(cls, "Conv2D") || !strcmp(cls, "DepthwiseConv2D"))
        return keras_build_conv(c, i, cls[0] == 'D', err);
    if (!strcmp(cls, "BatchNormalization"))
        return keras_build_bn(c, i, err);
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
        keras_alias(c, i, c->L[i].in[0]);
        memset(c->L[i].pad, 0, sizeof c->L[i].pad);
        c->L[i].tensor = x;
        if (cls[0] == 'F')
            c->L[c->L[i].in[0]].flatten = 1;
        return ENH_OK;
    }
    char m[96];
    snprintf(m, sizeof m, "the layer class '%.40s'", cls);
    return keras_unsupported(c, i, err, m);
}
