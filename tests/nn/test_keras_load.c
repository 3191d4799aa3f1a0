/* test_keras_load.c - the TF.js layers-model loader (nn/keras_load.h) on models this test
 * writes in nsfwjs's .min.js containers (keras_synth.h):
 *  - a 20-layer network with every op nsfwjs uses (ZeroPadding + stride-2 conv, BN folded and
 *    not foldable, ReLU6, depthwise 'same', BN without gamma, Add, 'valid' and 'same' average
 *    pooling, max pooling, Concatenate, Flatten, Dense, Dropout, softmax), layers listed out of
 *    order, weights in two shards with weights straddling the boundary, against a direct NHWC
 *    reference computed here in double;
 *  - the graph it builds: BN folded into its conv, the pads of ZeroPadding2D on the conv;
 *  - 'same' average pooling leaves the padded taps out of the divisor;
 *  - a TF.js graph model with MobileNetV2Mid's ops (scalar Mul/Sub, fused conv + Relu6 with SAME
 *    stride 2, fused depthwise, AddV2, AvgPool, Squeeze, fused MatMul, Softmax) against the same.
 * Hostile files and the container's literal reader: test_keras_hostile.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "keras_synth.h"
#include "nn/keras_load.h"
#include "nn/model.h"
#include "nn/tfjs_container.h"

/* ---- NHWC reference in double ---- */
typedef struct {
    int h, w, c;
    double *v;
} tens;

static tens t_new(int h, int w, int c)
{
    tens t = {h, w, c, calloc((size_t)h * w * c, sizeof(double))};
    return t;
}
#define AT(t, y, x, k) (t).v[((size_t)(y) * (t).w + (x)) * (t).c + (k)]

static tens r_pad(tens a, int pt, int pb, int pl, int pr)
{
    tens o = t_new(a.h + pt + pb, a.w + pl + pr, a.c);
    for (int y = 0; y < a.h; y++)
        for (int x = 0; x < a.w; x++)
            for (int k = 0; k < a.c; k++)
                AT(o, y + pt, x + pl, k) = AT(a, y, x, k);
    return o;
}

/* valid conv on an already padded input; HWIO kernel, or depthwise H W C 1 */
static tens r_conv(tens a, const float *K, const float *bias, int kh, int kw, int s, int cout, int dw)
{
    tens o = t_new((a.h - kh) / s + 1, (a.w - kw) / s + 1, dw ? a.c : cout);
    for (int y = 0; y < o.h; y++)
        for (int x = 0; x < o.w; x++)
            for (int co = 0; co < o.c; co++) {
                double acc = bias ? bias[co] : 0;
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++) {
                        if (dw)
                            acc += AT(a, y * s + i, x * s + j, co) * K[(i * kw + j) * a.c + co];
                        else
                            for (int ci = 0; ci < a.c; ci++)
                                acc += AT(a, y * s + i, x * s + j, ci) * K[((i * kw + j) * a.c + ci) * cout + co];
                    }
                AT(o, y, x, co) = acc;
            }
    return o;
}

static void r_bn(tens a, const float *g, const float *b, const float *m, const float *v)
{
    for (size_t p = 0; p < (size_t)a.h * a.w; p++)
        for (int k = 0; k < a.c; k++) {
            double *x = &a.v[p * a.c + k];
            *x = (*x - m[k]) / sqrt((double)v[k] + 1e-3) * (g ? g[k] : 1.0) + (b ? b[k] : 0.0);
        }
}

static void r_clip(tens a, double lo, double hi)
{
    for (size_t i = 0; i < (size_t)a.h * a.w * a.c; i++)
        a.v[i] = a.v[i] < lo ? lo : a.v[i] > hi ? hi : a.v[i];
}

