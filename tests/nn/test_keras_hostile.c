/* test_keras_hostile.c - the TF.js layers-model loader (nn/keras_load.h) on hostile files: each
 * case breaks one thing of a small valid model (keras_synth.h: nsfwjs's .min.js containers)
 * and must fail with its status and a message naming the problem, never crash (run under
 * ASan too); and the container's JavaScript-literal and base64 readers (tfjs_container.h).
 * The loader on valid models: test_keras_load.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "keras_synth.h"
#include "nn/keras_load.h"
#include "nn/model.h"
#include "nn/tfjs_container.h"

/* ---- hostile files ---- */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(*n + 1);
    *n = fread(b, 1, *n, f);
    b[*n] = 0;
    fclose(f);
    return b;
}

static void expect_fail(const char *dir, enh_status want, const char *needle, const char *what)
{
    enh_keras_model km;
    enh_error err = {0};
    enh_status st = ks_load(dir, &km, &err);
    CHECK_MSG(st == want && strstr(err.msg, needle), "%s: status %d (want %d), message '%s' (want '%s')", what, st, want,
          err.msg, needle);
    if (st == ENH_OK)
        enh_graph_free(km.graph);
}

/* the small valid model the hostile cases start from: conv 3x3 'same' + relu -> global average -> Dense softmax */
static void small_model(ks_model *m, const char *conv_cls)
{
    m->layers = json_array();
    m->rng = 12345;
    int d4[4] = {3, 3, 3, 2}, d2[2] = {2, 5}, d1[1] = {5};
    ks_layer(m, "InputLayer", "input_1", json_pack("{s:[n,i,i,i]}", "batch_input_shape", 6, 6, 3), NULL, 0);
    ks_layer(m, conv_cls, "conv", ks_conv_cfg(2, 3, 1, "same", 0, "relu"), KS_FROM1("input_1"), 1);
    ks_weight_add(m, "conv", "kernel", 4, d4, -1, 1);
    ks_layer(m, "GlobalAveragePooling2D", "gap", json_object(), KS_FROM1("conv"), 1);
    ks_layer(m, "Dense", "out", json_pack("{s:i,s:s}", "units", 5, "activation", "softmax"), KS_FROM1("gap"), 1);
    ks_weight_add(m, "out", "kernel", 2, d2, -1, 1);
    ks_weight_add(m, "out", "bias", 1, d1, -1, 1);
}

