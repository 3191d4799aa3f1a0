/* fuzz_keras.c - the TF.js layers-model loader (enh_keras_load: a Keras functional model.json or
 * its nsfwjs `.min.js` container, with its weight shard) and what a loaded model goes through as
 * the moderation classifier uses it: the model build and a run at the input size (when fixed
 * and small). Input: the model text, FUZZ_SPLIT, the shard. A model text with `.exports=` is
 * written as model.min.js with the shard as group1-shard1of1.min.js, anything else as model.json
 * with a raw group1-shard1of1 (the other spelling is removed, so the loader cannot pick up a
 * stale file). Seeds: one network of most layer kinds (tests/nn/keras_synth.h), in both forms. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../nn/keras_synth.h"
#include "core/fsutil.h"
#include "fuzz.h"
#include "nn/keras_load.h"
#include "nn/model.h"
#include "nn/nn.h"
#include "nn/tfjs_container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t mlen, slen;
    const uint8_t *sh;
    fuzz_split(data, size, &mlen, &sh, &slen);
    const char *dir = fuzz_tmpdir();
    int js = mlen >= 9 && memmem(data, mlen, ".exports=", 9) != NULL;
    char model[256], shard[256], other[256], stale[256];
    snprintf(model, sizeof model, "%s/model.%s", dir, js ? "min.js" : "json");
    snprintf(other, sizeof other, "%s/model.%s", dir, js ? "json" : "min.js");
    snprintf(shard, sizeof shard, "%s/group1-shard1of1%s", dir, js ? ".min.js" : "");
    snprintf(stale, sizeof stale, "%s/group1-shard1of1%s", dir, js ? "" : ".min.js");
    unlink(other);
    unlink(stale);
    fuzz_write_file(model, data, mlen);
    fuzz_write_file(shard, sh, slen);
    enh_keras_model km;
    memset(&km, 0, sizeof km);
    enh_error e;
    enh_error_clear(&e);
    enh_status st = enh_keras_load(model, &km, &e);
    fuzz_check_status("enh_keras_load", st, &e);
    if (st != ENH_OK) {
        if (km.graph)
            fuzz_fail("enh_keras_load: a graph with a failure");
        return 0;
    }
    if (!km.graph)
        fuzz_fail("enh_keras_load: OK without a graph");
    int h = km.in_h > 0 ? km.in_h : 8, w = km.in_w > 0 ? km.in_w : 8, c = km.in_c;
    enh_model *m = NULL;
    enh_error_clear(&e);
    st = enh_model_from_graph(km.graph, &m, &e); /* takes the graph */
    fuzz_check_status("enh_model_from_graph", st, &e);
    if (st != ENH_OK)
        return 0;
    fuzz_accepted++;
    int oc = 0, oh = 0, ow = 0;
    if (c > 0 && c <= 4 && h <= 64 && w <= 64 && enh_model_output_size(m, h, w, &oc, &oh, &ow) == 0 && oc > 0 &&
        oh > 0 && ow > 0 && (size_t)oc * oh * ow < ((size_t)4 << 20) && enh_model_workspace_bytes(m, 1, h, w) < ((size_t)64 << 20)) {
        float *in = calloc((size_t)c * h * w, sizeof(float));
        float *out = malloc((size_t)oc * oh * ow * sizeof(float));
        for (size_t i = 0; i < (size_t)c * h * w; i++)
            in[i] = (float)(i % 7) / 7.0f;
        enh_error_clear(&e);
        fuzz_check_status("enh_model_run_graph", enh_model_run_graph(m, in, 1, h, w, out, NULL, &e), &e);
        free(in);
        free(out);
    }
    enh_model_free(m);
    return 0;
}

/* ---- seeds */
static json_t *conv_cfg(int filters, int k, int s, const char *pad, int bias, const char *act)
{
    return json_pack("{s:i,s:[i,i],s:[i,i],s:s,s:s,s:[i,i],s:s,s:b}", "filters", filters, "kernel_size", k, k, "strides",
                     s, s, "padding", pad, "data_format", "channels_last", "dilation_rate", 1, 1, "activation", act,
                     "use_bias", bias);
}

static json_t *bn_cfg(int scale)
{
    return json_pack("{s:i,s:f,s:b,s:b}", "axis", -1, "epsilon", 0.001, "center", 1, "scale", scale);
}

static json_t *pool_cfg(int k, int s, const char *pad)
{
    return json_pack("{s:[i,i],s:[i,i],s:s,s:s}", "pool_size", k, k, "strides", s, s, "padding", pad, "data_format",
                     "channels_last");
}

#define F1(x) (const char *const[]){x}

/* 8x8x3 -> pad, conv/2 + BN + ReLU6, depthwise + BN + relu, 1x1 conv, Add, max and average pools,
 * Concatenate, global average pooling, Dense relu, Dropout, Dense softmax */
