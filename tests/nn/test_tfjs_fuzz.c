/* test_tfjs_fuzz.c - a few hundred mutations of a valid synthetic TF.js graph model (a small
 * MAXIM-like block with uint8 / float16 / float32 weights, tfjs_synth.h) must never crash, leak
 * or hit undefined behaviour (the suite runs it under ASan + UBSan): each mutant either fails
 * to load with a message, or loads and then builds (fused and reference) and runs on a small
 * input - where both plans run they must agree - or fails cleanly there. Mutations: bytes and
 * bits of model.json, numbers replaced by extreme ones, strings swapped for other ops, dtypes,
 * node names (rewiring the graph) and base64 attrs, spans deleted or repeated; the shard
 * truncated or overwritten with NaN, infinity and large integers. Fixed seed, 300 mutants (a
 * few seconds under ASan). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check.h"
#include "nn/tf_plan.h"
#include "nn/tfjs.h"
#include "nn/tfjs_load.h"
#include "tfjs_synth.h"

enum { CIN = 3, C = 4 };

static unsigned long long rs = 0x2545F4914F6CDD1Dull;
static unsigned rnd(unsigned n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return n ? (unsigned)(rs % n) : 0;
}

static float wv(void) /* a weight in [-0.5, 0.5) */
{
    return (float)rnd(1000) / 1000.0f - 0.5f;
}

static const char *weights(tfs_model *m, int rank, const int *dims)
{
    size_t n = tfs_count(rank, dims);
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = wv();
    const char *r = tfs_cf(m, rank, dims, v);
    free(v);
    return r;
}

static const char *weights_u8(tfs_model *m, int rank, const int *dims)
{
    size_t n = tfs_count(rank, dims);
    unsigned char *q = malloc(n);
    for (size_t i = 0; i < n; i++)
        q[i] = (unsigned char)rnd(256);
    const char *r = tfs_const_raw(m, NULL, "float32", rank, dims, q, n,
                                  "\"dtype\": \"uint8\", \"min\": -0.5, \"scale\": 0.00390625, "
                                  "\"original_dtype\": \"float32\"");
    free(q);
    return r;
}

static const char *weights_f16(tfs_model *m, int rank, const int *dims)
{
    size_t n = tfs_count(rank, dims);
    unsigned char *h = malloc(2 * n);
    for (size_t i = 0; i < n; i++) { /* +-[0.125, 0.25) */
        unsigned v = 0x3000u | rnd(1024) | (rnd(2) << 15);
        h[2 * i] = (unsigned char)v, h[2 * i + 1] = (unsigned char)(v >> 8);
    }
    const char *r = tfs_const_raw(m, NULL, "float32", rank, dims, h, 2 * n,
                                  "\"dtype\": \"float16\", \"original_dtype\": \"float32\"");
    free(h);
    return r;
}

static const char *bias(tfs_model *m, const char *x, int n)
{
    return tfs_bin(m, "AddV2", x, weights(m, 1, &n));
}

