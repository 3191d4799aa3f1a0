/* keras_graph.c - the small TF.js *graph* models of image classifiers (nsfwjs MobileNetV2Mid:
 * tfjs-converter output with BatchNorm already folded) into the same NCHW IR as the layers
 * models, so they run on the conv plans rather than on the TF runtime (tfjs.h, which has no
 * pooling, depthwise or fused convolutions). Nodes: Placeholder, Const (weights, by name),
 * Mul / Sub by a scalar Const, _FusedConv2D and FusedDepthwiseConv2dNative (BiasAdd, then
 * Relu or Relu6), Conv2D, DepthwiseConv2dNative, AddV2 / Add, Relu, Relu6, AvgPool / MaxPool,
 * Squeeze of 1x1 maps, MatMul / _FusedMatMul (BiasAdd), Softmax as the last step, Identity.
 * TF 'SAME' padding with a stride is resolved at the model's declared input size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/keras_internal.h"
#include "nn/tf_graph.h"
#include "nn/tfjs_container.h"

static json_t *attr(keras_ctx *c, int i, const char *key)
{
    return json_object_get(json_object_get(c->L[i].cfg, "attr"), key);
}

/* list.i of an attr (strings or numbers) into v[max]; the count, -1 when malformed or longer. */
static int attr_ints(keras_ctx *c, int i, const char *key, int *v, int max)
{
    json_t *l = json_object_get(json_object_get(attr(c, i, key), "list"), "i");
    if (!l)
        return 0;
    if (!json_is_array(l) || (int)json_array_size(l) > max)
        return -1;
    for (size_t k = 0; k < json_array_size(l); k++) {
        json_t *e = json_array_get(l, k);
        long long x = json_is_string(e) ? strtoll(json_string_value(e), NULL, 10) : json_integer_value(e);
        if (x < -(1 << 24) || x > (1 << 24))
            return -1;
        v[k] = (int)x;
    }
    return (int)json_array_size(l);
}

/* A base64 string attr ("s", or the k-th of list.s) decoded into out; 0 when absent, -1 when bad. */
static int attr_str(keras_ctx *c, int i, const char *key, int k, char *out, size_t size)
{
    json_t *a = attr(c, i, key);
    json_t *s = k < 0 ? json_object_get(a, "s") : json_array_get(json_object_get(json_object_get(a, "list"), "s"), (size_t)k);
    out[0] = 0;
    if (!s)
        return 0;
    unsigned char *b;
    size_t n;
    if (!json_is_string(s) || enh_base64_decode(json_string_value(s), json_string_length(s), &b, &n, "attr", NULL) != ENH_OK)
        return -1;
    int ok = n < size && !memchr(b, 0, n);
    if (ok) {
        memcpy(out, b, n);
        out[n] = 0;
    }
    free(b);
    return ok ? 1 : -1;
}

static int is_const(keras_ctx *c, int i) { return !strcmp(c->L[i].cls, "Const"); }

static enh_status placeholder(keras_ctx *c, int i, enh_error *err)
{
    json_t *dims = json_object_get(json_object_get(attr(c, i, "shape"), "shape"), "dim");
    int d[4];
    for (int k = 0; k < 4 && json_array_size(dims) == 4; k++) {
        json_t *sz = json_object_get(json_array_get(dims, (size_t)k), "size");
        d[k] = json_is_string(sz) ? atoi(json_string_value(sz)) : (int)json_integer_value(sz);
    }
    if (json_array_size(dims) != 4 || d[1] < 1 || d[1] > 65536 || d[2] < 1 || d[2] > 65536 || d[3] < 1 || d[3] > 4)
        return keras_unsupported(c, i, err, "an input that is not an image batch [N, H, W, 1..4] of a fixed size");
    if (c->g->input >= 0)
        return keras_unsupported(c, i, err, "a second Placeholder");
    enh_node *n = keras_add_node(c, i, ENH_OP_INPUT, 0, err);
    if (!n)
        return ENH_ENOMEM;
    c->g->input = n->out;
    c->g->in_channels = c->m->in_c = d[3];
    c->g->fixed_h = c->m->in_h = d[1];
    c->g->fixed_w = c->m->in_w = d[2];
    c->L[i].node = -1;
    return ENH_OK;
}

