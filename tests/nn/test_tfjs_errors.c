/* test_tfjs_errors.c - a broken TF.js graph model fails with the right enh_status and a message
 * that names the file and the node or weight concerned: unknown op, an input naming no node,
 * a missing or short shard, bad JSON, a Const without a weight, a layers-model, rank > 8, a
 * Reshape whose shape depends on the image's values, a cycle, and more; plus errors found
 * only when running (an index out of range, an integer division by zero) and hostile
 * constants (extreme strides and paddings) that must not overflow. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "nn/tf_plan.h"
#include "nn/tfjs.h"
#include "nn/tfjs_load.h"
#include "tfjs_synth.h"

static char g_dir[64];
static int g_case;

/* Writes json (+ the bin as nshards files) into a fresh folder; returns model.json's path. */
static const char *put(const char *json, const unsigned char *bin, size_t blen, int nshards)
{
    static char path[4096];
    char sub[128];
    snprintf(sub, sizeof sub, "%s/e%d", g_dir, g_case++);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(tfs_write_files(sub, json, bin, blen, nshards, 0, path, sizeof path) == 0);
    return path;
}

/* The model's JSON with `out` as output; frees m. */
static char *json_of(tfs_model *m, const char *out, unsigned char **bin, size_t *blen)
{
    char *j = tfs_json(m, out, NULL);
    *bin = m->bin, *blen = m->blen;
    m->bin = NULL;
    tfs_free(m);
    return j;
}

/* Loads path as a graph (model 0) or a model (model 1: the 64 x 64 plan is built too) and
 * checks the status and that the message holds each of the NULL-terminated words. */
static void expect(const char *label, const char *path, int model, enh_status want, ...)
{
    enh_error err = {0};
    enh_status st;
    if (model) {
        enh_tf_model *m = NULL;
        st = enh_tf_model_load(path, &m, &err);
        CHECK(st == ENH_OK ? m != NULL : m == NULL);
        enh_tf_model_free(m);
    } else {
        tf_graph *g = NULL;
        st = enh_tfjs_load_graph(path, &g, &err);
        CHECK(st == ENH_OK ? g != NULL : g == NULL);
        tf_graph_free(g);
    }
    CHECK_MSG(st == want, "%s: status %s, expected %s (%s)", label, enh_status_name(st), enh_status_name(want), err.msg);
    va_list ap;
    va_start(ap, want);
    for (const char *w; (w = va_arg(ap, const char *));)
        CHECK_MSG(strstr(err.msg, w) != NULL, "%s: '%s' is not in the message: %s", label, w, err.msg);
    va_end(ap);
    printf("%-28s %s\n", label, err.msg);
}

/* A valid base: x -> Conv2D 3x3 (weight "w") + bias "b" -> output. */
static const char *base(tfs_model *m)
{
    tfs_init(m);
    const char *x = tfs_input(m, 3);
    float w[3 * 3 * 3 * 3] = {0}, b[3] = {0};
    const char *wn = tfs_const_raw(m, "w", "float32", 4, (int[]){3, 3, 3, 3}, w, sizeof w, NULL);
    const char *bn = tfs_const_raw(m, "b", "float32", 1, (int[]){3}, b, sizeof b, NULL);
    return tfs_bin(m, "AddV2", tfs_conv(m, x, wn, "SAME", 1), bn);
}