/* x (1 x H x W x 3, H and W multiples of 4) -> the same size, through most op kinds */
static const char *build(tfs_model *m)
{
    const char *x = tfs_input(m, CIN);
    const char *t0 = bias(m, tfs_conv(m, x, weights_u8(m, TFS_DIMS(3, 3, CIN, C)), "SAME", 1), C);
    int dc[1] = {C};
    const char *ln = tfs_layernorm(m, t0, C, weights(m, 1, dc), weights(m, 1, dc));
    const char *h = tfs_gelu(m, bias(m, tfs_einsum(m, "abcg,gf->abcf", ln, weights_f16(m, TFS_DIMS(C, 2 * C))), 2 * C));
    const char *r1 = tfs_bin(m, "AddV2", bias(m, tfs_einsum(m, "abcg,gf->abcf", h, weights(m, TFS_DIMS(2 * C, C))), C), t0);
    /* 2x2 blocks: [1, H/2, 2, W/2, 2, C] -> [1, H/2, W/2, 2, 2, C], a Dense over the 4 pixels */
    const char *r2 = tfs_block_mix2(m, r1, C, weights(m, TFS_DIMS(4, 4)));
    /* channel shuffles: a slice, a reversed slice, a concat, a gather */
    const char *lo = tfs_sslice(m, TFS_TF, r2, TFS_VI(m, 0, 0), TFS_VI(m, 0, 2), TFS_VI(m, 1, 1), 0, 0, 1, 0, 0);
    const char *hi = tfs_sslice(m, TFS_TF, r2, TFS_VI(m, 0, 0), TFS_VI(m, 0, 1), TFS_VI(m, 1, -1), 2, 0, 1, 0, 0);
    const char *parts[2] = {hi, lo};
    const char *cat = tfs_concatv(m, TFS_TF, 2, parts, -1);
    const char *g = tfs_gather(m, cat, TFS_VI(m, 3, 1, 0, 2), 3);
    const char *y = tfs_bin(m, "Mul", g, tfs_sigmoid(m, bias(m, tfs_conv(m, g, weights(m, TFS_DIMS(1, 1, C, C)), "VALID", 1), C)));
    y = tfs_resize2(m, y); /* 1, 2H, 2W, C */
    y = tfs_op(m, "Conv2D",
               tfs_fmt("\"padding\": {\"s\": \"%s\"}, \"explicit_paddings\": {\"list\": {\"i\": [\"0\", \"0\", \"1\", "
                       "\"1\", \"1\", \"1\", \"0\", \"0\"]}}, \"strides\": {\"list\": {\"i\": [\"1\", \"2\", \"2\", "
                       "\"1\"]}}, " TFS_TF, tfs_b64("EXPLICIT")),
               y, weights(m, TFS_DIMS(3, 3, C, C)), NULL);
    y = tfs_leaky(m, bias(m, y, C), 0.2f);                                       /* 1, H, W, C */
    y = bias(m, tfs_conv(m, y, weights(m, TFS_DIMS(3, 3, C, C)), "SAME", 2), C); /* 1, H/2, W/2, C */
    const char *sx = tfs_shape(m, x);
    const char *p4[4] = {tfs_si(m, 1), tfs_elem(m, sx, 1), tfs_elem(m, sx, 2), tfs_si(m, CIN)};
    y = tfs_deconv(m, tfs_packv(m, TFS_TI, 0, 4, p4), weights(m, TFS_DIMS(2, 2, CIN, C)), y, "VALID", 2);
    return tfs_bin(m, "AddV2", bias(m, y, CIN), x);
}

typedef struct {
    int loaded, rejected, built, ran, run_failed, model_ok, model_ran, compared;
} tally;

/* replacement strings by kind: a string is replaced by one of its own kind (mostly), so that
 * the mutant stays a plausible model and reaches the runtime */
static const char *const ops[] = {"Conv2D", "Einsum", "Reshape", "Transpose", "AddV2", "Mul", "Sub", "Const",
                                  "Placeholder", "Identity", "SelectV2", "Sum", "Mean", "Pack", "StridedSlice",
                                  "ConcatV2", "GatherV2", "Conv2DBackpropInput", "Range", "Shape", "Cast", "FloorDiv",
                                  "Squeeze", "ExpandDims", "BroadcastTo", "Fill", "AddN", "BiasAdd", "Tanh", "Maximum",
                                  "RealDiv", "Square", "Rsqrt", "Equal", "GreaterEqual", "FloorMod", "Neg", "Exp"};
static const char *const dtypes[] = {"DT_FLOAT", "DT_INT32", "DT_BOOL"};
static const char *const wdtypes[] = {"float32", "int32", "bool", "uint8", "uint16", "float16", "int8"};
static const char *const b64s[] = {"U0FNRQ==", "VkFMSUQ=", "RVhQTElDSVQ=", "TkNIVw==", "TkhXQw==",
                                   "YWJjZyxnZi0+YWJjZg==", "Z2IsY2dlZi0+YmNlZg==", "YWIsYmMtPmFh", "YSxiLT5hYg==",
                                   "YWJnZCxnZi0+YWJkZg==", "YWJjZGcsZ2YtPmFiY2Rm", "", "!!"};
static const char *const others[] = {"graph-model", "layers-model", "xs_0:0", "Identity:0", "^n3", "n1:1", "", "DT_HALF"};

static int in_list(const char *s, size_t len, const char *const *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(l[i]) == len && !memcmp(l[i], s, len))
            return 1;
    return 0;
}

#define PICK(l) (l)[rnd(sizeof(l) / sizeof *(l))]