/* fused_ops: BiasAdd, then at most one of Relu / Relu6 */
static enh_status fused_act(keras_ctx *c, int i, int *bias, enh_activation *a, enh_error *err)
{
    char op[32];
    memset(a, 0, sizeof *a);
    *bias = 0;
    for (int k = 0; k < 4; k++) {
        int r = attr_str(c, i, "fused_ops", k, op, sizeof op);
        if (r < 0)
            return keras_bad(c, i, err, "%s", "unreadable fused_ops");
        if (!r)
            return ENH_OK;
        if (k == 0 && !strcmp(op, "BiasAdd"))
            *bias = 1;
        else if (k == 1 && *bias && !strcmp(op, "Relu"))
            a->kind = ENH_NACT_RELU;
        else if (k == 1 && *bias && !strcmp(op, "Relu6"))
            a->kind = ENH_NACT_CLIP, a->a = 0.f, a->b = 6.f;
        else {
            char m[80];
            snprintf(m, sizeof m, "fused op '%.30s'", op);
            return keras_unsupported(c, i, err, m);
        }
    }
    return keras_bad(c, i, err, "%s", "too many fused_ops");
}

static enh_status conv(keras_ctx *c, int i, int depthwise, enh_error *err)
{
    keras_layer *l = &c->L[i];
    int fused = l->cls[0] == '_' || !strncmp(l->cls, "Fused", 5), bias = 0, s[4], d[4] = {1, 1, 1, 1};
    enh_activation act;
    enh_status st = fused ? fused_act(c, i, &bias, &act, err) : (memset(&act, 0, sizeof act), ENH_OK);
    if (st)
        return st;
    char pad[16], fmt[16];
    if (l->nin != 2 + bias || !is_const(c, l->in[1]) || (bias && !is_const(c, l->in[2])) || is_const(c, l->in[0]))
        return keras_bad(c, i, err, "%s", "needs an input, a Const filter (and a Const bias)");
    if (attr_ints(c, i, "strides", s, 4) != 4 || attr_ints(c, i, "dilations", d, 4) < 0 || attr_str(c, i, "padding", -1, pad, sizeof pad) <= 0 ||
        attr_str(c, i, "data_format", -1, fmt, sizeof fmt) < 0 || (fmt[0] && strcmp(fmt, "NHWC")))
        return keras_bad(c, i, err, "%s", "strides (4), dilations, padding and an NHWC data_format are needed");
    if (s[0] != 1 || s[3] != 1 || d[0] != 1 || d[3] != 1 || s[1] < 1 || s[1] > KERAS_LIM_STRIDE || s[2] < 1 ||
        s[2] > KERAS_LIM_STRIDE || d[1] < 1 || d[1] > KERAS_LIM_STRIDE || d[2] < 1 || d[2] > KERAS_LIM_STRIDE)
        return keras_bad(c, i, err, "%s", "strides and dilations must be 1..64 over H and W only");
    if (strcmp(pad, "SAME") && strcmp(pad, "VALID"))
        return keras_unsupported(c, i, err, "padding other than SAME or VALID");
    int ks[4] = {-1, -1, -1, depthwise ? -1 : -1};
    float *kern = NULL, *b = NULL;
    if ((st = keras_weight_named(c->w, c->L[l->in[1]].name, l->name, 4, ks, &kern, err)))
        return enh_error_prefix(err, "%s", c->file);
    keras_conv_geom g = {ks[0], ks[1], ks[2], depthwise ? ks[2] * ks[3] : ks[3], depthwise ? ks[3] : 1, depthwise,
                         s[1], s[2], d[1], d[2], {0, 0, 0, 0}};
    if (g.kh > KERAS_LIM_K || g.kw > KERAS_LIM_K || g.cin > KERAS_LIM_CH || g.cout > KERAS_LIM_CH || g.mult > 64) {
        enh_free(kern);
        return keras_bad(c, i, err, "%s", "kernel over 64, channels over 65536 or a depth multiplier over 64");
    }
    int bs[1] = {g.cout};
    if (bias && (st = keras_weight_named(c->w, c->L[l->in[2]].name, l->name, 1, bs, &b, err))) {
        enh_free(kern);
        return enh_error_prefix(err, "%s", c->file);
    }
    int x = -1, h = 0, w = 0;
    st = keras_tensor_of(c, l->in[0], &x, err);
    if (!st && !strcmp(pad, "SAME"))
        st = keras_tensor_hw(c, i, x, &h, &w, err);
    if (st) {
        enh_free(kern);
        enh_free(b);
        return st;
    }
    if (!strcmp(pad, "SAME")) {
        keras_same_pads(h, g.dh * (g.kh - 1) + 1, g.sh, &g.pads[0], &g.pads[2]);
        keras_same_pads(w, g.dw * (g.kw - 1) + 1, g.sw, &g.pads[1], &g.pads[3]);
    }
    return keras_conv_node(c, i, x, &g, kern, b, &act, err);
}