/* pooling k x k stride 1 (or k with stride k when valid_stride_k); same = TF 'same' (pads left out) */
static tens r_pool(tens a, int k, int same, int max, int stride)
{
    int oh = same ? a.h : (a.h - k) / stride + 1, ow = same ? a.w : (a.w - k) / stride + 1;
    int pt = same ? (k - 1) / 2 : 0;
    tens o = t_new(oh, ow, a.c);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int c = 0; c < a.c; c++) {
                double acc = max ? -1e300 : 0;
                int n = 0;
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++) {
                        int yy = y * stride - pt + i, xx = x * stride - pt + j;
                        if (yy < 0 || xx < 0 || yy >= a.h || xx >= a.w)
                            continue;
                        double v = AT(a, yy, xx, c);
                        acc = max ? (v > acc ? v : acc) : acc + v;
                        n++;
                    }
                AT(o, y, x, c) = max ? acc : acc / n;
            }
    return o;
}

static void r_dense(const double *x, int n, const float *K, const float *b, int units, int relu, double *y)
{
    for (int o = 0; o < units; o++) {
        double acc = b[o];
        for (int i = 0; i < n; i++)
            acc += x[i] * K[i * units + o];
        y[o] = relu && acc < 0 ? 0 : acc;
    }
}

/* ---- the synthetic network ---- */
static json_t *bn_cfg(int scale)
{
    return json_pack("{s:i,s:f,s:b,s:b}", "axis", -1, "epsilon", 0.001, "center", 1, "scale", scale);
}

static json_t *pool_cfg(int k, int s, const char *pad)
{
    return json_pack("{s:[i,i],s:[i,i],s:s,s:s}", "pool_size", k, k, "strides", s, s, "padding", pad, "data_format",
                     "channels_last");
}

#define IN_H 8
#define IN_W 8

typedef struct {
    const float *k1, *g1, *b1, *m1, *v1, *kd, *b2, *m2, *v2, *kp, *bp, *g3, *b3, *m3, *v3, *d1k, *d1b, *d2k, *d2b;
} net_w;