static const char *replacement(const char *s, size_t len, int nnodes)
{
    static char name[16];
    if (rnd(8) == 0)
        return PICK(others);
    if (in_list(s, len, ops, sizeof ops / sizeof *ops))
        return PICK(ops);
    if (in_list(s, len, dtypes, sizeof dtypes / sizeof *dtypes))
        return PICK(dtypes);
    if (in_list(s, len, wdtypes, sizeof wdtypes / sizeof *wdtypes))
        return PICK(wdtypes);
    if ((len > 1 && s[0] == 'n' && s[1] >= '0' && s[1] <= '9') || (len == 4 && !memcmp(s, "xs_0", 4))) {
        int k = (int)rnd((unsigned)nnodes + 2);
        if (k == 0)
            return "xs_0";
        snprintf(name, sizeof name, "n%d", k);
        return name;
    }
    return PICK(b64s);
}

static const char *const numbers[] = {"0", "-1", "1", "2", "3", "7", "9", "64", "65536", "2147483647", "-2147483648",
                                      "4294967296", "1e30", "-0", "99999999999", "0.5", "NaN", "1e-30"};

/* replaces [at, at + len) of s (size *n, capacity cap) by r */
static void splice(char *s, size_t *n, size_t cap, size_t at, size_t len, const char *r)
{
    size_t rl = strlen(r);
    if (at > *n || len > *n - at || *n - len + rl + 1 > cap)
        return;
    memmove(s + at + rl, s + at + len, *n - at - len);
    memcpy(s + at, r, rl);
    *n = *n - len + rl;
    s[*n] = 0;
}

static void mutate_json(char *s, size_t *n, size_t cap, int nnodes)
{
    if (!*n)
        return;
    size_t at = rnd((unsigned)*n);
    /* mostly edits that keep the JSON valid, so that the loader and the runtime see them */
    static const unsigned char kind[20] = {0, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 7, 8};
    switch (kind[rnd(20)]) {
    case 0: /* truncate */
        *n = at, s[at] = 0;
        break;
    case 1:
        s[at] ^= (char)(1u << rnd(7));
        if (!s[at])
            s[at] = ' ';
        break;
    case 2: { /* a digit -> another digit or '-' */
        for (size_t k = 0; k < *n; k++, at = (at + 1) % *n)
            if (s[at] >= '0' && s[at] <= '9') {
                s[at] = "0123456789-"[rnd(11)];
                break;
            }
        break;
    }
    case 3: case 4: { /* a string value (not a key) at or after at -> a word; the JSON has no escapes */
        size_t q = 0;
        for (int inside = 0; q < *n; q++) {
            if (s[q] != '"')
                continue;
            inside = !inside;
            if (!inside || q < at)
                continue;
            const char *e = strchr(s + q + 1, '"');
            if (!e)
                break;
            const char *after = e + 1;
            while (*after == ' ')
                after++;
            int named = q >= 8 && !memcmp(s + q - 8, "\"name\": ", 8) && rnd(8); /* names: mostly kept */
            if (*after != ':' && !named) {
                splice(s, n, cap, q + 1, (size_t)(e - s) - q - 1, replacement(s + q + 1, (size_t)(e - s) - q - 1, nnodes));
                break;
            }
        }
        break;
    }
    case 5: case 6: { /* a number (quoted or not) -> an extreme one */
        size_t k = at;
        while (k < *n && !(s[k] >= '0' && s[k] <= '9'))
            k++;
        size_t e = k;
        while (e < *n && ((s[e] >= '0' && s[e] <= '9') || s[e] == '.' || s[e] == 'e' || s[e] == '-'))
            e++;
        if (k < *n)
            splice(s, n, cap, k, e - k, numbers[rnd(sizeof numbers / sizeof *numbers)]);
        break;
    }
    case 7: { /* delete a span */
        size_t len = rnd(40);
        splice(s, n, cap, at, len < *n - at ? len : *n - at, "");
        break;
    }
    default: { /* repeat a span */
        char tmp[48];
        size_t len = 1 + rnd(40);
        if (len > *n - at)
            len = *n - at;
        memcpy(tmp, s + at, len);
        tmp[len] = 0;
        if (!memchr(tmp, 0, len))
            splice(s, n, cap, at, 0, tmp);
        break;
    }
    }
}