static enh_status pool(keras_ctx *c, int i, int max, enh_error *err)
{
    int k[4], s[4], x;
    char pad[16];
    if (attr_ints(c, i, "ksize", k, 4) != 4 || attr_ints(c, i, "strides", s, 4) != 4 ||
        attr_str(c, i, "padding", -1, pad, sizeof pad) <= 0 || k[0] != 1 || k[3] != 1 || s[0] != 1 || s[3] != 1 ||
        k[1] < 1 || k[1] > KERAS_LIM_K || k[2] < 1 || k[2] > KERAS_LIM_K || s[1] < 1 || s[1] > KERAS_LIM_STRIDE ||
        s[2] < 1 || s[2] > KERAS_LIM_STRIDE || (strcmp(pad, "SAME") && strcmp(pad, "VALID")))
        return keras_bad(c, i, err, "%s", "ksize and strides [1,h,w,1] (1..64) and padding SAME or VALID are needed");
    enh_status st = keras_tensor_of(c, c->L[i].in[0], &x, err);
    enh_node *n = st ? NULL : keras_add_node(c, i, ENH_OP_POOL, 1, err);
    if (!n)
        return st ? st : ENH_ENOMEM;
    n->in[0] = x;
    n->p.pool.max = max;
    n->p.pool.kh = k[1], n->p.pool.kw = k[2], n->p.pool.sh = s[1], n->p.pool.sw = s[2];
    n->p.pool.pad_mode = !strcmp(pad, "SAME") ? 2 : 1;
    return ENH_OK;
}

static enh_status matmul(keras_ctx *c, int i, enh_error *err)
{
    keras_layer *l = &c->L[i];
    int bias = 0, x;
    enh_activation act;
    enh_status st = l->cls[0] == '_' ? fused_act(c, i, &bias, &act, err) : (memset(&act, 0, sizeof act), ENH_OK);
    if (st)
        return st;
    json_t *ta = json_object_get(attr(c, i, "transpose_a"), "b"), *tb = json_object_get(attr(c, i, "transpose_b"), "b");
    if (l->nin != 2 + bias || !is_const(c, l->in[1]) || (bias && !is_const(c, l->in[2])) || json_is_true(ta))
        return keras_bad(c, i, err, "%s", "needs an input, a Const matrix (and a Const bias), no transpose_a");
    int ws[2] = {-1, -1}, trans = json_is_true(tb);
    float *wm = NULL, *b = NULL;
    if ((st = keras_weight_named(c->w, c->L[l->in[1]].name, l->name, 2, ws, &wm, err)))
        return enh_error_prefix(err, "%s", c->file);
    int nin = trans ? ws[1] : ws[0], nout = trans ? ws[0] : ws[1], bs[1] = {nout};
    if (bias && (st = keras_weight_named(c->w, c->L[l->in[2]].name, l->name, 1, bs, &b, err))) {
        enh_free(wm);
        return enh_error_prefix(err, "%s", c->file);
    }
    float *fw = enh_alloc((size_t)nin * nout * sizeof *fw);
    st = fw ? keras_tensor_of(c, l->in[0], &x, err) : enh_fail(err, ENH_ENOMEM, "out of memory");
    enh_node *n = st ? NULL : keras_add_node(c, i, ENH_OP_INNERPRODUCT, 1, err);
    if (!n) {
        enh_free(fw);
        enh_free(wm);
        enh_free(b);
        return st ? st : ENH_ENOMEM;
    }
    for (size_t a = 0; a < (size_t)nin; a++) /* [in, out] (or [out, in] transposed) -> [out][in] */
        for (size_t o = 0; o < (size_t)nout; o++)
            fw[o * nin + a] = trans ? wm[o * nin + a] : wm[a * nout + o];
    enh_free(wm);
    n->in[0] = x;
    n->act = act;
    n->p.fc.num_output = nout;
    n->p.fc.in_size = nin;
    n->p.fc.weight = fw;
    n->p.fc.bias = b;
    c->L[l->in[0]].flatten = 1;
    return ENH_OK;
}

