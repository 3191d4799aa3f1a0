/* tfjs_synth.h - writes small synthetic TF.js graph models (model.json + weight shards, the
 * tfjs-converter "graph-model" layout) for the TF runtime's tests: nodes are appended one at a
 * time (each call returns the new node's name), Const values go to the shard in the order they
 * are made, and tfs_write puts model.json and the shard(s) in a folder.
 *
 * The JSON is what tfjs-converter writes: modelTopology.node[] = {name, op, input[], attr{}}
 * with strings base64 {"s": ...}, ints {"i": "1"}, lists {"list": {"i": [...]}}, types
 * {"type": "DT_FLOAT"}; Const nodes carry only their dtype, their values are the
 * weightsManifest entry of the same name ({name, shape, dtype[, quantization]}).
 * Ownership: a tfs_model owns its buffers (tfs_free). Not thread-safe. Header-only. */
#ifndef ENH_TESTS_TFJS_SYNTH_H
#define ENH_TESTS_TFJS_SYNTH_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TFS_MAXNODES 512
#define TFS_NAMELEN 64

typedef struct {
    char *buf;
    size_t len, cap;
} tfs_str;

typedef struct {
    tfs_str nodes, weights;
    unsigned char *bin;
    size_t blen, bcap;
    int nnodes, nweights;
    char names[TFS_MAXNODES][TFS_NAMELEN];
    size_t shard_bytes; /* > 0: the shard is split in files of this many bytes */
    const char *format; /* NULL: "graph-model" */
} tfs_model;