static void mutate_bin(unsigned char *b, size_t *n)
{
    if (!*n)
        return;
    size_t at = rnd((unsigned)*n) & ~(size_t)3;
    static const uint32_t vals[] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7f7fffffu, 0x80000000u, 0x7fffffffu,
                                    0xffffffffu, 0x00000001u};
    switch (rnd(4)) {
    case 0:
        *n = rnd((unsigned)*n);
        break;
    case 1:
        b[rnd((unsigned)*n)] ^= (unsigned char)(1u << rnd(8));
        break;
    default:
        if (at + 4 <= *n)
            memcpy(b + at, &vals[rnd(8)], 4);
        break;
    }
}

/* loads path (a mutant), builds and runs it; use_model: the public API too */
static void check_model(const char *path, int use_model, tally *t)
{
    enh_error err = {0};
    tf_graph *g = NULL;
    enh_status st = enh_tfjs_load_graph(path, &g, &err);
    if (st != ENH_OK) {
        CHECK_MSG(g == NULL && err.msg[0], "failure %d without a message", st);
        t->rejected++;
        return;
    }
    t->loaded++;
    float in[8 * 8 * CIN];
    for (int i = 0; i < 8 * 8 * CIN; i++)
        in[i] = (float)((i * 37) % 101) / 100.0f;
    int c = g->in_channels > 0 ? g->in_channels : CIN;
    /* weights mutated to huge or non-finite values overflow differently in the fused kernels
     * (FMA, double sums): such mutants are run, not compared */
    int tame = 1;
    for (int i = 0; i < g->n && tame; i++) {
        const tf_tensor *v = &g->nodes[i].value;
        for (size_t k = 0; v->data && v->dt == TF_F32 && k < tf_shape_count(&v->s) && tame; k++)
            tame = fabsf(((const float *)v->data)[k]) <= 1e3f;
    }
    float *outs[2] = {NULL, NULL};
    size_t nouts[2] = {0, 0};
    for (int fuse = 0; fuse < 2 && c == CIN; fuse++) {
        tf_plan *p = NULL;
        err.msg[0] = 0;
        st = tf_plan_build_ex(g, 8, 8, c, fuse, &p, &err);
        if (st != ENH_OK) {
            CHECK_MSG(p == NULL && err.msg[0], "plan failure %d without a message", st);
            continue;
        }
        t->built++;
        size_t n = tf_shape_count(&p->val[p->output].s);
        if (p->arena_bytes < ((size_t)32 << 20) && n < ((size_t)4 << 20)) {
            float *out = malloc((n ? n : 1) * sizeof *out);
            st = tf_plan_run(p, in, out, n, NULL, NULL, &err);
            if (st == ENH_OK) {
                t->ran++;
                outs[fuse] = out, nouts[fuse] = n;
                out = NULL;
            } else {
                CHECK_MSG(err.msg[0], "run failure %d without a message", st);
                t->run_failed++;
            }
            free(out);
        }
        tf_plan_free(p);
    }
    tf_graph_free(g);
    /* fused against reference where both ran: the same values (within 1e-4 of the largest) - a
     * mutant is a new model for the fusions too */
    if (tame && outs[0] && outs[1] && nouts[0] == nouts[1]) {
        double md = 0, mb = 0;
        for (size_t i = 0; i < nouts[0]; i++)
            if (isfinite(outs[0][i]) && isfinite(outs[1][i]) && fabsf(outs[0][i]) < 1e30f) {
                md = fmax(md, fabs((double)outs[0][i] - outs[1][i]));
                mb = fmax(mb, fabs((double)outs[0][i]));
            }
        t->compared++;
        if (!(md <= 1e-4 * (mb > 1 ? mb : 1))) { /* keep the mutant for replaying */
            static int kept;
            char cmd[4400];
            snprintf(cmd, sizeof cmd, "mkdir -p /tmp/enh-tfjs-fuzz-kept-%d && cp %.*s/* /tmp/enh-tfjs-fuzz-kept-%d/", kept,
                     (int)(strrchr(path, '/') - path), path, kept);
            CHECK(system(cmd) == 0);
            CHECK_MSG(0, "fused differs from reference by %g (max %g): /tmp/enh-tfjs-fuzz-kept-%d/model.json", md, mb,
                      kept);
            kept++;
        }
    }
    free(outs[0]), free(outs[1]);
    if (!use_model)
        return;
    /* the public API: load (a 64 x 64 plan), then 61 x 62 padded to it */
    enh_tf_model *m = NULL;
    if (enh_tf_model_load(path, &m, &err) != ENH_OK) {
        CHECK(m == NULL && err.msg[0]);
        return;
    }
    t->model_ok++;
    const enh_tf_model_info *info = enh_tf_model_get_info(m);
    size_t peak = enh_tf_model_peak_bytes(m, 64, 64);
    if (info->in_channels <= 4 && info->out_channels <= 16 && info->scale == 1 && peak && peak < ((size_t)32 << 20)) {
        float *src = calloc((size_t)61 * 62 * info->in_channels, sizeof *src);
        float *dst = malloc((size_t)61 * 62 * info->out_channels * sizeof *dst);
        if (enh_tf_model_run(m, src, 61, 62, 64, dst, NULL, &err) == ENH_OK)
            t->model_ran++;
        else
            CHECK(err.msg[0]);
        free(src), free(dst);
    }
    enh_tf_model_free(m);
}

