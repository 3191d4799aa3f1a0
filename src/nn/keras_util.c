/* keras_util.c - what the builders of the TF.js layers loader share (keras_internal.h): config
 * reading, messages naming the layer, IR nodes and aliases, pending zero-padding made real,
 * TF 'same' padding, and the dependency order of the layers from the output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/keras_internal.h"

enh_status keras_bad(keras_ctx *c, int i, enh_error *err, const char *fmt, const char *what)
{
    char m[256];
    snprintf(m, sizeof m, fmt, what);
    return enh_fail(err, ENH_EINVAL, "%s: layer '%s' (%s): %s", c->file, c->L[i].name, c->L[i].cls, m);
}

enh_status keras_unsupported(keras_ctx *c, int i, enh_error *err, const char *what)
{
    return enh_fail(err, ENH_EUNSUPPORTED, "%s: layer '%s' (%s): %s is not supported", c->file, c->L[i].name, c->L[i].cls,
                    what);
}

json_t *keras_cfg(keras_ctx *c, int i, const char *key)
{
    return json_object_get(c->L[i].cfg, key);
}

const char *keras_cfg_str(keras_ctx *c, int i, const char *key, const char *dflt)
{
    json_t *v = keras_cfg(c, i, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* An int or a list of two ints (kernel_size, strides, dilation_rate, pool_size); -1 when malformed. */
int keras_pair(json_t *v, int dflt, int out[2])
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

enh_status keras_channels_last(keras_ctx *c, int i, enh_error *err)
{
    const char *df = keras_cfg_str(c, i, "data_format", "channels_last");
    return strcmp(df, "channels_last") ? keras_unsupported(c, i, err, "data_format channels_first") : ENH_OK;
}

/* An activation by name into *a; *softmax set (and a->kind NONE) for "softmax". */
enh_status keras_activation(keras_ctx *c, int i, const char *name, enh_activation *a, int *softmax, enh_error *err)
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
            return keras_unsupported(c, i, err, "a softmax that is not the model's last step");
        *softmax = 1;
        return ENH_OK;
    }
    char m[96];
    snprintf(m, sizeof m, "activation '%.40s'", name);
    return keras_unsupported(c, i, err, m);
}

enh_node *keras_add_node(keras_ctx *c, int i, enh_op op, int nin, enh_error *err)
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

void keras_alias(keras_ctx *c, int i, int from)
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
void keras_same_pads(int n, int k_eff, int s, int *before, int *after)
{
    int out = (n + s - 1) / s, total = (out - 1) * s + k_eff - n;
    if (total < 0)
        total = 0;
    *before = total / 2;
    *after = total - *before;
}

/* Spatial size of layer `from`'s tensor (needs a fixed input size). */
enh_status keras_tensor_hw(keras_ctx *c, int i, int t, int *h, int *w, enh_error *err)
{
    if (c->m->in_h <= 0 || c->m->in_w <= 0)
        return keras_unsupported(c, i, err, "padding 'same' with a stride over 1 on an input of free size");
    enh_shape *s = calloc((size_t)c->g->ntensors, sizeof *s);
    if (!s)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    enh_status st = enh_graph_infer_shapes(c->g, c->g->in_channels, c->m->in_h, c->m->in_w, s, err);
    *h = s[t].h;
    *w = s[t].w;
    free(s);
    return st;
}

/* Dependency order of the layers the output needs (iterative DFS; grey = on the stack). */
enh_status keras_order(keras_ctx *c, int **out, int *count, enh_error *err)
{
    char *color = calloc((size_t)c->nl, 1);
    int *stack = malloc((size_t)c->nl * sizeof *stack), *edge = calloc((size_t)c->nl, sizeof *edge);
    int *ord = malloc((size_t)c->nl * sizeof *ord), sp = 0, n = 0;
    enh_status st = ENH_OK;
    if (!color || !stack || !edge || !ord) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory");
        goto done;
    }
    stack[sp++] = c->output_layer;
    color[c->output_layer] = 1;
    while (sp && st == ENH_OK) {
        int v = stack[sp - 1];
        if (edge[v] < c->L[v].nin) {
            int u = c->L[v].in[edge[v]++];
            if (color[u] == 1)
                st = enh_fail(err, ENH_EINVAL, "%s: the layers form a cycle through '%s'", c->file, c->L[u].name);
            else if (!color[u]) {
                color[u] = 1;
                stack[sp++] = u;
            }
        } else {
            color[v] = 2;
            ord[n++] = v;
            sp--;
        }
    }
done:
    free(color);
    free(stack);
    free(edge);
    if (st != ENH_OK) {
        free(ord);
        return st;
    }
    *out = ord;
    *count = n;
    return ENH_OK;
}