static void build_net(ks_model *m, net_w *w)
{
    m->layers = json_array();
    m->rng = 0x9e3779b97f4a7c15ull;
    int d4[4], d1[1], d2[2];
    ks_layer(m, "InputLayer", "input_1", json_pack("{s:[n,i,i,i],s:s}", "batch_input_shape", IN_H, IN_W, 3, "dtype", "float32"),
             NULL, 0);
    ks_layer(m, "ZeroPadding2D", "pad1", json_pack("{s:[[i,i],[i,i]],s:s}", "padding", 0, 1, 0, 1, "data_format", "channels_last"),
             KS_FROM1("input_1"), 1);
    ks_layer(m, "Conv2D", "conv1", ks_conv_cfg(4, 3, 2, "valid", 0, "linear"), KS_FROM1("pad1"), 1);
    w->k1 = ks_weight_add(m, "conv1", "kernel", 4, (d4[0] = 3, d4[1] = 3, d4[2] = 3, d4[3] = 4, d4), -0.5, 0.5);
    ks_layer(m, "BatchNormalization", "bn1", bn_cfg(1), KS_FROM1("conv1"), 1);
    d1[0] = 4;
    w->g1 = ks_weight_add(m, "bn1", "gamma", 1, d1, 0.5, 2);
    w->b1 = ks_weight_add(m, "bn1", "beta", 1, d1, -1, 1);
    w->m1 = ks_weight_add(m, "bn1", "moving_mean", 1, d1, -0.3, 0.3);
    w->v1 = ks_weight_add(m, "bn1", "moving_variance", 1, d1, 0.2, 1.5);
    ks_layer(m, "ReLU", "relu1", json_pack("{s:i,s:i,s:i}", "max_value", 6, "negative_slope", 0, "threshold", 0), KS_FROM1("bn1"), 1);
    json_t *dwc = json_pack("{s:[i,i],s:[i,i],s:s,s:s,s:[i,i],s:s,s:b,s:i}", "kernel_size", 3, 3, "strides", 1, 1, "padding",
                            "same", "data_format", "channels_last", "dilation_rate", 1, 1, "activation", "linear",
                            "use_bias", 0, "depth_multiplier", 1);
    ks_layer(m, "DepthwiseConv2D", "dw", dwc, KS_FROM1("relu1"), 1);
    w->kd = ks_weight_add(m, "dw", "depthwise_kernel", 4, (d4[0] = 3, d4[1] = 3, d4[2] = 4, d4[3] = 1, d4), -0.6, 0.6);
    ks_layer(m, "BatchNormalization", "bn2", bn_cfg(0), KS_FROM1("dw"), 1); /* InceptionV3's: no gamma */
    w->b2 = ks_weight_add(m, "bn2", "beta", 1, d1, -0.5, 0.5);
    w->m2 = ks_weight_add(m, "bn2", "moving_mean", 1, d1, -0.2, 0.2);
    w->v2 = ks_weight_add(m, "bn2", "moving_variance", 1, d1, 0.3, 1.2);
    ks_layer(m, "Activation", "act2", json_pack("{s:s}", "activation", "relu"), KS_FROM1("bn2"), 1);
    ks_layer(m, "Conv2D", "proj", ks_conv_cfg(4, 1, 1, "same", 1, "linear"), KS_FROM1("act2"), 1);
    w->kp = ks_weight_add(m, "proj", "kernel", 4, (d4[0] = 1, d4[1] = 1, d4[2] = 4, d4[3] = 4, d4), -0.7, 0.7);
    w->bp = ks_weight_add(m, "proj", "bias", 1, d1, -0.2, 0.2);
    ks_layer(m, "Add", "add", json_object(), (const char *const[]){"relu1", "proj"}, 2);
    ks_layer(m, "ZeroPadding2D", "pad2", json_pack("{s:i}", "padding", 1), KS_FROM1("add"), 1);
    ks_layer(m, "AveragePooling2D", "apv", pool_cfg(3, 1, "valid"), KS_FROM1("pad2"), 1);
    ks_layer(m, "AveragePooling2D", "aps", pool_cfg(3, 1, "same"), KS_FROM1("add"), 1);
    ks_layer(m, "MaxPooling2D", "mps", pool_cfg(3, 1, "same"), KS_FROM1("add"), 1);
    ks_layer(m, "Concatenate", "cat", json_pack("{s:i}", "axis", -1), (const char *const[]){"apv", "aps", "mps"}, 3);
    ks_layer(m, "BatchNormalization", "bn3", bn_cfg(1), KS_FROM1("cat"), 1); /* not after a conv: the per-channel fallback */
    d1[0] = 12;
    w->g3 = ks_weight_add(m, "bn3", "gamma", 1, d1, 0.5, 1.5);
    w->b3 = ks_weight_add(m, "bn3", "beta", 1, d1, -0.5, 0.5);
    w->m3 = ks_weight_add(m, "bn3", "moving_mean", 1, d1, -0.2, 0.2);
    w->v3 = ks_weight_add(m, "bn3", "moving_variance", 1, d1, 0.5, 1.0);
    ks_layer(m, "AveragePooling2D", "gap", pool_cfg(4, 4, "valid"), KS_FROM1("bn3"), 1);
    ks_layer(m, "Flatten", "flat", json_pack("{s:s}", "data_format", "channels_last"), KS_FROM1("gap"), 1);
    ks_layer(m, "Dense", "d1", json_pack("{s:i,s:s,s:b}", "units", 6, "activation", "relu", "use_bias", 1), KS_FROM1("flat"), 1);
    w->d1k = ks_weight_add(m, "d1", "kernel", 2, (d2[0] = 12, d2[1] = 6, d2), -1, 1);
    d1[0] = 6;
    w->d1b = ks_weight_add(m, "d1", "bias", 1, d1, -0.1, 0.1);
    ks_layer(m, "Dropout", "drop", json_pack("{s:f}", "rate", 0.5), KS_FROM1("d1"), 1);
    ks_layer(m, "Dense", "d2", json_pack("{s:i,s:s,s:b}", "units", 5, "activation", "softmax", "use_bias", 1), KS_FROM1("drop"), 1);
    w->d2k = ks_weight_add(m, "d2", "kernel", 2, (d2[0] = 6, d2[1] = 5, d2), -1, 1);
    d1[0] = 5;
    w->d2b = ks_weight_add(m, "d2", "bias", 1, d1, -0.1, 0.1);
}