static void one(const char *dir, const char *json, const unsigned char *bin, size_t blen, int use_model, tally *t)
{
    char path[4096];
    CHECK(tfs_write_files(dir, json, bin, blen, 1, 0, path, sizeof path) == 0);
    check_model(path, use_model, t);
}

/* test_tfjs_fuzz [seed [iterations]]: CTest runs the default; other seeds explore further (a
 * crash leaves its mutant in /tmp/enh-tfjs-fuzz-*, a fused/reference mismatch keeps it in
 * /tmp/enh-tfjs-fuzz-kept-*; test_tfjs_fuzz DIR/model.json replays one, test_tfjs_fuzz
 * --original DIR [seed] writes the unmutated model of that seed there to diff against) */
int main(int argc, char **argv)
{
    if (argc > 1 && strstr(argv[1], ".json")) { /* replay a mutant left behind by a failed run */
        tally t = {0};
        check_model(argv[1], 1, &t);
        printf("%s: %s\n", argv[1], t.loaded ? "loaded" : "rejected");
        CHECK_MAIN_END();
    }
    int iters = argc > 2 ? atoi(argv[2]) : 300;
    if (argc > 1 && argv[1][0] != '-')
        rs = strtoull(argv[1], NULL, 0) | 1;
    if (argc > 3 && !strcmp(argv[1], "--original"))
        rs = strtoull(argv[3], NULL, 0) | 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char dir[] = "/tmp/enh-tfjs-fuzz-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tfs_model m;
    tfs_init(&m);
    const char *out = build(&m);
    int nnodes = m.nnodes;
    char *json0 = tfs_json(&m, out, NULL);
    size_t jlen0 = strlen(json0), blen0 = m.blen, cap = jlen0 + 4096;
    unsigned char *bin0 = m.bin, *bin = malloc(blen0 + 1);
    m.bin = NULL;
    tfs_free(&m);
    char *json = malloc(cap);

    if (argc > 2 && !strcmp(argv[1], "--original")) { /* the unmutated model, to diff a mutant against */
        char path[4096];
        CHECK(tfs_write_files(argv[2], json0, bin0, blen0, 1, 0, path, sizeof path) == 0);
        printf("%s\n", path);
        iters = 0;
    }
    tally t = {0};
    one(dir, json0, bin0, blen0, 1, &t);
    CHECK_MSG(t.loaded == 1 && t.ran == 2 && t.model_ran == 1, "the unmutated model: %d loaded, %d ran, %d model runs",
              t.loaded, t.ran, t.model_ran);
    for (int it = 0; it < iters; it++) {
        size_t jl = jlen0, bl = blen0;
        memcpy(json, json0, jlen0 + 1);
        memcpy(bin, bin0, blen0);
        int edits = 1 + (int)rnd(3);
        for (int e = 0; e < edits; e++) {
            if (rnd(5) == 0)
                mutate_bin(bin, &bl);
            else
                mutate_json(json, &jl, cap, nnodes);
        }
        one(dir, json, bin, bl, it % 4 == 0, &t);
    }
    printf("%d mutants: %d rejected at load, %d loaded; %d plans built, %d ran, %d failed running, %d fused vs "
           "reference; %d loaded as models, %d of them ran padded\n", iters, t.rejected, t.loaded - 1, t.built - 2,
           t.ran - 2, t.run_failed, t.compared - 1, t.model_ok - 1, t.model_ran - 1);
    /* the mutations must reach past the JSON parser and the loader */
    CHECK(!iters || (t.rejected > iters / 10 && t.loaded > iters / 4 && t.ran > iters / 4));
    free(json), free(json0), free(bin), free(bin0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    CHECK_MAIN_END();
}