static inline void tfs_cat(tfs_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void tfs_cat(tfs_str *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (s->len + (size_t)n + 1 > s->cap) {
        size_t cap = (s->len + (size_t)n + 1) * 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            abort(); /* test helper: out of memory is fatal */
        s->buf = b, s->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(s->buf + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

static inline void tfs_init(tfs_model *m)
{
    memset(m, 0, sizeof *m);
}

static inline void tfs_free(tfs_model *m)
{
    free(m->nodes.buf), free(m->weights.buf), free(m->bin);
    memset(m, 0, sizeof *m);
}

/* A string that lives until 16 more calls (attrs are built from a few of these). */
static inline char *tfs_tmp(void)
{
    static char ring[16][1024];
    static int k;
    return ring[k++ & 15];
}

static inline const char *tfs_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *tfs_fmt(const char *fmt, ...)
{
    char *b = tfs_tmp();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 1024, fmt, ap);
    va_end(ap);
    return b;
}

static inline const char *tfs_b64(const char *s)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = tfs_tmp();
    size_t n = strlen(s), k = 0;
    for (size_t i = 0; i < n && k + 5 < 1024; i += 3) {
        unsigned v = (unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? (unsigned char)s[i + 2] : 0);
        o[k++] = tab[v >> 18 & 63];
        o[k++] = tab[v >> 12 & 63];
        o[k++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        o[k++] = i + 2 < n ? tab[v & 63] : '=';
    }
    o[k] = 0;
    return o;
}

/* attr fragments */
#define TFS_TF "\"T\":{\"type\":\"DT_FLOAT\"}"
#define TFS_TI "\"T\":{\"type\":\"DT_INT32\"}"
#define TFS_TB "\"T\":{\"type\":\"DT_BOOL\"}"

/* Appends a node; ins is NULL-terminated. Returns its name (NULL name: "n<index>"). */
static inline const char *tfs_nodev(tfs_model *m, const char *name, const char *op, const char *attrs,
                                    const char *const *ins, int nin)
{
    if (m->nnodes >= TFS_MAXNODES)
        abort();
    char *nm = m->names[m->nnodes];
    if (name)
        snprintf(nm, TFS_NAMELEN, "%s", name);
    else
        snprintf(nm, TFS_NAMELEN, "n%d", m->nnodes);
    tfs_cat(&m->nodes, "%s\n    {\"name\": \"%s\", \"op\": \"%s\", \"input\": [", m->nnodes ? "," : "", nm, op);
    for (int i = 0; i < nin; i++)
        tfs_cat(&m->nodes, "%s\"%s\"", i ? ", " : "", ins[i]);
    tfs_cat(&m->nodes, "], \"attr\": {%s}}", attrs ? attrs : "");
    m->nnodes++;
    return nm;
}

/* tfs_op(m, "AddV2", TFS_TF, a, b, NULL): an auto-named node. */
static inline const char *tfs_op(tfs_model *m, const char *op, const char *attrs, ...)
{
    const char *ins[64];
    int n = 0;
    va_list ap;
    va_start(ap, attrs);
    for (const char *s; n < 64 && (s = va_arg(ap, const char *));)
        ins[n++] = s;
    va_end(ap);
    return tfs_nodev(m, NULL, op, attrs, ins, n);
}

static inline const char *tfs_input(tfs_model *m, int c)
{
    const char *attrs = tfs_fmt("\"shape\": {\"shape\": {\"dim\": [{\"size\": \"-1\"}, {\"size\": \"-1\"}, "
                                "{\"size\": \"-1\"}, {\"size\": \"%d\"}]}}, \"dtype\": {\"type\": \"DT_FLOAT\"}", c);
    return tfs_nodev(m, "xs_0", "Placeholder", attrs, NULL, 0);
}

static inline void tfs_bytes(tfs_model *m, const void *p, size_t n)
{
    if (!n)
        return;
    if (m->blen + n > m->bcap) {
        size_t cap = (m->blen + n) * 2 + 64;
        unsigned char *b = realloc(m->bin, cap);
        if (!b)
            abort();
        m->bin = b, m->bcap = cap;
    }
    memcpy(m->bin + m->blen, p, n);
    m->blen += n;
}

/* A Const whose value is the next weight: dtype "float32"/"int32"/"bool"; raw holds the bytes
 * as stored (4 per element, 1 for bool, or the quantised encoding); quant NULL or a JSON
 * fragment such as "\"dtype\": \"uint8\", \"scale\": 0.5, \"min\": -1". */
static inline const char *tfs_const_raw(tfs_model *m, const char *name, const char *dtype, int rank, const int *dims,
                                        const void *raw, size_t nbytes, const char *quant)
{
    const char *tdt = !strcmp(dtype, "float32") ? "DT_FLOAT" : !strcmp(dtype, "int32") ? "DT_INT32" : "DT_BOOL";
    const char *nm = tfs_nodev(m, name, "Const",
                               tfs_fmt("\"value\": {\"tensor\": {\"dtype\": \"%s\", \"tensorShape\": {}}}, "
                                       "\"dtype\": {\"type\": \"%s\"}", tdt, tdt), NULL, 0);
    tfs_cat(&m->weights, "%s\n      {\"name\": \"%s\", \"shape\": [", m->nweights ? "," : "", nm);
    for (int i = 0; i < rank; i++)
        tfs_cat(&m->weights, "%s%d", i ? ", " : "", dims[i]);
    tfs_cat(&m->weights, "], \"dtype\": \"%s\"", dtype);
    if (quant)
        tfs_cat(&m->weights, ", \"quantization\": {%s}", quant);
    tfs_cat(&m->weights, "}");
    m->nweights++;
    tfs_bytes(m, raw, nbytes);
    return nm;
}

/* A weightsManifest entry no node uses (tfjs-converter keeps some): nbytes of filler. */
static inline void tfs_unused_weight(tfs_model *m, const char *name, int n)
{
    tfs_cat(&m->weights, "%s\n      {\"name\": \"%s\", \"shape\": [%d], \"dtype\": \"float32\"}", m->nweights ? "," : "",
            name, n);
    m->nweights++;
    for (int i = 0; i < n; i++) {
        float f = 1e30f;
        tfs_bytes(m, &f, 4);
    }
}

static inline size_t tfs_count(int rank, const int *dims)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    return n;
}

static inline const char *tfs_cf(tfs_model *m, int rank, const int *dims, const float *v)
{
    return tfs_const_raw(m, NULL, "float32", rank, dims, v, tfs_count(rank, dims) * 4, NULL);
}

static inline const char *tfs_ci(tfs_model *m, int rank, const int *dims, const int32_t *v)
{
    return tfs_const_raw(m, NULL, "int32", rank, dims, v, tfs_count(rank, dims) * 4, NULL);
}

static inline const char *tfs_sf(tfs_model *m, float v)
{
    return tfs_cf(m, 0, NULL, &v);
}

static inline const char *tfs_si(tfs_model *m, int32_t v)
{
    return tfs_ci(m, 0, NULL, &v);
}

/* a 1-D int32 vector */
static inline const char *tfs_vi(tfs_model *m, int n, const int32_t *v)
{
    return tfs_ci(m, 1, &n, v);
}
#define TFS_VI(m, ...) tfs_vi((m), (int)(sizeof((int32_t[]){__VA_ARGS__}) / 4), (int32_t[]){__VA_ARGS__})
#define TFS_DIMS(...) (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (int[]){__VA_ARGS__}

/* ---- op helpers (float T unless said) */
static inline const char *tfs_un(tfs_model *m, const char *op, const char *a)
{
    return tfs_op(m, op, TFS_TF, a, NULL);
}

static inline const char *tfs_bin(tfs_model *m, const char *op, const char *a, const char *b)
{
    return tfs_op(m, op, TFS_TF, a, b, NULL);
}

static inline const char *tfs_bini(tfs_model *m, const char *op, const char *a, const char *b)
{
    return tfs_op(m, op, TFS_TI, a, b, NULL);
}

static inline const char *tfs_conv(tfs_model *m, const char *x, const char *filt, const char *pad, int stride)
{
    return tfs_op(m, "Conv2D",
                  tfs_fmt("\"padding\": {\"s\": \"%s\"}, \"data_format\": {\"s\": \"%s\"}, \"strides\": {\"list\": "
                          "{\"i\": [\"1\", \"%d\", \"%d\", \"1\"]}}, \"use_cudnn_on_gpu\": {\"b\": true}, " TFS_TF
                          ", \"explicit_paddings\": {\"list\": {}}, \"dilations\": {\"list\": {\"i\": [\"1\", \"1\", "
                          "\"1\", \"1\"]}}", tfs_b64(pad), tfs_b64("NHWC"), stride, stride),
                  x, filt, NULL);
}

/* Conv2DBackpropInput(input_sizes, filter [kh, kw, out, in], y) */
static inline const char *tfs_deconv(tfs_model *m, const char *sizes, const char *filt, const char *y, const char *pad,
                                     int stride)
{
    return tfs_op(m, "Conv2DBackpropInput",
                  tfs_fmt("\"padding\": {\"s\": \"%s\"}, \"data_format\": {\"s\": \"%s\"}, \"strides\": {\"list\": "
                          "{\"i\": [\"1\", \"%d\", \"%d\", \"1\"]}}, " TFS_TF ", \"dilations\": {\"list\": {\"i\": "
                          "[\"1\", \"1\", \"1\", \"1\"]}}", tfs_b64(pad), tfs_b64("NHWC"), stride, stride),
                  sizes, filt, y, NULL);
}

static inline const char *tfs_einsum(tfs_model *m, const char *eq, const char *a, const char *b)
{
    return tfs_op(m, "Einsum", tfs_fmt("\"equation\": {\"s\": \"%s\"}, \"N\": {\"i\": \"2\"}, " TFS_TF, tfs_b64(eq)),
                  a, b, NULL);
}

static inline const char *tfs_transpose(tfs_model *m, const char *x, int rank, const int32_t *perm)
{
    return tfs_op(m, "Transpose", "\"Tperm\": {\"type\": \"DT_INT32\"}, " TFS_TF, x, tfs_vi(m, rank, perm), NULL);
}
#define TFS_TRANSPOSE(m, x, ...) \
    tfs_transpose((m), (x), (int)(sizeof((int32_t[]){__VA_ARGS__}) / 4), (int32_t[]){__VA_ARGS__})

static inline const char *tfs_reshape(tfs_model *m, const char *x, const char *shape)
{
    return tfs_op(m, "Reshape", TFS_TF ", \"Tshape\": {\"type\": \"DT_INT32\"}", x, shape, NULL);
}

static inline const char *tfs_sslice(tfs_model *m, const char *t, const char *x, const char *b, const char *e,
                                     const char *s, int begin_mask, int end_mask, int ellipsis, int new_axis,
                                     int shrink)
{
    return tfs_op(m, "StridedSlice",
                  tfs_fmt("\"shrink_axis_mask\": {\"i\": \"%d\"}, \"new_axis_mask\": {\"i\": \"%d\"}, \"Index\": "
                          "{\"type\": \"DT_INT32\"}, \"begin_mask\": {\"i\": \"%d\"}, \"end_mask\": {\"i\": \"%d\"}, "
                          "%s, \"ellipsis_mask\": {\"i\": \"%d\"}", shrink, new_axis, begin_mask, end_mask, t,
                          ellipsis), x, b, e, s, NULL);
}

static inline const char *tfs_sum(tfs_model *m, const char *op, const char *x, const char *axes, int keep)
{
    return tfs_op(m, op, tfs_fmt("\"Tidx\": {\"type\": \"DT_INT32\"}, " TFS_TF ", \"keep_dims\": {\"b\": %s}",
                                 keep ? "true" : "false"), x, axes, NULL);
}

/* Cast to "DT_FLOAT" / "DT_INT32" / "DT_BOOL" */
static inline const char *tfs_cast(tfs_model *m, const char *x, const char *src, const char *dst)
{
    return tfs_op(m, "Cast", tfs_fmt("\"SrcT\": {\"type\": \"%s\"}, \"DstT\": {\"type\": \"%s\"}, \"Truncate\": "
                                     "{\"b\": false}", src, dst), x, NULL);
}

static inline const char *tfs_shape(tfs_model *m, const char *x)
{
    return tfs_op(m, "Shape", TFS_TF ", \"out_type\": {\"type\": \"DT_INT32\"}", x, NULL);
}

/* x[i] of a 1-D int tensor as a scalar (shrink_axis_mask 1) */
static inline const char *tfs_elem(tfs_model *m, const char *v, int i)
{
    return tfs_sslice(m, TFS_TI, v, TFS_VI(m, i), TFS_VI(m, i + 1), TFS_VI(m, 1), 0, 0, 0, 0, 1);
}

static inline const char *tfs_packv(tfs_model *m, const char *t, int axis, int n, const char *const *ins)
{
    return tfs_nodev(m, NULL, "Pack", tfs_fmt("%s, \"axis\": {\"i\": \"%d\"}, \"N\": {\"i\": \"%d\"}", t, axis, n), ins,
                     n);
}

static inline const char *tfs_concatv(tfs_model *m, const char *t, int n, const char *const *ins, int axis)
{
    const char *all[65];
    for (int i = 0; i < n && i < 64; i++)
        all[i] = ins[i];
    all[n] = tfs_si(m, axis);
    return tfs_nodev(m, NULL, "ConcatV2", tfs_fmt("\"N\": {\"i\": \"%d\"}, \"Tidx\": {\"type\": \"DT_INT32\"}, %s", n, t),
                     all, n + 1);
}

static inline const char *tfs_gather(tfs_model *m, const char *x, const char *idx, int axis)
{
    return tfs_op(m, "GatherV2", "\"Taxis\": {\"type\": \"DT_INT32\"}, \"Tparams\": {\"type\": \"DT_FLOAT\"}, "
                  "\"Tindices\": {\"type\": \"DT_INT32\"}, \"batch_dims\": {\"i\": \"0\"}", x, idx, tfs_si(m, axis), NULL);
}

static inline const char *tfs_select(tfs_model *m, const char *c, const char *a, const char *b)
{
    return tfs_op(m, "SelectV2", TFS_TF, c, a, b, NULL);
}

static inline const char *tfs_range(tfs_model *m, const char *start, const char *limit, const char *delta)
{
    return tfs_op(m, "Range", "\"Tidx\": {\"type\": \"DT_INT32\"}", start, limit, delta, NULL);
}

/* ---- composite layers, written the way jax2tf exports Flax models */
static inline const char *tfs_gelu(tfs_model *m, const char *x) /* tanh form */
{
    const char *x3 = tfs_bin(m, "Mul", x, tfs_bin(m, "Mul", x, x));
    const char *in = tfs_bin(m, "Mul", tfs_bin(m, "AddV2", x, tfs_bin(m, "Mul", x3, tfs_sf(m, 0.044715f))),
                             tfs_sf(m, 0.7978845608f));
    return tfs_bin(m, "Mul", tfs_bin(m, "Mul", x, tfs_sf(m, 0.5f)),
                   tfs_bin(m, "AddV2", tfs_sf(m, 1), tfs_un(m, "Tanh", in)));
}

static inline const char *tfs_sigmoid(tfs_model *m, const char *x) /* 1 / (1 + exp(-x)) */
{
    return tfs_un(m, "Reciprocal", tfs_bin(m, "AddV2", tfs_sf(m, 1), tfs_un(m, "Exp", tfs_un(m, "Neg", x))));
}

static inline const char *tfs_leaky(tfs_model *m, const char *x, float alpha) /* select(x >= 0, x, a x) */
{
    return tfs_select(m, tfs_op(m, "GreaterEqual", TFS_TF, x, tfs_sf(m, 0), NULL), x,
                      tfs_bin(m, "Mul", x, tfs_sf(m, alpha)));
}

/* Flax LayerNorm over the last axis (c channels) of an NHWC x: mean and E[x^2] by Sum, var =
 * max(0, E[x^2] - mean^2), the statistics reshaped to [1, H, W, 1] by a shape built from
 * Shape(x), then (x - mean) rsqrt(var + 1e-6) gamma + beta. */
static inline const char *tfs_layernorm(tfs_model *m, const char *x, int c, const char *gamma, const char *beta)
{
    const char *ax = TFS_VI(m, -1), *invc = tfs_sf(m, 1.0f / (float)c);
    const char *mean = tfs_bin(m, "Mul", tfs_sum(m, "Sum", x, ax, 0), invc);
    const char *m2 = tfs_bin(m, "Mul", tfs_sum(m, "Sum", tfs_un(m, "Square", x), ax, 0), invc);
    const char *var = tfs_bin(m, "Maximum", tfs_sf(m, 0), tfs_bin(m, "Sub", m2, tfs_un(m, "Square", mean)));
    const char *s = tfs_shape(m, x);
    const char *parts[4] = {tfs_si(m, 1), tfs_elem(m, s, 1), tfs_elem(m, s, 2), tfs_si(m, 1)};
    const char *shp = tfs_packv(m, TFS_TI, 0, 4, parts);
    const char *y = tfs_bin(m, "Mul", tfs_bin(m, "Sub", x, tfs_reshape(m, mean, shp)),
                            tfs_un(m, "Rsqrt", tfs_bin(m, "AddV2", tfs_reshape(m, var, shp), tfs_sf(m, 1e-6f))));
    return tfs_bin(m, "AddV2", tfs_bin(m, "Mul", y, gamma), beta);
}

/* The nearest 2x upscaling matrix [n, 2n], M[g][b] = (b / 2 == g), from the int scalar n
 * (folded once the input size is known, like jax.image.resize's weights). */
static inline const char *tfs_up2_matrix(tfs_model *m, const char *n)
{
    const char *g = tfs_range(m, tfs_si(m, 0), n, tfs_si(m, 1));
    const char *b = tfs_range(m, tfs_si(m, 0), tfs_bini(m, "Mul", n, tfs_si(m, 2)), tfs_si(m, 1));
    const char *bh = tfs_bini(m, "FloorDiv", b, tfs_si(m, 2));
    const char *eq = tfs_op(m, "Equal", TFS_TI ", \"incompatible_shape_error\": {\"b\": true}",
                            tfs_reshape(m, g, TFS_VI(m, -1, 1)), tfs_reshape(m, bh, TFS_VI(m, 1, -1)), NULL);
    return tfs_cast(m, eq, "DT_BOOL", "DT_FLOAT");
}

/* x [1, H, W, C] -> [1, 2H, 2W, C] by the resize Einsum pair gb,cgef->bcef (H) and
 * abgd,gf->abdf (W), transposed back to NHWC */
static inline const char *tfs_resize2(tfs_model *m, const char *x)
{
    const char *s = tfs_shape(m, x);
    const char *y = tfs_einsum(m, "gb,cgef->bcef", tfs_up2_matrix(m, tfs_elem(m, s, 1)), x); /* 2H, 1, W, C */
    y = tfs_einsum(m, "abgd,gf->abdf", y, tfs_up2_matrix(m, tfs_elem(m, s, 2)));             /* 2H, 1, C, 2W */
    return TFS_TRANSPOSE(m, y, 1, 0, 3, 2);
}

/* MAXIM's 2x2 block mixing, as MAXIM's graphs spell it: x [1, H, W, c] -> [1, H/2, 2, W/2, 2, c]
 * -> [1, H/2, W/2, c, 4], a Dense (w44: 4x4) over each block's 4 pixels, back to x's shape (the
 * sizes from Shape(x) / FloorDiv); returns x + that. */
static inline const char *tfs_block_mix2(tfs_model *m, const char *x, int c, const char *w44)
{
    const char *s = tfs_shape(m, x), *two = tfs_si(m, 2);
    const char *gh = tfs_bini(m, "FloorDiv", tfs_elem(m, s, 1), two), *gw = tfs_bini(m, "FloorDiv", tfs_elem(m, s, 2), two);
    const char *p6[6] = {tfs_si(m, 1), gh, two, gw, two, tfs_si(m, c)};
    const char *b = TFS_TRANSPOSE(m, tfs_reshape(m, x, tfs_packv(m, TFS_TI, 0, 6, p6)), 0, 1, 3, 5, 2, 4);
    const char *p5[5] = {tfs_si(m, 1), gh, gw, tfs_si(m, c), tfs_si(m, 4)};
    b = tfs_einsum(m, "abcdg,gf->abcdf", tfs_reshape(m, b, tfs_packv(m, TFS_TI, 0, 5, p5)), w44);
    const char *q6[6] = {tfs_si(m, 1), gh, gw, tfs_si(m, c), two, two};
    b = TFS_TRANSPOSE(m, tfs_reshape(m, b, tfs_packv(m, TFS_TI, 0, 6, q6)), 0, 1, 4, 2, 5, 3);
    return tfs_bin(m, "AddV2", x, tfs_reshape(m, b, tfs_shape(m, x)));
}

/* model.json text with `output` as the model's output (an Identity named "Identity" is
 * appended, as tfjs-converter does) and nshards shard files. Caller frees. */
static inline char *tfs_json(tfs_model *m, const char *output, int *nshards)
{
    int ns = m->shard_bytes && m->blen ? (int)((m->blen + m->shard_bytes - 1) / m->shard_bytes) : 1;
    size_t keep = m->nodes.len;
    tfs_nodev(m, "Identity", "Identity", TFS_TF, &output, 1);
    tfs_str j = {0};
    tfs_cat(&j, "{\n  \"format\": \"%s\",\n  \"generatedBy\": \"2.12.0\",\n  \"convertedBy\": \"TensorFlow.js Converter "
            "v4.5.0\",\n  \"signature\": {\"inputs\": {\"xs_0\": {\"name\": \"xs_0:0\", \"dtype\": \"DT_FLOAT\"}}, "
            "\"outputs\": {\"output_0\": {\"name\": \"Identity:0\", \"dtype\": \"DT_FLOAT\"}}},\n  \"modelTopology\": "
            "{\"node\": [%s\n  ], \"library\": {}, \"versions\": {\"producer\": 1395}},\n  \"weightsManifest\": "
            "[{\"paths\": [", m->format ? m->format : "graph-model", m->nodes.buf ? m->nodes.buf : "");
    for (int i = 0; i < ns; i++)
        tfs_cat(&j, "%s\"group1-shard%dof%d.bin\"", i ? ", " : "", i + 1, ns);
    tfs_cat(&j, "], \"weights\": [%s\n    ]}]\n}\n", m->weights.buf ? m->weights.buf : "");
    m->nnodes--; /* the Identity is the JSON's, not the model's: tfs_json may be called again */
    m->nodes.len = keep;
    m->nodes.buf[keep] = 0;
    if (nshards)
        *nshards = ns;
    return j.buf;
}

static inline int tfs_put_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Writes json as dir/model.json and bin (blen bytes) as its nshards shard files; the model.json
 * path goes to path (cap bytes). 0 on success. */
static inline int tfs_write_files(const char *dir, const char *json, const unsigned char *bin, size_t blen, int nshards,
                                  size_t shard_bytes, char *path, size_t cap)
{
    char p[4096];
    for (int i = 0; i < nshards; i++) {
        size_t off = nshards > 1 ? (size_t)i * shard_bytes : 0, n = blen - (off < blen ? off : blen);
        if (nshards > 1 && n > shard_bytes)
            n = shard_bytes;
        snprintf(p, sizeof p, "%s/group1-shard%dof%d.bin", dir, i + 1, nshards);
        if (tfs_put_file(p, bin ? bin + off : NULL, n))
            return -1;
    }
    if ((size_t)snprintf(path, cap, "%s/model.json", dir) >= cap)
        return -1;
    return tfs_put_file(path, json, strlen(json));
}

static inline int tfs_write(tfs_model *m, const char *dir, const char *output, char *path, size_t cap)
{
    int ns;
    char *j = tfs_json(m, output, &ns);
    int r = tfs_write_files(dir, j, m->bin, m->blen, ns, m->shard_bytes, path, cap);
    free(j);
    return r;
}

#endif
