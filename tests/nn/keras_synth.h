/* keras_synth.h - writes TF.js layers models for the loader tests the way nsfwjs ships them:
 * model.min.js (a browserify wrapper exporting model.json as a JavaScript object literal:
 * unquoted keys, !0/!1, .5 numbers) and group1-shardKofN.min.js (a wrapper exporting the
 * base64 of one shard); also TF.js graph models (ks_write_graph). Weights are uint8-affine
 * quantised from seeded random values; the
 * test's reference uses the dequantised values, (float)((double)q * scale + min).
 * Header-only (static functions), for tests. */
#ifndef ENH_TESTS_KERAS_SYNTH_H
#define ENH_TESTS_KERAS_SYNTH_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/keras_load.h"

#define KS_MAX_W 64

typedef struct {
    char name[96];
    int shape[4], rank;
    size_t count;
    float *val;          /* dequantised values (what the loader must produce) */
    unsigned char *q;
    double scale, min;
} ks_weight;

typedef struct {
    json_t *layers;      /* model_config.config.layers */
    ks_weight w[KS_MAX_W];
    int nw;
    unsigned long long rng;
} ks_model;

static inline double ks_rand(ks_model *m) /* [0, 1) */
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return (double)(m->rng >> 11) * (1.0 / 9007199254740992.0);
}

/* A weight of shape d[rank] with values in [lo, hi), quantised to uint8. */
static inline const float *ks_weight_add(ks_model *m, const char *layer, const char *wname, int rank, const int *d,
                                         double lo, double hi)
{
    ks_weight *w = &m->w[m->nw++];
    snprintf(w->name, sizeof w->name, "%s/%s", layer, wname);
    w->rank = rank;
    w->count = 1;
    for (int i = 0; i < rank; i++)
        w->count *= (size_t)(w->shape[i] = d[i]);
    w->min = lo;
    w->scale = (hi - lo) / 255.0;
    w->q = malloc(w->count);
    w->val = malloc(w->count * sizeof *w->val);
    for (size_t i = 0; i < w->count; i++) {
        w->q[i] = (unsigned char)(ks_rand(m) * 256);
        w->val[i] = (float)((double)w->q[i] * w->scale + w->min);
    }
    return w->val;
}

static inline json_t *ks_inbound(const char *const *from, int n)
{
    json_t *call = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(call, json_pack("[s,i,i,{}]", from[i], 0, 0));
    return json_pack("[o]", call);
}

/* Appends a layer; cfg is taken (its "name" is set here). */
static inline void ks_layer(ks_model *m, const char *cls, const char *name, json_t *cfg, const char *const *from, int n)
{
    json_object_set_new(cfg, "name", json_string(name));
    json_t *l = json_pack("{s:s,s:s,s:o,s:o}", "name", name, "class_name", cls, "config", cfg, "inbound_nodes",
                          n ? ks_inbound(from, n) : json_array());
    json_array_append_new(m->layers, l);
}

/* JSON text -> the JS literal nsfwjs ships: identifier keys unquoted, true/false as !0/!1,
 * 0.x as .x. */
static inline char *ks_jsify(const char *j)
{
    size_t n = strlen(j);
    char *o = malloc(n + 1), *p = o;
    for (size_t i = 0; i < n;) {
        if (j[i] == '"') {
            size_t e = i + 1;
            while (j[e] != '"')
                e += j[e] == '\\' ? 2 : 1;
            int ident = e > i + 1;
            for (size_t k = i + 1; k < e; k++)
                if (!((j[k] >= 'a' && j[k] <= 'z') || (j[k] >= 'A' && j[k] <= 'Z') || j[k] == '_' ||
                      (k > i + 1 && j[k] >= '0' && j[k] <= '9')))
                    ident = 0;
            if (ident && j[e + 1] == ':') {
                memcpy(p, j + i + 1, e - i - 1);
                p += e - i - 1;
            } else {
                memcpy(p, j + i, e + 1 - i);
                p += e + 1 - i;
            }
            i = e + 1;
        } else if (!strncmp(j + i, "true", 4)) {
            memcpy(p, "!0", 2), p += 2, i += 4;
        } else if (!strncmp(j + i, "false", 5)) {
            memcpy(p, "!1", 2), p += 2, i += 5;
        } else if (j[i] == '0' && j[i + 1] == '.' && (i == 0 || j[i - 1] == ':' || j[i - 1] == ',' || j[i - 1] == '[' ||
                                                      j[i - 1] == '-')) {
            i++; /* "0.5" -> ".5" */
        } else
            *p++ = j[i++];
    }
    *p = 0;
    return o;
}

static const char ks_pre[] =
    "!function(e){if(\"object\"==typeof exports&&\"undefined\"!=typeof module)module.exports=e();else{(\"undefined\"!="
    "typeof window?window:this).model=e()}}(function(){return function e(a,n,i){function l(_,o){if(!n[_]){var r=n[_]="
    "{exports:{}};a[_][0].call(r.exports,function(e){return l(a[_][1][e]||e)},r,r.exports,e,a,n,i)}return n[_].exports"
    "}for(var _=0;_<i.length;_++)l(i[_]);return l}({1:[function(e,a,n){a.exports=";
static const char ks_post[] = "},{}]},{},[1])(1)});";

static inline int ks_write_text(const char *path, const char *a, const char *b, const char *c)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fputs(a, f);
    fputs(b, f);
    fputs(c, f);
    return fclose(f);
}