/* reference logits (before the softmax) of the network on x (NHWC) */
static void reference(const net_w *w, const float *x, double logits[5])
{
    tens in = t_new(IN_H, IN_W, 3);
    for (size_t i = 0; i < (size_t)IN_H * IN_W * 3; i++)
        in.v[i] = x[i];
    tens p1 = r_pad(in, 0, 1, 0, 1), c1 = r_conv(p1, w->k1, NULL, 3, 3, 2, 4, 0);
    r_bn(c1, w->g1, w->b1, w->m1, w->v1);
    r_clip(c1, 0, 6);
    tens p2 = r_pad(c1, 1, 1, 1, 1), dw = r_conv(p2, w->kd, NULL, 3, 3, 1, 4, 1);
    r_bn(dw, NULL, w->b2, w->m2, w->v2);
    r_clip(dw, 0, 1e300);
    tens pj = r_conv(dw, w->kp, w->bp, 1, 1, 1, 4, 0);
    for (size_t i = 0; i < (size_t)pj.h * pj.w * pj.c; i++)
        pj.v[i] += c1.v[i];
    tens pp = r_pad(pj, 1, 1, 1, 1), apv = r_pool(pp, 3, 0, 0, 1), aps = r_pool(pj, 3, 1, 0, 1), mps = r_pool(pj, 3, 1, 1, 1);
    tens cat = t_new(4, 4, 12);
    for (int p = 0; p < 16; p++)
        for (int k = 0; k < 4; k++) {
            cat.v[p * 12 + k] = apv.v[p * 4 + k];
            cat.v[p * 12 + 4 + k] = aps.v[p * 4 + k];
            cat.v[p * 12 + 8 + k] = mps.v[p * 4 + k];
        }
    r_bn(cat, w->g3, w->b3, w->m3, w->v3);
    tens gap = r_pool(cat, 4, 0, 0, 4);
    double h1[6];
    r_dense(gap.v, 12, w->d1k, w->d1b, 6, 1, h1);
    r_dense(h1, 6, w->d2k, w->d2b, 5, 0, logits);
    tens all[] = {in, p1, c1, p2, dw, pj, pp, apv, aps, mps, cat, gap};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i].v);
}