static void test_hostile(const char *dir)
{
    char path[4096], shard[4096];
    snprintf(path, sizeof path, "%s/model.min.js", dir);
    snprintf(shard, sizeof shard, "%s/group1-shard1of1.min.js", dir);
    ks_model m = {0};
    small_model(&m, "Conv2D");
    CHECK_MSG(ks_write(&m, dir, 6, 6, 3, "out", 1, 0) == 0, "write");
    enh_keras_model km;
    enh_error err = {0};
    CHECK_MSG(ks_load(dir, &km, &err) == ENH_OK, "the small model loads: %s", err.msg);
    enh_graph_free(km.graph);
    size_t n, sn;
    char *good = read_all(path, &n), *gshard = read_all(shard, &sn);

    /* a truncated shard: the base64 cut (not a multiple of 4), then cut on a boundary (too short) */
    char *t = strdup(gshard);
    strcpy(strrchr(t, '"') - 6, "\"},{}]},{},[1])(1)});");
    write_file(shard, t);
    expect_fail(dir, ENH_EINVAL, "base64", "a shard cut inside its base64");
    free(t);
    t = strdup(gshard);
    strcpy(strrchr(t, '"') - 8, "\"},{}]},{},[1])(1)});");
    write_file(shard, t);
    expect_fail(dir, ENH_EINVAL, "too short", "a shard with a missing tail");
    free(t);
    /* a wrong base64 character */
    t = strdup(gshard);
    char *q = strstr(t, "a.exports=\"") + 13;
    *q = '*';
    write_file(shard, t);
    expect_fail(dir, ENH_EINVAL, "not base64", "a '*' in the base64");
    free(t);
    /* a shard that exports an object instead of a string; a missing shard */
    write_file(shard, "!function(){}({1:[function(e,a,n){a.exports={x:1}},{}]});");
    expect_fail(dir, ENH_EINVAL, "base64 string", "an object for a shard");
    unlink(shard);
    expect_fail(dir, ENH_ENOTFOUND, "missing", "no shard");
    write_file(shard, gshard);

    /* model text: truncated anywhere, a non-wrapper, a string instead of the object */
    for (size_t cut = 1; cut < n - strlen(ks_post); cut += n / 97 + 1) {
        char *c = strndup(good, cut);
        write_file(path, c);
        free(c);
        enh_status st = ks_load(dir, &km, &err);
        CHECK_MSG(st != ENH_OK, "the model cut at %zu bytes loaded", cut);
        if (st == ENH_OK)
            enh_graph_free(km.graph);
    }
    write_file(path, "console.log('hello')");
    expect_fail(dir, ENH_EINVAL, "wrapper", "a script that is no wrapper");
    write_file(path, "!function(){}({1:[function(e,a,n){a.exports=\"QUJD\"},{}]});");
    expect_fail(dir, ENH_EINVAL, "string", "a shard where the model should be");
    /* deep nesting */
    char deep[400] = "{a:";
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    write_file(path, deep);
    expect_fail(dir, ENH_EINVAL, "nesting", "100 nested arrays");

    /* random byte flips of the model text: fail or load, never crash */
    for (int k = 0; k < 150; k++) {
        char *c = strdup(good);
        for (int f = 0; f < 1 + k % 4; f++)
            c[(size_t)(ks_rand(&m) * (double)n)] = "{}[]:,\"!01.-ax"[(int)(ks_rand(&m) * 14)];
        write_file(path, c);
        free(c);
        if (ks_load(dir, &km, &err) == ENH_OK)
            enh_graph_free(km.graph);
    }
    ks_free(&m);

    /* structural errors */
    small_model(&m, "Conv3D");
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EUNSUPPORTED, "Conv3D", "an unknown layer class");
    ks_free(&m);

    small_model(&m, "Conv2D");
    m.w[0].shape[3] = 3; /* the kernel no longer matches filters = 2 */
    m.w[0].count = 81;
    m.w[0].q = realloc(m.w[0].q, 81);
    memset(m.w[0].q, 7, 81);
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EINVAL, "has shape", "a kernel of the wrong shape");
    ks_free(&m);

    small_model(&m, "Conv2D");
    m.w[0].shape[0] = -3;
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EINVAL, "bad shape", "a negative dimension");
    ks_free(&m);

    small_model(&m, "Conv2D");
    snprintf(m.w[1].name, sizeof m.w[1].name, "out/kernel_renamed");
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EINVAL, "not in the weightsManifest", "a missing weight");
    ks_free(&m);

    /* a cycle: conv reads out, out reads gap, gap reads conv */
    small_model(&m, "Conv2D");
    json_t *conv = json_array_get(m.layers, 1);
    json_object_set_new(conv, "inbound_nodes", ks_inbound((const char *const[]){"out"}, 1));
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EINVAL, "cycle", "a cycle");
    ks_free(&m);

    /* an input that names no layer; a layer called twice; two layers of one name */
    small_model(&m, "Conv2D");
    json_object_set_new(json_array_get(m.layers, 2), "inbound_nodes", ks_inbound((const char *const[]){"nope"}, 1));
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EINVAL, "names no layer", "an unknown input");
    ks_free(&m);
    small_model(&m, "Conv2D");
    json_t *ib = json_object_get(json_array_get(m.layers, 2), "inbound_nodes");
    json_array_append(ib, json_array_get(ib, 0));
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EUNSUPPORTED, "shared layers", "a shared layer");
    ks_free(&m);
    small_model(&m, "Conv2D");
    json_object_set_new(json_array_get(m.layers, 2), "name", json_string("conv"));
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EINVAL, "two layers", "a duplicate name");
    ks_free(&m);

    /* a Flatten of a map larger than 1x1 (NHWC order would differ): refused */
    small_model(&m, "Conv2D");
    json_t *gap = json_array_get(m.layers, 2);
    json_object_set_new(gap, "class_name", json_string("Flatten"));
    m.w[1].shape[0] = 72;
    m.w[1].count = 360;
    m.w[1].q = realloc(m.w[1].q, 360);
    memset(m.w[1].q, 1, 360);
    ks_write(&m, dir, 6, 6, 3, "out", 1, 0);
    expect_fail(dir, ENH_EUNSUPPORTED, "flattened", "a Flatten of a 6x6 map");
    ks_free(&m);

    free(good);
    free(gshard);
}