/* x (op) scalar Const: Mul, Sub (RSUB when the Const comes first), Add */
static enh_status scalar_op(keras_ctx *c, int i, enh_error *err)
{
    keras_layer *l = &c->L[i];
    int ci = l->nin == 2 ? (is_const(c, l->in[1]) ? 1 : is_const(c, l->in[0]) ? 0 : -1) : -1, one[1] = {1}, x;
    if (ci < 0 || is_const(c, l->in[1 - ci]))
        return keras_unsupported(c, i, err, "this op on two tensors or without a scalar Const");
    float *v = NULL;
    enh_status st = keras_weight_named(c->w, c->L[l->in[ci]].name, l->name, 0, one, &v, err);
    if (st && (st = keras_weight_named(c->w, c->L[l->in[ci]].name, l->name, 1, one, &v, err)))
        return enh_error_prefix(err, "%s", c->file);
    float s = v[0];
    enh_free(v);
    if ((st = keras_tensor_of(c, l->in[1 - ci], &x, err)))
        return st;
    enh_node *n = keras_add_node(c, i, ENH_OP_BINARY, 1, err);
    if (!n)
        return ENH_ENOMEM;
    n->in[0] = x;
    n->p.bin.with_scalar = 1;
    n->p.bin.scalar = s;
    n->p.bin.op = !strcmp(l->cls, "Mul") ? ENH_BIN_MUL : l->cls[0] == 'S' ? (ci == 0 ? ENH_BIN_RSUB : ENH_BIN_SUB) : ENH_BIN_ADD;
    return ENH_OK;
}

enh_status keras_build_graph_node(keras_ctx *c, int i, enh_error *err)
{
    keras_layer *l = &c->L[i];
    const char *op = l->cls;
    if (!strcmp(op, "Const"))
        return ENH_OK; /* read by its consumers */
    if (!strcmp(op, "Placeholder"))
        return l->nin ? keras_bad(c, i, err, "%s", "a Placeholder with inputs") : placeholder(c, i, err);
    if (!l->nin || c->g->input < 0)
        return keras_bad(c, i, err, "%s", "has no inputs or comes before the Placeholder");
    for (int k = 0; k < l->nin; k++)
        if (c->L[l->in[k]].tensor < 0 && !is_const(c, l->in[k]))
            return keras_bad(c, i, err, "%s", "reads a node that has no value");
    if (!strcmp(op, "_FusedConv2D") || !strcmp(op, "Conv2D"))
        return conv(c, i, 0, err);
    if (!strcmp(op, "FusedDepthwiseConv2dNative") || !strcmp(op, "DepthwiseConv2dNative"))
        return conv(c, i, 1, err);
    if (!strcmp(op, "AvgPool") || !strcmp(op, "MaxPool"))
        return pool(c, i, op[0] == 'M', err);
    if (!strcmp(op, "_FusedMatMul") || !strcmp(op, "MatMul"))
        return matmul(c, i, err);
    if ((!strcmp(op, "AddV2") || !strcmp(op, "Add")) && l->nin == 2 && !is_const(c, l->in[0]) && !is_const(c, l->in[1])) {
        int t[2], x;
        for (int k = 0; k < 2; k++) {
            enh_status st = keras_tensor_of(c, l->in[k], &x, err);
            if (st)
                return st;
            t[k] = x;
        }
        enh_node *n = keras_add_node(c, i, ENH_OP_ELTWISE, 2, err);
        if (!n)
            return ENH_ENOMEM;
        n->in[0] = t[0], n->in[1] = t[1];
        n->p.elt.op = ENH_ELT_SUM;
        return ENH_OK;
    }
    if (!strcmp(op, "Mul") || !strcmp(op, "Sub") || !strcmp(op, "AddV2") || !strcmp(op, "Add"))
        return scalar_op(c, i, err);
    if (l->nin != 1)
        return keras_bad(c, i, err, "%s", "needs exactly one input");
    if (!strcmp(op, "Relu") || !strcmp(op, "Relu6")) {
        int x;
        enh_status st = keras_tensor_of(c, l->in[0], &x, err);
        enh_node *n = st ? NULL : keras_add_node(c, i, ENH_OP_ACT, 1, err);
        if (!n)
            return st ? st : ENH_ENOMEM;
        n->in[0] = x;
        n->act.kind = op[4] ? ENH_NACT_CLIP : ENH_NACT_RELU;
        n->act.b = 6.f;
        return ENH_OK;
    }
    if (!strcmp(op, "Squeeze") || !strcmp(op, "Identity") || !strcmp(op, "Softmax")) {
        if (op[0] == 'S' && op[1] == 'o') {
            if (c->output_layer != i && !(c->L[c->output_layer].nin == 1 && c->L[c->output_layer].in[0] == i))
                return keras_unsupported(c, i, err, "a Softmax that is not the model's last step");
            c->m->out_softmax = 1;
        }
        int x;
        enh_status st = keras_tensor_of(c, l->in[0], &x, err);
        if (st)
            return st;
        keras_alias(c, i, l->in[0]);
        c->L[i].tensor = x;
        if (op[1] == 'q')
            c->L[l->in[0]].flatten = 1; /* only 1x1 maps: checked at the end */
        return ENH_OK;
    }
    char m[80];
    snprintf(m, sizeof m, "the op '%.40s'", op);
    return keras_unsupported(c, i, err, m);
}

