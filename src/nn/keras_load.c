/* keras_load.c - the topology of a TF.js layers model (keras_load.h): model_config's layers
 * with their inbound_nodes (or a graph model's nodes, keras_graph.c), put in dependency order
 * from the output (a cycle is an error that names a layer on it), each layer built by
 * keras_layers.c / keras_conv.c, then checks at the input size the model declares
 * (Flatten/Dense read 1x1 maps, so NCHW and NHWC flatten alike). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "nn/keras_internal.h"
#include "nn/tfjs_container.h"

#define MAX_LAYERS 20000

static int find_layer(const keras_ctx *c, const char *name)
{
    for (int i = 0; i < c->nl; i++)
        if (!strcmp(c->L[i].name, name))
            return i;
    return -1;
}

/* [[name, node_index, tensor_index, kwargs], ...] of the layer's one call into l->in. */
static enh_status parse_inbound(keras_ctx *c, int i, json_t *jl, enh_error *err)
{
    keras_layer *l = &c->L[i];
    json_t *ib = json_object_get(jl, "inbound_nodes");
    if (!json_is_array(ib))
        return enh_fail(err, ENH_EINVAL, "%s: layer '%s' has no inbound_nodes list", c->file, l->name);
    if (json_array_size(ib) == 0)
        return ENH_OK;
    if (json_array_size(ib) > 1)
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: layer '%s' is called %zu times (shared layers are not supported)",
                        c->file, l->name, json_array_size(ib));
    json_t *call = json_array_get(ib, 0);
    if (!json_is_array(call))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: layer '%s': inbound_nodes in a format other than Keras 2's lists",
                        c->file, l->name);
    size_t n = json_array_size(call);
    if (n < 1 || n > 1024)
        return enh_fail(err, ENH_EINVAL, "%s: layer '%s' has %zu inputs (1..1024)", c->file, l->name, n);
    if (!(l->in = malloc(n * sizeof *l->in)))
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        json_t *r = json_array_get(call, k);
        const char *src = json_string_value(json_array_get(r, 0));
        json_t *ni = json_array_get(r, 1), *ti = json_array_get(r, 2);
        int j = src ? find_layer(c, src) : -1;
        if (!json_is_array(r) || j < 0)
            return enh_fail(err, ENH_EINVAL, "%s: layer '%s': input %zu names no layer ('%.80s')", c->file, l->name, k,
                            src ? src : "?");
        if ((ni && json_integer_value(ni) != 0) || (ti && json_integer_value(ti) != 0))
            return enh_fail(err, ENH_EUNSUPPORTED, "%s: layer '%s': input '%s' is not the first output of the first call",
                            c->file, l->name, src);
        l->in[l->nin++] = j;
    }
    return ENH_OK;
}

static enh_status input_layer(keras_ctx *c, int i, enh_error *err)
{
    json_t *shape = json_object_get(c->L[i].cfg, "batch_input_shape");
    if (!shape)
        shape = json_object_get(c->L[i].cfg, "batch_shape");
    if (!json_is_array(shape) || json_array_size(shape) != 4)
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: input '%s' must be an image batch [N, H, W, C]", c->file,
                        c->L[i].name);
    int d[3];
    for (int k = 0; k < 3; k++) {
        json_t *v = json_array_get(shape, (size_t)k + 1);
        d[k] = json_is_null(v) ? 0 : json_is_integer(v) ? (int)json_integer_value(v) : -1;
    }
    if (d[0] < 0 || d[0] > 65536 || d[1] < 0 || d[1] > 65536 || d[2] < 1 || d[2] > 4 || (!d[0] != !d[1]))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: input '%s': height and width 1..65536 (or both free), 1..4 channels",
                        c->file, c->L[i].name);
    if (c->g->input >= 0)
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: more than one input layer", c->file);
    enh_node *n = enh_graph_add(c->g, ENH_OP_INPUT, c->L[i].name, 0);
    if (!n)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    n->out = c->g->ntensors++;
    c->g->input = n->out;
    c->g->in_channels = d[2];
    c->g->fixed_h = c->m->in_h = d[0];
    c->g->fixed_w = c->m->in_w = d[1];
    c->m->in_c = d[2];
    c->L[i].tensor = n->out;
    return ENH_OK;
}

/* At the declared input size: every flattened map is 1x1, and the output size. */
static enh_status check_shapes(keras_ctx *c, enh_error *err)
{
    if (c->m->in_h <= 0) {
        for (int i = 0; i < c->nl; i++)
            if (c->L[i].flatten && c->L[i].tensor >= 0)
                return enh_fail(err, ENH_EUNSUPPORTED, "%s: layer '%s' is flattened but the input size is free", c->file,
                                c->L[i].name);
        return ENH_OK;
    }
    enh_shape *s = calloc((size_t)c->g->ntensors, sizeof *s);
    if (!s)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    enh_status st = enh_graph_infer_shapes(c->g, c->m->in_c, c->m->in_h, c->m->in_w, s, err);
    if (st != ENH_OK)
        enh_error_prefix(err, "%s (at its %dx%d input)", c->file, c->m->in_w, c->m->in_h);
    for (int i = 0; i < c->nl && st == ENH_OK; i++) {
        const enh_shape *t = c->L[i].tensor >= 0 ? &s[c->L[i].tensor] : NULL;
        if (c->L[i].flatten && t && (t->h != 1 || t->w != 1))
            st = enh_fail(err, ENH_EUNSUPPORTED, "%s: layer '%s': a %dx%dx%d map is flattened (only 1x1 maps)", c->file,
                          c->L[i].name, t->h, t->w, t->c);
    }
    if (st == ENH_OK)
        c->m->out_size = s[c->g->output].c * s[c->g->output].h * s[c->g->output].w;
    free(s);
    return st;
}