static void test_js_literal(void)
{
    /* j: JavaScript's "\\x" is x, and an escaped byte of a UTF-8 sequence stays that byte */
    const char *src = "{a:!0,b:!1,'c':.5,d:-.25e1,e:[1,2,{f:null}],\"g\":\"x\\u00e9\\n\",h:1e-3,i:true,"
                      "j:'\\l\\\xc3\xa9'}";
    size_t pos = 0;
    json_t *v = NULL;
    enh_error err = {0};
    CHECK_MSG(enh_js_value_parse(src, strlen(src), &pos, &v, "literal", &err) == ENH_OK, "parse: %s", err.msg);
    if (!v)
        return;
    CHECK_MSG(pos == strlen(src), "stopped at %zu", pos);
    CHECK_MSG(json_is_true(json_object_get(v, "a")) && json_is_false(json_object_get(v, "b")), "!0 / !1");
    CHECK_MSG(json_real_value(json_object_get(v, "c")) == 0.5 && json_real_value(json_object_get(v, "d")) == -2.5 &&
              json_real_value(json_object_get(v, "h")) == 1e-3, "numbers");
    CHECK_MSG(!strcmp(json_string_value(json_object_get(v, "g")), "x\xc3\xa9\n"), "string escapes");
    CHECK_MSG(!strcmp(json_string_value(json_object_get(v, "j")), "l\xc3\xa9"), "escaped letters and bytes: '%s'",
              json_string_value(json_object_get(v, "j")));
    CHECK_MSG(json_integer_value(json_array_get(json_object_get(v, "e"), 1)) == 2, "array");
    json_decref(v);
    /* the last: an escaped NUL (found by fuzz_container: its JSON "\\u0000" did not parse back) */
    static const char nul[] = "{a:\"x\\\0\"}";
    const char *bad[] = {"{a:1,}", "{a 1}", "{a:1,a:2}", "[1,2", "\"abc", "{a:-}", "{a:\"\\u12\"}", "{a:tru}",
                         "{a:'\\\x01'}", nul};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pos = 0;
        v = NULL;
        size_t n = bad[i] == nul ? sizeof nul - 1 : strlen(bad[i]);
        CHECK_MSG(enh_js_value_parse(bad[i], n, &pos, &v, "bad", &err) == ENH_EINVAL && !v,
              "'%s' was accepted", bad[i]);
        json_decref(v);
    }
    unsigned char *b;
    size_t bl;
    CHECK_MSG(enh_base64_decode("QUJDRA==", 8, &b, &bl, "b64", &err) == ENH_OK && bl == 4 && !memcmp(b, "ABCD", 4),
          "base64");
    free(b);
    CHECK_MSG(enh_base64_decode("QU=DRA==", 8, &b, &bl, "b64", &err) == ENH_EINVAL, "'=' inside base64 accepted");
    CHECK_MSG(enh_base64_decode("QUJDRA=", 7, &b, &bl, "b64", &err) == ENH_EINVAL, "7 base64 characters accepted");
}

int main(void)
{
    char dir[] = "/tmp/enh_keras_hostile_XXXXXX";
    if (!mkdtemp(dir)) {
        printf("FAIL: mkdtemp\n");
        return 1;
    }
    test_js_literal();
    test_hostile(dir);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_MSG(system(cmd) == 0, "could not remove %s", dir);
    CHECK_MAIN_END();
}