/* "name", "name:0" -> node index; "^name" (control) -> -2; other outputs or unknown -> -1 */
static int input_ref(keras_ctx *c, const char *s)
{
    size_t n = 0;
    int k = tf_input_name(s, &n);
    if (k < 0)
        return k;
    for (int i = 0; i < c->nl; i++)
        if (strlen(c->L[i].name) == n && !memcmp(c->L[i].name, s, n))
            return i;
    return -1;
}

enh_status keras_graph_topology(keras_ctx *c, json_t *root, enh_error *err)
{
    json_t *nodes = json_object_get(json_object_get(root, "modelTopology"), "node");
    size_t nn = json_array_size(nodes);
    if (!json_is_array(nodes) || nn == 0 || nn > 20000)
        return enh_fail(err, ENH_EINVAL, "%s: modelTopology.node must list 1..20000 nodes", c->file);
    if (!(c->L = calloc(nn, sizeof *c->L)))
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    c->nl = (int)nn;
    for (int i = 0; i < c->nl; i++) {
        json_t *jn = json_array_get(nodes, (size_t)i);
        keras_layer *l = &c->L[i];
        l->name = json_string_value(json_object_get(jn, "name"));
        l->cls = json_string_value(json_object_get(jn, "op"));
        l->cfg = jn;
        l->tensor = l->node = l->padded_tensor = -1;
        if (!l->name || !l->cls || !l->name[0])
            return enh_fail(err, ENH_EINVAL, "%s: node %d needs a name and an op", c->file, i);
        for (int k = 0; k < i; k++)
            if (!strcmp(c->L[k].name, l->name))
                return enh_fail(err, ENH_EINVAL, "%s: two nodes are named '%.200s'", c->file, l->name);
    }
    for (int i = 0; i < c->nl; i++) {
        json_t *ins = json_object_get(json_array_get(nodes, (size_t)i), "input");
        size_t m = json_array_size(ins);
        if (m > 1024)
            return enh_fail(err, ENH_EINVAL, "%s: node '%.200s' has over 1024 inputs", c->file, c->L[i].name);
        if (m && !(c->L[i].in = malloc(m * sizeof *c->L[i].in)))
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        for (size_t k = 0; k < m; k++) {
            const char *s = json_string_value(json_array_get(ins, k));
            int r = s ? input_ref(c, s) : -1;
            if (r == -2)
                continue;
            if (r < 0)
                return enh_fail(err, ENH_EINVAL, "%s: node '%.200s': input '%.200s' names no node (or an output other "
                                "than :0)", c->file, c->L[i].name, s ? s : "?");
            c->L[i].in[c->L[i].nin++] = r;
        }
    }
    /* the output: the signature's, else the last Identity */
    const char *key;
    json_t *v, *outs = json_object_get(json_object_get(root, "signature"), "outputs");
    if (!outs)
        outs = json_object_get(json_object_get(json_object_get(root, "userDefinedMetadata"), "signature"), "outputs");
    json_object_foreach(outs, key, v) {
        const char *nm = json_string_value(json_object_get(v, "name"));
        if (nm && c->output_layer < 0)
            c->output_layer = input_ref(c, nm);
    }
    for (int i = c->nl - 1; i >= 0 && c->output_layer < 0; i--)
        if (!strcmp(c->L[i].cls, "Identity"))
            c->output_layer = i;
    if (c->output_layer < 0)
        return enh_fail(err, ENH_EINVAL, "%s: no output (a signature output or an Identity node)", c->file);
    return ENH_OK;
}