/* json with the first occurrence of `from` replaced by `to` (caller frees) */
static char *edit(const char *json, const char *from, const char *to)
{
    const char *at = strstr(json, from);
    CHECK_MSG(at != NULL, "'%s' not in the JSON", from);
    if (!at)
        return strdup(json);
    size_t n = strlen(json) - strlen(from) + strlen(to) + 1;
    char *r = malloc(n);
    snprintf(r, n, "%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
    return r;
}

static void test_load_errors(void)
{
    tfs_model m;
    unsigned char *bin;
    size_t blen;
    const char *out = base(&m);
    char *good = json_of(&m, out, &bin, &blen), *j;
    expect("valid", put(good, bin, blen, 1), 1, ENH_OK, NULL);

    j = edit(good, "\"op\": \"Conv2D\"", "\"op\": \"FancyConv\"");
    expect("unknown op", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "model.json", "FancyConv", "node 'n3'", NULL);
    free(j);
    j = edit(good, "\"input\": [\"xs_0\", \"w\"]", "\"input\": [\"xs_0\", \"w_missing\"]");
    expect("input names no node", put(j, bin, blen, 1), 0, ENH_EINVAL, "model.json", "'n3'", "w_missing", NULL);
    free(j);
    j = edit(good, "\"input\": [\"xs_0\", \"w\"]", "\"input\": [\"xs_0\", \"w:1\"]");
    expect("input :1", put(j, bin, blen, 1), 0, ENH_EINVAL, "'n3'", "w:1", NULL);
    free(j);

    const char *path = put(good, bin, blen, 1);
    char shard[4200];
    snprintf(shard, sizeof shard, "%.*s/group1-shard1of1.bin", (int)(strrchr(path, '/') - path), path);
    CHECK(unlink(shard) == 0);
    expect("missing shard", path, 0, ENH_ENOTFOUND, "group1-shard1of1.bin", "re-fetch", NULL);
    expect("shard too short", put(good, bin, blen - 4, 1), 0, ENH_EINVAL, "'b'", "too short", NULL);
    expect("short by a weight", put(good, bin, 3 * 3 * 3 * 3 * 4 - 1, 1), 0, ENH_EINVAL, "'w'", NULL);
    expect("missing model.json", "/nonexistent/model.json", 0, ENH_ENOTFOUND, "/nonexistent/model.json", NULL);

    j = strdup(good);
    j[strlen(j) / 2] = 0;
    expect("bad JSON", put(j, bin, blen, 1), 0, ENH_EINVAL, "model.json", "line", NULL);
    free(j);
    expect("empty file", put("", bin, blen, 1), 0, ENH_EINVAL, "model.json", NULL);
    expect("JSON, not a model", put("[1, 2, 3]", bin, blen, 1), 0, ENH_EINVAL, "modelTopology", NULL);

    j = edit(good, "{\"name\": \"b\", \"shape\": [3], \"dtype\": \"float32\"}",
             "{\"name\": \"b_other\", \"shape\": [3], \"dtype\": \"float32\"}");
    expect("Const without weight", put(j, bin, blen, 1), 0, ENH_EINVAL, "Const node 'b'", "weightsManifest", NULL);
    free(j);
    j = edit(good, "\"graph-model\"", "\"layers-model\"");
    expect("layers-model", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "layers-model", "graph-model", NULL);
    free(j);
    j = edit(good, "\"shape\": [3], \"dtype\": \"float32\"", "\"shape\": [1, 1, 1, 1, 1, 1, 1, 1, 3], \"dtype\": \"float32\"");
    expect("weight of rank 9", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "'b'", "rank <= 8", NULL);
    free(j);
    j = edit(good, "\"shape\": [3], \"dtype\": \"float32\"",
             "\"shape\": [3], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"int8\"}");
    expect("quantised as int8", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "'b'", "int8", NULL);
    free(j);
    j = edit(good, "\"shape\": [3], \"dtype\": \"float32\"",
             "\"shape\": [3], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"uint8\"}");
    expect("uint8 without scale", put(j, bin, blen, 1), 0, ENH_EINVAL, "'b'", "scale", NULL);
    free(j);
    j = edit(good, "\"shape\": [3], \"dtype\": \"float32\"", "\"shape\": [3], \"dtype\": \"complex64\"");
    expect("complex weight", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "'b'", NULL);
    free(j);
    j = edit(good, "\"group1-shard1of1.bin\"", "\"../group1-shard1of1.bin\"");
    expect("shard path with ..", put(j, bin, blen, 1), 0, ENH_EINVAL, "beside model.json", NULL);
    free(j);
    j = edit(good, "\"name\": \"n4\"", "\"name\": \"b\"");
    expect("duplicate names", put(j, bin, blen, 1), 0, ENH_EINVAL, "two nodes are named 'b'", NULL);
    free(j);
    j = edit(good, "\"op\": \"Placeholder\"", "\"op\": \"Identity\"");
    expect("no Placeholder", put(j, bin, blen, 1), 0, ENH_EINVAL, "Placeholder", NULL);
    free(j);
    j = edit(good, "\"op\": \"Conv2D\"", "\"op\": \"Placeholder\"");
    expect("two Placeholders", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "'xs_0'", "'n3'", NULL);
    free(j);
    j = edit(good, "\"padding\": {\"s\": \"U0FNRQ==\"}", "\"padding\": {\"s\": \"RlVMTA==\"}"); /* FULL */
    expect("padding FULL", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "'n3'", "FULL", NULL);
    free(j);
    j = edit(good, "\"data_format\": {\"s\": \"TkhXQw==\"}", "\"data_format\": {\"s\": \"TkNIVw==\"}"); /* NCHW */
    expect("NCHW conv", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "'n3'", "NCHW", NULL);
    free(j);
    j = edit(good, "\"i\": [\"1\", \"1\", \"1\", \"1\"]", "\"i\": [\"1\", \"0\", \"1\", \"1\"]");
    expect("stride 0", put(j, bin, blen, 1), 0, ENH_EINVAL, "'n3'", "strides", NULL);
    free(j);
    j = edit(good, "\"T\":{\"type\":\"DT_FLOAT\"}", "\"T\":{\"type\":\"DT_HALF\"}");
    expect("half tensors", put(j, bin, blen, 1), 0, ENH_EUNSUPPORTED, "data type", NULL);
    free(j);
    free(good);
    free(bin);
}

/* errors found when the graph is specialised (enh_tf_model_load builds the 64 x 64 plan) */
static void test_plan_errors(void)
{
    tfs_model m;
    unsigned char *bin;
    size_t blen;
    char *j;

    /* a Reshape to 9 dimensions, and an ExpandDims past 8 */
    tfs_init(&m);
    const char *x = tfs_input(&m, 3);
    const char *y = tfs_reshape(&m, x, TFS_VI(&m, 1, 1, 1, 1, 1, 64, 64, 3, 1));
    j = json_of(&m, y, &bin, &blen);
    expect("reshape to rank 9", put(j, bin, blen, 1), 1, ENH_EINVAL, "model.json", "'n2'", "rank <= 8", NULL);
    free(j), free(bin);
    tfs_init(&m);
    x = tfs_input(&m, 3);
    y = tfs_reshape(&m, x, TFS_VI(&m, 1, 1, 1, 1, 64, 64, 3, 1));
    y = tfs_op(&m, "ExpandDims", TFS_TF ", \"Tdim\": {\"type\": \"DT_INT32\"}", y, tfs_si(&m, 0), NULL);
    j = json_of(&m, y, &bin, &blen);
    expect("expand to rank 9", put(j, bin, blen, 1), 1, ENH_EINVAL, "model.json", "'n4'", NULL);
    free(j), free(bin);

    /* a Reshape whose shape is computed from the pixels */
    tfs_init(&m);
    x = tfs_input(&m, 3);
    const char *shp = tfs_cast(&m, tfs_sum(&m, "Sum", x, TFS_VI(&m, 0, 1, 2), 0), "DT_FLOAT", "DT_INT32");
    y = tfs_reshape(&m, x, shp);
    j = json_of(&m, y, &bin, &blen);
    expect("reshape by pixel values", put(j, bin, blen, 1), 1, ENH_EUNSUPPORTED, "model.json", "'n4'", "constant",
           NULL);
    free(j), free(bin);

    /* cycles: a -> b -> a, and a node reading itself */
    tfs_init(&m);
    x = tfs_input(&m, 3);
    const char *ins_a[2] = {x, "b"}, *ins_b[1] = {"a"};
    tfs_nodev(&m, "a", "AddV2", TFS_TF, ins_a, 2);
    tfs_nodev(&m, "b", "Neg", TFS_TF, ins_b, 1);
    j = json_of(&m, "a", &bin, &blen);
    expect("cycle", put(j, bin, blen, 1), 1, ENH_EINVAL, "model.json", "cycle", NULL);
    free(j), free(bin);
    tfs_init(&m);
    x = tfs_input(&m, 3);
    const char *ins_s[2] = {x, "self"};
    tfs_nodev(&m, "self", "AddV2", TFS_TF, ins_s, 2);
    j = json_of(&m, "self", &bin, &blen);
    expect("self loop", put(j, bin, blen, 1), 1, ENH_EINVAL, "cycle", NULL);
    free(j), free(bin);

    /* shapes that do not fit: channels of the filter, broadcasting, an Einsum letter missing */
    tfs_init(&m);
    x = tfs_input(&m, 3);
    y = tfs_conv(&m, x, tfs_cf(&m, TFS_DIMS(1, 1, 4, 3), (float[12]){0}), "SAME", 1);
    j = json_of(&m, y, &bin, &blen);
    expect("filter channels", put(j, bin, blen, 1), 1, ENH_EINVAL, "'n2'", "Conv2D", NULL);
    free(j), free(bin);
    tfs_init(&m);
    x = tfs_input(&m, 3);
    y = tfs_bin(&m, "AddV2", x, tfs_cf(&m, TFS_DIMS(2), (float[2]){0}));
    j = json_of(&m, y, &bin, &blen);
    expect("no broadcast", put(j, bin, blen, 1), 1, ENH_EINVAL, "'n2'", "broadcast", NULL);
    free(j), free(bin);
    tfs_init(&m);
    x = tfs_input(&m, 3);
    y = tfs_einsum(&m, "abcg,gf->abcz", x, tfs_cf(&m, TFS_DIMS(3, 3), (float[9]){0}));
    j = json_of(&m, y, &bin, &blen);
    expect("einsum letter", put(j, bin, blen, 1), 1, ENH_EINVAL, "'n2'", "Einsum", NULL);
    free(j), free(bin);
    tfs_init(&m); /* a contracted letter of two sizes (the evaluator would read past the matrix) */
    x = tfs_input(&m, 3);
    y = tfs_einsum(&m, "abgd,gf->abdf", x, tfs_cf(&m, TFS_DIMS(63, 64), (float[63 * 64]){0}));
    y = TFS_TRANSPOSE(&m, y, 0, 1, 3, 2);
    j = json_of(&m, y, &bin, &blen);
    expect("einsum contracted sizes", put(j, bin, blen, 1), 1, ENH_EINVAL, "'n2'", "contracted", NULL);
    free(j), free(bin);
    tfs_init(&m);
    x = tfs_input(&m, 3);
    y = tfs_sum(&m, "Sum", x, TFS_VI(&m, 1, 2), 1);
    j = json_of(&m, y, &bin, &blen);
    expect("output not an image", put(j, bin, blen, 1), 1, ENH_EUNSUPPORTED, "model.json", "not an image", NULL);
    free(j), free(bin);
}

/* runs the graph at h x w (fused and not): the status of the build or the run */
static enh_status run_graph(tfs_model *m, const char *out, int h, int w, int c, enh_error *err)
{
    unsigned char *bin;
    size_t blen;
    char *j = json_of(m, out, &bin, &blen);
    tf_graph *g = NULL;
    enh_status st = enh_tfjs_load_graph(put(j, bin, blen, 1), &g, err);
    free(j), free(bin);
    for (int fuse = 0; fuse < 2 && st == ENH_OK; fuse++) {
        tf_plan *p = NULL;
        st = tf_plan_build_ex(g, h, w, c, fuse, &p, err);
        if (st != ENH_OK)
            break;
        size_t n = tf_shape_count(&p->val[p->output].s);
        float *in = calloc((size_t)h * w * c, sizeof *in), *o = malloc((n ? n : 1) * sizeof *o);
        for (int i = 0; i < h * w * c; i++)
            in[i] = (float)(i % 7) - 3;
        st = tf_plan_run(p, in, o, n, NULL, NULL, err);
        free(in), free(o);
        tf_plan_free(p);
    }
    tf_graph_free(g);
    return st;
}

static void test_run_errors(void)
{
    tfs_model m;
    enh_error err = {0};
    /* a computed index out of range */
    tfs_init(&m);
    const char *x = tfs_input(&m, 1);
    const char *idx = tfs_cast(&m, tfs_bin(&m, "AddV2", x, tfs_sf(&m, 10)), "DT_FLOAT", "DT_INT32");
    const char *y = tfs_op(&m, "GatherV2", "\"Taxis\": {\"type\": \"DT_INT32\"}, \"batch_dims\": {\"i\": \"0\"}",
                           tfs_reshape(&m, x, TFS_VI(&m, -1)), tfs_reshape(&m, idx, TFS_VI(&m, -1)), tfs_si(&m, 0), NULL);
    enh_status st = run_graph(&m, y, 2, 2, 1, &err);
    CHECK_MSG(st == ENH_EINVAL && strstr(err.msg, "'n9'") && strstr(err.msg, "out of range"), "%d %s", st, err.msg);
    printf("%-28s %s\n", "gather index", err.msg);

    /* integer division by a computed zero */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    const char *xi = tfs_cast(&m, x, "DT_FLOAT", "DT_INT32");
    const char *zero = tfs_cast(&m, tfs_bin(&m, "Mul", x, tfs_sf(&m, 0)), "DT_FLOAT", "DT_INT32");
    y = tfs_cast(&m, tfs_bini(&m, "FloorDiv", xi, zero), "DT_INT32", "DT_FLOAT");
    st = run_graph(&m, y, 2, 2, 1, &err);
    CHECK_MSG(st == ENH_EINVAL && strstr(err.msg, "division by zero") && strstr(err.msg, "'n5'"), "%d %s", st,
              err.msg);
    printf("%-28s %s\n", "int division by zero", err.msg);

    /* the public run: sizes out of range */
    tfs_init(&m);
    x = tfs_input(&m, 3);
    unsigned char *bin;
    size_t blen;
    char *j = json_of(&m, tfs_un(&m, "Neg", x), &bin, &blen);
    enh_tf_model *tm = NULL;
    CHECK(enh_tf_model_load(put(j, bin, blen, 1), &tm, &err) == ENH_OK);
    free(j), free(bin);
    float px[3] = {0};
    if (tm) {
        CHECK(enh_tf_model_run(tm, px, 0, 1, 1, px, NULL, &err) == ENH_EINVAL && strstr(err.msg, "out of range"));
        CHECK(enh_tf_model_run(tm, px, 1, 40000, 1, px, NULL, &err) == ENH_EINVAL);
        enh_status pst = enh_tf_model_run(tm, px, 1, 1, INT32_MAX, px, NULL, &err); /* no int overflow padding */
        CHECK_MSG(pst == ENH_EINVAL, "pad_multiple INT_MAX: %d %s", pst, err.msg);
        CHECK(enh_tf_model_bytes_for(tm, 1, 1, INT32_MAX) > 0);
        CHECK(enh_tf_model_run_fit(tm, px, 1, 1, INT32_MAX, 1, px, NULL, &err) != ENH_OK);
        /* tiled: a negative height used to size the accumulators (ASan: allocation-size-too-big) */
        CHECK(enh_tf_model_run_tiled(tm, px, -5, 100, 1, 16, 4, px, NULL, &err) == ENH_EINVAL);
        CHECK(enh_tf_model_run_tiled(tm, px, 1, 40000, 1, 16, 4, px, NULL, &err) == ENH_EINVAL);
        CHECK(enh_tf_model_run(tm, px, 1, 1, 1, px, NULL, &err) == ENH_OK && px[0] == 0);
        enh_tf_model_free(tm);
    }
}

/* Extreme constants: the build may fail or succeed, but no integer overflow (UBSan) and no
 * out-of-bounds access (ASan). */
static void test_hostile_constants(void)
{
    tfs_model m;
    enh_error err = {0};
    static const int32_t strides[4] = {INT32_MIN, INT32_MAX, INT32_MIN + 1, -1};
    for (int k = 0; k < 4; k++) {
        tfs_init(&m);
        const char *x = tfs_input(&m, 1);
        const char *y = tfs_sslice(&m, TFS_TF, x, TFS_VI(&m, 0, 1), TFS_VI(&m, 0, 3), TFS_VI(&m, 1, strides[k]), 1, 1,
                                   0, 0, 0);
        enh_status st = run_graph(&m, y, 4, 4, 1, &err);
        printf("%-28s stride %d: %s\n", "strided slice", strides[k], st == ENH_OK ? "ok" : err.msg);
    }
    static const int32_t begins[3] = {INT32_MIN, INT32_MAX, -5}, ends[3] = {INT32_MAX, INT32_MIN, 3};
    for (int k = 0; k < 3; k++) {
        tfs_init(&m);
        const char *x = tfs_input(&m, 1);
        const char *y = tfs_sslice(&m, TFS_TF, x, TFS_VI(&m, 0, begins[k]), TFS_VI(&m, 0, ends[k]),
                                   TFS_VI(&m, 1, k ? -1 : 1), 1, 1, 0, 0, 0);
        enh_status st = run_graph(&m, y, 4, 4, 1, &err);
        printf("%-28s begin %d: %s\n", "strided slice", begins[k], st == ENH_OK ? "ok" : err.msg);
    }
    /* explicit paddings near INT_MAX */
    tfs_init(&m);
    const char *x = tfs_input(&m, 1);
    const char *y = tfs_op(&m, "Conv2D",
                           tfs_fmt("\"padding\": {\"s\": \"%s\"}, \"explicit_paddings\": {\"list\": {\"i\": [\"0\", \"0\", "
                                   "\"2147483647\", \"2147483647\", \"1\", \"1\", \"0\", \"0\"]}}, " TFS_TF,
                                   tfs_b64("EXPLICIT")),
                           x, tfs_cf(&m, TFS_DIMS(1, 1, 1, 1), (float[]){1}), NULL);
    enh_status st = run_graph(&m, y, 4, 4, 1, &err);
    printf("%-28s %s\n", "explicit paddings INT_MAX", st == ENH_OK ? "ok" : err.msg);
    /* an Einsum with a repeated output letter (TF refuses it) */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    y = tfs_einsum(&m, "ab,bc->aa", tfs_reshape(&m, x, TFS_VI(&m, 2, 2)), tfs_cf(&m, TFS_DIMS(2, 2), (float[4]){1, 2, 3, 4}));
    st = run_graph(&m, y, 2, 2, 1, &err);
    printf("%-28s %s\n", "einsum ab,bc->aa", st == ENH_OK ? "ok" : err.msg);
    CHECK_MSG(st == ENH_EINVAL, "einsum with a repeated output letter: %d %s", st, err.msg);
    /* Range with a tiny delta */
    tfs_init(&m);
    x = tfs_input(&m, 1);
    const char *rg = tfs_op(&m, "Range", "\"Tidx\": {\"type\": \"DT_FLOAT\"}", tfs_sf(&m, 0), tfs_sf(&m, 1e30f),
                            tfs_sf(&m, 1e-30f), NULL);
    y = tfs_bin(&m, "AddV2", x, tfs_reshape(&m, rg, TFS_VI(&m, -1, 1)));
    st = run_graph(&m, y, 2, 2, 1, &err);
    printf("%-28s %s\n", "range of 1e60 values", st == ENH_OK ? "ok" : err.msg);
    CHECK_MSG(st == ENH_EINVAL && strstr(err.msg, "range too long"), "%s", err.msg);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* the log in order with the sanitizers' reports */
    snprintf(g_dir, sizeof g_dir, "/tmp/enh-tfjs-err-XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_load_errors();
    test_plan_errors();
    test_run_errors();
    test_hostile_constants();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    CHECK(system(cmd) == 0);
    CHECK_MAIN_END();
}