static void build(ks_model *m)
{
    m->layers = json_array();
    m->rng = 0x9e3779b97f4a7c15ull;
    int d4[4], d1[1] = {4}, d2[2];
    ks_layer(m, "InputLayer", "input_1", json_pack("{s:[n,i,i,i],s:s}", "batch_input_shape", 8, 8, 3, "dtype", "float32"),
             NULL, 0);
    ks_layer(m, "ZeroPadding2D", "pad1", json_pack("{s:[[i,i],[i,i]]}", "padding", 0, 1, 0, 1), F1("input_1"), 1);
    ks_layer(m, "Conv2D", "conv1", conv_cfg(4, 3, 2, "valid", 0, "linear"), F1("pad1"), 1);
    ks_weight_add(m, "conv1", "kernel", 4, (d4[0] = 3, d4[1] = 3, d4[2] = 3, d4[3] = 4, d4), -0.5, 0.5);
    ks_layer(m, "BatchNormalization", "bn1", bn_cfg(1), F1("conv1"), 1);
    ks_weight_add(m, "bn1", "gamma", 1, d1, 0.5, 2);
    ks_weight_add(m, "bn1", "beta", 1, d1, -1, 1);
    ks_weight_add(m, "bn1", "moving_mean", 1, d1, -0.3, 0.3);
    ks_weight_add(m, "bn1", "moving_variance", 1, d1, 0.2, 1.5);
    ks_layer(m, "ReLU", "relu1", json_pack("{s:i,s:i,s:i}", "max_value", 6, "negative_slope", 0, "threshold", 0), F1("bn1"), 1);
    json_t *dwc = conv_cfg(0, 3, 1, "same", 0, "linear");
    json_object_del(dwc, "filters");
    json_object_set_new(dwc, "depth_multiplier", json_integer(1));
    ks_layer(m, "DepthwiseConv2D", "dw", dwc, F1("relu1"), 1);
    ks_weight_add(m, "dw", "depthwise_kernel", 4, (d4[0] = 3, d4[1] = 3, d4[2] = 4, d4[3] = 1, d4), -0.6, 0.6);
    ks_layer(m, "BatchNormalization", "bn2", bn_cfg(0), F1("dw"), 1);
    ks_weight_add(m, "bn2", "beta", 1, d1, -0.5, 0.5);
    ks_weight_add(m, "bn2", "moving_mean", 1, d1, -0.2, 0.2);
    ks_weight_add(m, "bn2", "moving_variance", 1, d1, 0.3, 1.2);
    ks_layer(m, "Activation", "act2", json_pack("{s:s}", "activation", "relu"), F1("bn2"), 1);
    ks_layer(m, "Conv2D", "proj", conv_cfg(4, 1, 1, "same", 1, "linear"), F1("act2"), 1);
    ks_weight_add(m, "proj", "kernel", 4, (d4[0] = 1, d4[1] = 1, d4[2] = 4, d4[3] = 4, d4), -0.7, 0.7);
    ks_weight_add(m, "proj", "bias", 1, d1, -0.2, 0.2);
    ks_layer(m, "Add", "add", json_object(), (const char *const[]){"relu1", "proj"}, 2);
    ks_layer(m, "MaxPooling2D", "mps", pool_cfg(3, 1, "same"), F1("add"), 1);
    ks_layer(m, "AveragePooling2D", "aps", pool_cfg(3, 1, "same"), F1("add"), 1);
    ks_layer(m, "Concatenate", "cat", json_pack("{s:i}", "axis", -1), (const char *const[]){"mps", "aps"}, 2);
    ks_layer(m, "GlobalAveragePooling2D", "gap", json_pack("{s:s}", "data_format", "channels_last"), F1("cat"), 1);
    ks_layer(m, "Dense", "d1", json_pack("{s:i,s:s,s:b}", "units", 6, "activation", "relu", "use_bias", 1), F1("gap"), 1);
    ks_weight_add(m, "d1", "kernel", 2, (d2[0] = 8, d2[1] = 6, d2), -1, 1);
    ks_weight_add(m, "d1", "bias", 1, (d1[0] = 6, d1), -0.1, 0.1);
    ks_layer(m, "Dropout", "drop", json_pack("{s:f}", "rate", 0.5), F1("d1"), 1);
    ks_layer(m, "Dense", "d2", json_pack("{s:i,s:s,s:b}", "units", 5, "activation", "softmax", "use_bias", 1), F1("drop"), 1);
    ks_weight_add(m, "d2", "kernel", 2, (d2[0] = 6, d2[1] = 5, d2), -1, 1);
    ks_weight_add(m, "d2", "bias", 1, (d1[0] = 5, d1), -0.1, 0.1);
}

static char *slurp(const char *path, size_t *n)
{
    char *d = NULL;
    enh_error e;
    if (enh_read_file(path, 1 << 20, &d, n, &e) != ENH_OK)
        fuzz_fail("%s", e.msg);
    return d;
}

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/seeds", fuzz_tmpdir());
    mkdir(dir, 0700);
    ks_model m;
    memset(&m, 0, sizeof m);
    build(&m);
    if (ks_write(&m, dir, 8, 8, 3, "d2", 1, 0) != 0)
        fuzz_fail("ks_write");
    ks_free(&m);
    char mp[256], sp[256];
    snprintf(mp, sizeof mp, "%s/model.min.js", dir);
    snprintf(sp, sizeof sp, "%s/group1-shard1of1.min.js", dir);
    size_t mn, sn, n;
    char *mt = slurp(mp, &mn), *st = slurp(sp, &sn);
    void *d = fuzz_join(mt, mn, st, sn, &n);
    emit(ctx, "nsfwjs-like.min.js", d, n);
    free(d);
    /* the same as plain model.json and a raw shard */
    json_t *v = NULL;
    unsigned char *raw = NULL;
    size_t rn = 0;
    enh_error e;
    if (enh_tfjs_read_json(mp, &v, &e) != ENH_OK || enh_tfjs_read_shard(dir, "group1-shard1of1", &raw, &rn, &e) != ENH_OK)
        fuzz_fail("the seed's container does not read back: %s", e.msg);
    char *j = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17));
    d = fuzz_join(j, strlen(j), raw, rn, &n);
    emit(ctx, "plain.json", d, n);
    free(d);
    free(j);
    free(raw);
    json_decref(v);
    free(mt);
    free(st);
}