static void test_network(const char *dir)
{
    ks_model m = {0};
    net_w w;
    build_net(&m, &w);
    CHECK_MSG(ks_write(&m, dir, IN_H, IN_W, 3, "d2", 2, 1) == 0, "writing the model");
    enh_keras_model km;
    enh_error err = {0};
    enh_status st = ks_load(dir, &km, &err);
    CHECK_MSG(st == ENH_OK, "load: %s", err.msg);
    if (st != ENH_OK) {
        ks_free(&m);
        return;
    }
    CHECK_MSG(km.in_h == IN_H && km.in_w == IN_W && km.in_c == 3 && km.out_size == 5 && km.out_softmax,
          "model facts %d %d %d %d %d", km.in_h, km.in_w, km.in_c, km.out_size, km.out_softmax);
    /* the graph: conv1 holds pad1's pads and bn1 (bias added), bn2 folded into dw, bn3 a 1x1 per-channel conv,
     * pad2 an identity conv with pads */
    int convs = 0;
    for (int i = 0; i < km.graph->nnodes; i++) {
        const enh_node *n = &km.graph->nodes[i];
        if (n->op != ENH_OP_CONV)
            continue;
        convs++;
        if (!strcmp(n->name, "conv1"))
            CHECK_MSG(n->p.conv.pt == 0 && n->p.conv.pl == 0 && n->p.conv.pb == 1 && n->p.conv.pr == 1 &&
                      n->p.conv.sh == 2 && n->p.conv.bias, "conv1: pads %d %d %d %d, stride %d, bias %p", n->p.conv.pt,
                  n->p.conv.pl, n->p.conv.pb, n->p.conv.pr, n->p.conv.sh, (void *)n->p.conv.bias);
        if (!strcmp(n->name, "dw"))
            CHECK_MSG(n->p.conv.groups == 4 && n->p.conv.pt == 1 && n->p.conv.pb == 1 && n->p.conv.bias,
                  "dw: groups %d pads %d %d", n->p.conv.groups, n->p.conv.pt, n->p.conv.pb);
        CHECK_MSG(strncmp(n->name, "bn1", 3) && strncmp(n->name, "bn2", 3), "BN '%s' was not folded", n->name);
    }
    CHECK_MSG(convs == 5, "%d convolutions (want 5: conv1, dw, proj, pad2's identity with pads, bn3's per-channel map)", convs);
    enh_model *model = NULL;
    st = enh_model_from_graph(km.graph, &model, &err);
    CHECK_MSG(st == ENH_OK, "model: %s", err.msg);
    float x[IN_H * IN_W * 3], nchw[IN_H * IN_W * 3], out[5];
    double maxd = 0;
    for (int trial = 0; trial < 3 && st == ENH_OK; trial++) {
        for (int i = 0; i < IN_H * IN_W * 3; i++)
            x[i] = (float)ks_rand(&m) * (trial == 2 ? 4.f : 1.f); /* trial 2 drives ReLU6 into its clip */
        for (int p = 0; p < IN_H * IN_W; p++)
            for (int k = 0; k < 3; k++)
                nchw[k * IN_H * IN_W + p] = x[p * 3 + k];
        st = enh_model_run_graph(model, nchw, 1, IN_H, IN_W, out, NULL, &err);
        CHECK_MSG(st == ENH_OK, "run: %s", err.msg);
        double ref[5];
        reference(&w, x, ref);
        for (int k = 0; k < 5; k++) {
            double d = fabs(out[k] - ref[k]);
            maxd = d > maxd ? d : maxd;
        }
    }
    printf("synthetic network: max |ours - reference| of the logits %.3g\n", maxd);
    CHECK_MSG(maxd < 2e-5, "logits differ from the reference by %g", maxd);
    enh_model_free(model);
    ks_free(&m);
}

/* 'same' average pooling of ones: 1 everywhere (a divisor counting the pads gives 4/9 in corners) */
static void test_same_pool_divisor(const char *dir)
{
    ks_model m = {0};
    m.layers = json_array();
    ks_layer(&m, "InputLayer", "input_1", json_pack("{s:[n,i,i,i]}", "batch_input_shape", 5, 4, 3), NULL, 0);
    ks_layer(&m, "AveragePooling2D", "ap", pool_cfg(3, 1, "same"), KS_FROM1("input_1"), 1);
    CHECK_MSG(ks_write(&m, dir, 5, 4, 3, "ap", 1, 0) == 0, "write");
    enh_keras_model km;
    enh_error err = {0};
    enh_model *model = NULL;
    enh_status st = ks_load(dir, &km, &err);
    if (st == ENH_OK)
        st = enh_model_from_graph(km.graph, &model, &err);
    CHECK_MSG(st == ENH_OK, "same-pool model: %s", err.msg);
    if (st == ENH_OK) {
        float in[60], out[60];
        for (int i = 0; i < 60; i++)
            in[i] = 1.f;
        st = enh_model_run_graph(model, in, 1, 5, 4, out, NULL, &err);
        CHECK_MSG(st == ENH_OK && km.out_size == 60, "run: %s", err.msg);
        for (int i = 0; i < 60 && st == ENH_OK; i++)
            CHECK_MSG(out[i] == 1.f, "value %d is %g (the pads counted in the divisor?)", i, out[i]);
    }
    enh_model_free(model);
    ks_free(&m);
}


/* ---- a TF.js graph model (nsfwjs MobileNetV2Mid's ops) ---- */
static char *b64s(const char *s) { return ks_base64((const unsigned char *)s, strlen(s)); }