static inline char *ks_base64(const unsigned char *s, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(n / 3 * 4 + 8), *p = o;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        *p++ = t[v >> 18], *p++ = t[(v >> 12) & 63], *p++ = t[(v >> 6) & 63], *p++ = t[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
        *p++ = t[v >> 18], *p++ = t[(v >> 12) & 63];
        *p++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p = 0;
    return o;
}

/* Writes dir/model.min.js and the weights as `nshards` shards (split at odd byte offsets, so a
 * weight straddles each boundary). `reverse` lists the layers in reverse order (the loader must
 * not rely on the file's order). Returns 0 on success. */
static inline int ks_write_root(ks_model *m, const char *dir, const char *out_layer, int nshards, int reverse,
                                json_t *graph_nodes);
static inline int ks_write(ks_model *m, const char *dir, int in_h, int in_w, int in_c, const char *out_layer,
                           int nshards, int reverse)
{
    (void)in_h, (void)in_w, (void)in_c;
    return ks_write_root(m, dir, out_layer, nshards, reverse, NULL);
}

/* A TF.js graph model instead: `nodes` (taken) is modelTopology.node; its Const nodes' values
 * are the weights of the same names. */
static inline int ks_write_graph(ks_model *m, const char *dir, json_t *nodes)
{
    return ks_write_root(m, dir, NULL, 1, 0, nodes);
}

static inline int ks_write_root(ks_model *m, const char *dir, const char *out_layer, int nshards, int reverse,
                                json_t *graph_nodes)
{
    json_t *layers = json_array();
    size_t nl = json_array_size(m->layers);
    for (size_t i = 0; i < nl; i++)
        json_array_append(layers, json_array_get(m->layers, reverse ? nl - 1 - i : i));
    json_t *ws = json_array(), *paths = json_array();
    size_t total = 0;
    for (int i = 0; i < m->nw; i++) {
        json_t *shape = json_array();
        for (int k = 0; k < m->w[i].rank; k++)
            json_array_append_new(shape, json_integer(m->w[i].shape[k]));
        json_array_append_new(ws, json_pack("{s:s,s:o,s:s,s:{s:f,s:f,s:s}}", "name", m->w[i].name, "shape", shape,
                                            "dtype", "float32", "quantization", "min", m->w[i].min, "scale",
                                            m->w[i].scale, "dtype", "uint8"));
        total += m->w[i].count;
    }
    unsigned char *all = malloc(total + 1);
    size_t off = 0;
    for (int i = 0; i < m->nw; i++) {
        memcpy(all + off, m->w[i].q, m->w[i].count);
        off += m->w[i].count;
    }
    int rc = 0;
    size_t start = 0;
    for (int s = 0; s < nshards; s++) {
        size_t end = s == nshards - 1 ? total : (total * (size_t)(s + 1) / (size_t)nshards) | 1;
        char name[64], path[4096];
        snprintf(name, sizeof name, "group1-shard%dof%d", s + 1, nshards);
        json_array_append_new(paths, json_string(name));
        snprintf(path, sizeof path, "%s/%s.min.js", dir, name);
        char *b = ks_base64(all + start, end - start);
        rc |= ks_write_text(path, ks_pre, "\"", "");
        FILE *f = fopen(path, "ab");
        if (f) {
            fputs(b, f);
            fputs("\"", f);
            fputs(ks_post, f);
            fclose(f);
        } else
            rc = -1;
        free(b);
        start = end;
    }
    free(all);
    json_t *root;
    if (graph_nodes) {
        json_decref(layers);
        root = json_pack("{s:s,s:{s:o},s:[{s:o,s:o}]}", "format", "graph-model", "modelTopology", "node", graph_nodes,
                         "weightsManifest", "paths", paths, "weights", ws);
    } else
        root = json_pack(
            "{s:{s:s,s:s,s:{s:s,s:{s:s,s:o,s:[[s,i,i]],s:[[s,i,i]]}}},s:[{s:o,s:o}]}", "modelTopology", "keras_version",
            "2.2.4", "backend", "tensorflow", "model_config", "class_name", "Model", "config", "name", "synth", "layers",
            layers, "input_layers", "input_1", 0, 0, "output_layers", out_layer, 0, 0, "weightsManifest", "paths",
            paths, "weights", ws);
    char *j = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
    char *js = ks_jsify(j);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.min.js", dir);
    rc |= ks_write_text(path, ks_pre, js, ks_post);
    free(j);
    free(js);
    json_decref(root);
    return rc;
}

/* inbound layers of one: KS_FROM1("conv") */
#define KS_FROM1(x) (const char *const[]){x}

/* a Conv2D / DepthwiseConv2D layer's config, channels_last, no dilation */
static inline json_t *ks_conv_cfg(int filters, int k, int s, const char *pad, int bias, const char *act)
{
    return json_pack("{s:i,s:[i,i],s:[i,i],s:s,s:s,s:[i,i],s:s,s:b}", "filters", filters, "kernel_size", k, k, "strides",
                     s, s, "padding", pad, "data_format", "channels_last", "dilation_rate", 1, 1, "activation", act,
                     "use_bias", bias);
}

/* loads dir/model.min.js (what ks_write wrote) */
static inline enh_status ks_load(const char *dir, enh_keras_model *km, enh_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.min.js", dir);
    return enh_keras_load(path, km, err);
}

static inline void ks_free(ks_model *m)
{
    for (int i = 0; i < m->nw; i++) {
        free(m->w[i].q);
        free(m->w[i].val);
    }
    json_decref(m->layers);
    memset(m, 0, sizeof *m);
}

#endif