static enh_status load_topology(keras_ctx *c, json_t *root, enh_error *err)
{
    json_t *topo = json_object_get(root, "modelTopology");
    json_t *mc = json_object_get(topo, "model_config");
    if (!mc)
        mc = topo; /* some writers put the config at the top */
    const char *cls = json_string_value(json_object_get(mc, "class_name"));
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (fmt && strcmp(fmt, "layers-model"))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: format '%.40s' is not a TF.js layers model", c->file, fmt);
    if (!cls || (strcmp(cls, "Model") && strcmp(cls, "Functional")))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: model class '%.40s' (only a functional Keras Model is supported)",
                        c->file, cls ? cls : "none");
    json_t *conf = json_object_get(mc, "config"), *layers = json_object_get(conf, "layers");
    size_t nl = json_array_size(layers);
    if (!json_is_array(layers) || nl == 0 || nl > MAX_LAYERS)
        return enh_fail(err, ENH_EINVAL, "%s: model_config.config.layers must list 1..%d layers", c->file, MAX_LAYERS);
    if (!(c->L = calloc(nl, sizeof *c->L)))
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    c->nl = (int)nl;
    for (int i = 0; i < c->nl; i++) {
        json_t *jl = json_array_get(layers, (size_t)i);
        keras_layer *l = &c->L[i];
        l->name = json_string_value(json_object_get(jl, "name"));
        l->cls = json_string_value(json_object_get(jl, "class_name"));
        l->cfg = json_object_get(jl, "config");
        l->tensor = l->node = l->padded_tensor = -1;
        if (!l->name || !l->cls || !json_is_object(l->cfg) || !l->name[0])
            return enh_fail(err, ENH_EINVAL, "%s: layer %d needs a name, a class_name and a config", c->file, i);
        if (find_layer(c, l->name) < i)
            return enh_fail(err, ENH_EINVAL, "%s: two layers are named '%s'", c->file, l->name);
    }
    for (int i = 0; i < c->nl; i++) {
        enh_status st = parse_inbound(c, i, json_array_get(layers, (size_t)i), err);
        if (st != ENH_OK)
            return st;
    }
    json_t *outs = json_object_get(conf, "output_layers"), *ins = json_object_get(conf, "input_layers");
    if (json_array_size(outs) != 1 || json_array_size(ins) != 1)
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: the model must have one input and one output layer", c->file);
    const char *oname = json_string_value(json_array_get(json_array_get(outs, 0), 0));
    c->output_layer = oname ? find_layer(c, oname) : -1;
    if (c->output_layer < 0)
        return enh_fail(err, ENH_EINVAL, "%s: output layer '%.80s' is not among the layers", c->file, oname ? oname : "?");
    return ENH_OK;
}

enh_status enh_keras_load(const char *model_path, enh_keras_model *out, enh_error *err_out)
{
    enh_error local, *err = err_out ? err_out : &local;
    memset(out, 0, sizeof *out);
    json_t *root;
    enh_status st = enh_tfjs_read_json(model_path, &root, err);
    if (st != ENH_OK)
        return st;
    keras_weights w = {0};
    keras_ctx c = {.file = model_path, .w = &w, .m = out, .output_layer = -1};
    int *ord = NULL, nord = 0;
    if (!(c.g = enh_graph_new())) {
        json_decref(root);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    const char *fmt = json_string_value(json_object_get(root, "format"));
    int graph = fmt && !strcmp(fmt, "graph-model");
    if ((st = graph ? keras_graph_topology(&c, root, err) : load_topology(&c, root, err)) != ENH_OK ||
        (st = keras_order(&c, &ord, &nord, err)) != ENH_OK)
        goto done;
    char dir[4096];
    enh_path_dir(model_path, dir, sizeof dir);
    if ((st = keras_weights_load(json_object_get(root, "weightsManifest"), dir, &w, model_path, err)) != ENH_OK)
        goto done;
    for (int k = 0; k < nord; k++)
        for (int j = 0; j < c.L[ord[k]].nin; j++)
            c.L[c.L[ord[k]].in[j]].readers++;
    c.L[c.output_layer].readers++;
    for (int k = 0; k < nord && st == ENH_OK; k++) {
        int i = ord[k];
        if (graph)
            st = keras_build_graph_node(&c, i, err);
        else if (!strcmp(c.L[i].cls, "InputLayer"))
            st = c.L[i].nin ? enh_fail(err, ENH_EINVAL, "%s: input layer '%s' has inputs", model_path, c.L[i].name)
                            : input_layer(&c, i, err);
        else if (!c.L[i].nin)
            st = enh_fail(err, ENH_EINVAL, "%s: layer '%s' (%s) has no inputs", model_path, c.L[i].name, c.L[i].cls);
        else if (c.g->input < 0)
            st = enh_fail(err, ENH_EINVAL, "%s: layer '%s' comes before the input layer", model_path, c.L[i].name);
        else
            st = keras_build_layer(&c, i, err);
    }
    if (st == ENH_OK && c.g->input < 0)
        st = enh_fail(err, ENH_EINVAL, "%s: the output does not depend on an input layer", model_path);
    if (st == ENH_OK)
        st = keras_tensor_of(&c, c.output_layer, &c.g->output, err);
    if (st == ENH_OK && (st = enh_graph_validate(c.g, err)) != ENH_OK)
        enh_error_prefix(err, "%s", model_path);
    if (st == ENH_OK)
        st = check_shapes(&c, err);
done:
    for (int i = 0; i < c.nl; i++)
        free(c.L[i].in);
    free(c.L);
    free(ord);
    keras_weights_free(&w);
    json_decref(root);
    if (st != ENH_OK) {
        enh_graph_free(c.g);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->graph = c.g;
    return ENH_OK;
}