static json_t *gnode(const char *name, const char *op, json_t *inputs, json_t *attr)
{
    return json_pack("{s:s,s:s,s:o,s:o}", "name", name, "op", op, "input", inputs ? inputs : json_array(), "attr",
                     attr ? attr : json_object());
}

static json_t *s_attr(const char *v)
{
    char *b = b64s(v);
    json_t *a = json_pack("{s:s}", "s", b);
    free(b);
    return a;
}

static json_t *list_s(const char *a, const char *b)
{
    json_t *l = json_array();
    char *x = b64s(a);
    json_array_append_new(l, json_string(x));
    free(x);
    if (b) {
        x = b64s(b);
        json_array_append_new(l, json_string(x));
        free(x);
    }
    return json_pack("{s:{s:o}}", "list", "s", l);
}

static json_t *list_i(int a, int b, int c, int d) { return json_pack("{s:{s:[s,s,s,s]}}", "list", "i",
    (char[2]){(char)('0' + a), 0}, (char[2]){(char)('0' + b), 0}, (char[2]){(char)('0' + c), 0}, (char[2]){(char)('0' + d), 0}); }

static void test_graph_model(const char *dir)
{
    ks_model m = {0};
    m.layers = json_array();
    m.rng = 777;
    int d0[1] = {1}, d4[4], d1[1], d2[2];
    const float *my = ks_weight_add(&m, "mul", "y", 0, d0, 2.0, 2.0 + 255 * 0.01);
    const float *sy = ks_weight_add(&m, "sub", "y", 0, d0, 1.0, 1.0 + 255 * 0.01);
    const float *cw = ks_weight_add(&m, "conv", "w", 4, (d4[0] = 3, d4[1] = 3, d4[2] = 3, d4[3] = 4, d4), -0.5, 0.5);
    d1[0] = 4;
    const float *cb = ks_weight_add(&m, "conv", "b", 1, d1, -0.3, 0.3);
    const float *dww = ks_weight_add(&m, "dw", "w", 4, (d4[0] = 3, d4[1] = 3, d4[2] = 4, d4[3] = 1, d4), -0.6, 0.6);
    const float *dwb = ks_weight_add(&m, "dw", "b", 1, d1, -0.3, 0.3);
    const float *mw = ks_weight_add(&m, "mm", "w", 2, (d2[0] = 4, d2[1] = 5, d2), -1, 1);
    d1[0] = 5;
    const float *mb = ks_weight_add(&m, "mm", "b", 1, d1, -0.1, 0.1);
    json_t *nodes = json_array();
    json_t *shape = json_pack("{s:{s:[{s:s},{s:s},{s:s},{s:s}]}}", "shape", "dim", "size", "-1", "size", "6", "size", "6",
                              "size", "3");
    json_array_append_new(nodes, gnode("input", "Placeholder", NULL, json_pack("{s:o}", "shape", shape)));
    const char *consts[] = {"mul/y", "sub/y", "conv/w", "conv/b", "dw/w", "dw/b", "mm/w", "mm/b"};
    for (int i = 0; i < 8; i++)
        json_array_append_new(nodes, gnode(consts[i], "Const", NULL, NULL));
    json_array_append_new(nodes, gnode("mul", "Mul", json_pack("[s,s]", "mul/y", "input"), NULL));
    json_array_append_new(nodes, gnode("sub", "Sub", json_pack("[s,s]", "mul", "sub/y"), NULL));
    json_array_append_new(nodes, gnode("conv", "_FusedConv2D", json_pack("[s,s,s]", "sub", "conv/w", "conv/b"),
                                       json_pack("{s:o,s:o,s:o,s:o,s:o}", "strides", list_i(1, 2, 2, 1), "dilations",
                                                 list_i(1, 1, 1, 1), "padding", s_attr("SAME"), "data_format",
                                                 s_attr("NHWC"), "fused_ops", list_s("BiasAdd", "Relu6"))));
    json_array_append_new(nodes, gnode("dw", "FusedDepthwiseConv2dNative", json_pack("[s,s,s]", "conv:0", "dw/w", "dw/b"),
                                       json_pack("{s:o,s:o,s:o}", "strides", list_i(1, 1, 1, 1), "padding", s_attr("SAME"),
                                                 "fused_ops", list_s("BiasAdd", NULL))));
    json_array_append_new(nodes, gnode("add", "AddV2", json_pack("[s,s,s]", "conv", "dw", "^mul"), NULL));
    json_array_append_new(nodes, gnode("pool", "AvgPool", json_pack("[s]", "add"),
                                       json_pack("{s:o,s:o,s:o}", "ksize", list_i(1, 3, 3, 1), "strides", list_i(1, 1, 1, 1),
                                                 "padding", s_attr("VALID"))));
    json_array_append_new(nodes, gnode("sq", "Squeeze", json_pack("[s]", "pool"), NULL));
    json_array_append_new(nodes, gnode("mm", "_FusedMatMul", json_pack("[s,s,s]", "sq", "mm/w", "mm/b"),
                                       json_pack("{s:o}", "fused_ops", list_s("BiasAdd", NULL))));
    json_array_append_new(nodes, gnode("sm", "Softmax", json_pack("[s]", "mm"), NULL));
    json_array_append_new(nodes, gnode("Identity", "Identity", json_pack("[s]", "sm"), NULL));
    CHECK_MSG(ks_write_graph(&m, dir, nodes) == 0, "write the graph model");
    enh_keras_model km;
    enh_error err = {0};
    enh_model *model = NULL;
    enh_status st = ks_load(dir, &km, &err);
    if (st == ENH_OK) {
        CHECK_MSG(km.in_h == 6 && km.in_w == 6 && km.out_size == 5 && km.out_softmax, "graph model facts");
        st = enh_model_from_graph(km.graph, &model, &err);
    }
    CHECK_MSG(st == ENH_OK, "graph model: %s", err.msg);
    if (st == ENH_OK) {
        float x[108], nchw[108], out[5];
        for (int i = 0; i < 108; i++)
            x[i] = (float)ks_rand(&m);
        for (int p = 0; p < 36; p++)
            for (int k = 0; k < 3; k++)
                nchw[k * 36 + p] = x[p * 3 + k];
        st = enh_model_run_graph(model, nchw, 1, 6, 6, out, NULL, &err);
        CHECK_MSG(st == ENH_OK, "run: %s", err.msg);
        tens in = t_new(6, 6, 3);
        for (int i = 0; i < 108; i++)
            in.v[i] = (double)x[i] * my[0] - sy[0];
        tens p1 = r_pad(in, 0, 1, 0, 1), c1 = r_conv(p1, cw, cb, 3, 3, 2, 4, 0); /* SAME, stride 2 on 6: 0 / 1 */
        r_clip(c1, 0, 6);
        tens p2 = r_pad(c1, 1, 1, 1, 1), dw = r_conv(p2, dww, dwb, 3, 3, 1, 4, 1);
        for (int i = 0; i < 36; i++)
            dw.v[i] += c1.v[i];
        tens pl = r_pool(dw, 3, 0, 0, 1);
        double logits[5], maxd = 0;
        r_dense(pl.v, 4, mw, mb, 5, 0, logits);
        for (int k = 0; k < 5; k++)
            maxd = fmax(maxd, fabs(out[k] - logits[k]));
        printf("synthetic graph model: max |ours - reference| of the logits %.3g\n", maxd);
        CHECK_MSG(maxd < 1e-5, "graph model logits differ by %g", maxd);
        tens all[] = {in, p1, c1, p2, dw, pl};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            free(all[i].v);
    }
    enh_model_free(model);
    ks_free(&m);
}

int main(void)
{
    char dir[] = "/tmp/enh_keras_XXXXXX";
    if (!mkdtemp(dir)) {
        printf("FAIL: mkdtemp\n");
        return 1;
    }
    test_network(dir);
    test_same_pool_divisor(dir);
    test_graph_model(dir);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_MSG(system(cmd) == 0, "could not remove %s", dir);
    CHECK_MAIN_END();
}
