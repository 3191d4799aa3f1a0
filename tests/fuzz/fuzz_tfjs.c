/* fuzz_tfjs.c - the TF.js graph-model loader (enh_tfjs_load_graph: model.json + its weight
 * shard, the MAXIM format) and what a loaded graph goes through: specialisation to an 8x8 input
 * (topological order, shape inference, constant folding), the fusions and the memory plan, and a
 * run - fused and reference; where both run on tame weights they must agree, as in
 * tests/nn/test_tfjs_fuzz.c. Input: model.json, FUZZ_SPLIT, the shard (written to a private
 * folder as model.json and group1-shard1of1.bin: the loader reads files). Seeds: two small
 * synthetic models (tests/nn/tfjs_synth.h) that between them use most op kinds and the uint8,
 * float16 and float32 weight encodings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/tfjs_synth.h"
#include "fuzz.h"
#include "nn/tf_plan.h"
#include "nn/tfjs_load.h"

enum { CIN = 3, C = 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t jlen, blen;
    const uint8_t *b;
    fuzz_split(data, size, &jlen, &b, &blen);
    const char *dir = fuzz_tmpdir();
    char path[256], shard[256];
    snprintf(path, sizeof path, "%s/model.json", dir);
    snprintf(shard, sizeof shard, "%s/group1-shard1of1.bin", dir);
    fuzz_write_file(path, data, jlen);
    fuzz_write_file(shard, b, blen);
    tf_graph *g = NULL;
    enh_error e;
    enh_error_clear(&e);
    enh_status st = enh_tfjs_load_graph(path, &g, &e);
    fuzz_check_status("enh_tfjs_load_graph", st, &e);
    if (st != ENH_OK) {
        if (g)
            fuzz_fail("enh_tfjs_load_graph: a graph with a failure");
        return 0;
    }
    fuzz_accepted++;
    int c = g->in_channels > 0 && g->in_channels <= 8 ? g->in_channels : CIN;
    float in[8 * 8 * 8];
    for (int i = 0; i < 8 * 8 * c; i++)
        in[i] = (float)((i * 37) % 101) / 100.0f;
    /* weights mutated to huge or non-finite values overflow differently in the fused kernels
     * (FMA, double sums): such models are run, not compared */
    int tame = 1;
    for (int i = 0; i < g->n && tame; i++) {
        const tf_tensor *v = &g->nodes[i].value;
        for (size_t k = 0; v->data && v->dt == TF_F32 && k < tf_shape_count(&v->s) && tame; k++)
            tame = fabsf(((const float *)v->data)[k]) <= 1e3f;
    }
    float *outs[2] = {NULL, NULL};
    size_t nouts[2] = {0, 0};
    for (int fuse = 0; fuse < 2; fuse++) {
        tf_plan *p = NULL;
        enh_error_clear(&e);
        st = tf_plan_build_ex(g, 8, 8, c, fuse, &p, &e);
        fuzz_check_status("tf_plan_build_ex", st, &e);
        if (st != ENH_OK)
            continue;
        size_t n = tf_shape_count(&p->val[p->output].s);
        if (p->arena_bytes < ((size_t)32 << 20) && n < ((size_t)4 << 20)) {
            float *out = malloc((n ? n : 1) * sizeof *out);
            enh_error_clear(&e);
            st = tf_plan_run(p, in, out, n, NULL, NULL, &e);
            fuzz_check_status("tf_plan_run", st, &e);
            if (st == ENH_OK)
                outs[fuse] = out, nouts[fuse] = n, out = NULL;
            free(out);
        }
        tf_plan_free(p);
    }
    tf_graph_free(g);
    if (tame && outs[0] && outs[1] && nouts[0] == nouts[1]) {
        double md = 0, mb = 0;
        for (size_t i = 0; i < nouts[0]; i++)
            if (isfinite(outs[0][i]) && isfinite(outs[1][i]) && fabsf(outs[0][i]) < 1e30f) {
                md = fmax(md, fabs((double)outs[0][i] - outs[1][i]));
                mb = fmax(mb, fabs((double)outs[0][i]));
            }
        if (!(md <= 1e-4 * (mb > 1 ? mb : 1)))
            fuzz_fail("fused differs from reference by %g (largest value %g)", md, mb);
    }
    free(outs[0]);
    free(outs[1]);
    return 0;
}

/* ---- seeds */
static unsigned long long g_rs = 0x2545F4914F6CDD1Dull;
static float wv(void) /* a weight in [-0.5, 0.5) */
{
    g_rs ^= g_rs << 13, g_rs ^= g_rs >> 7, g_rs ^= g_rs << 17;
    return (float)(g_rs % 1000) / 1000.0f - 0.5f;
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

static const char *weights_enc(tfs_model *m, int rank, const int *dims, int f16)
{
    size_t n = tfs_count(rank, dims);
    unsigned char *q = malloc(2 * n);
    for (size_t i = 0; i < 2 * n; i++)
        q[i] = (unsigned char)(wv() * 255 + 128);
    for (size_t i = 1; f16 && i < 2 * n; i += 2)
        q[i] = (unsigned char)(0x30 | (q[i] & 0x83)); /* +-[0.125, 0.5) */
    const char *r = tfs_const_raw(m, NULL, "float32", rank, dims, q, f16 ? 2 * n : n,
                                  f16 ? "\"dtype\": \"float16\", \"original_dtype\": \"float32\""
                                      : "\"dtype\": \"uint8\", \"min\": -0.5, \"scale\": 0.00390625, "
                                        "\"original_dtype\": \"float32\"");
    free(q);
    return r;
}

static const char *bias(tfs_model *m, const char *x, int n) { return tfs_bin(m, "AddV2", x, weights(m, 1, &n)); }

/* conv (uint8 weights) -> LayerNorm -> Dense (float16) -> GELU -> Dense -> residual -> sigmoid gate */
static const char *build_dense(tfs_model *m)
{
    const char *x = tfs_input(m, CIN);
    const char *t0 = bias(m, tfs_conv(m, x, weights_enc(m, TFS_DIMS(3, 3, CIN, C), 0), "SAME", 1), C);
    int dc[1] = {C};
    const char *ln = tfs_layernorm(m, t0, C, weights(m, 1, dc), weights(m, 1, dc));
    const char *h = tfs_gelu(m, bias(m, tfs_einsum(m, "abcg,gf->abcf", ln, weights_enc(m, TFS_DIMS(C, 2 * C), 1)), 2 * C));
    const char *r1 = tfs_bin(m, "AddV2", bias(m, tfs_einsum(m, "abcg,gf->abcf", h, weights(m, TFS_DIMS(2 * C, C))), C), t0);
    const char *y = tfs_bin(m, "Mul", r1, tfs_sigmoid(m, bias(m, tfs_conv(m, r1, weights(m, TFS_DIMS(1, 1, C, C)), "VALID", 1), C)));
    return bias(m, tfs_conv(m, y, weights(m, TFS_DIMS(3, 3, C, CIN)), "SAME", 1), CIN);
}

/* 2x2 block partition (6-D reshape + transpose), a Dense over the block, channel slices, a
 * concat and a gather, a x2 resize, a strided conv and a transposed conv back to the input size */
static const char *build_blocks(tfs_model *m)
{
    const char *x = tfs_input(m, CIN);
    const char *r1 = bias(m, tfs_conv(m, x, weights(m, TFS_DIMS(3, 3, CIN, C)), "SAME", 1), C);
    const char *r2 = tfs_block_mix2(m, r1, C, weights(m, TFS_DIMS(4, 4)));
    const char *lo = tfs_sslice(m, TFS_TF, r2, TFS_VI(m, 0, 0), TFS_VI(m, 0, 2), TFS_VI(m, 1, 1), 0, 0, 1, 0, 0);
    const char *hi = tfs_sslice(m, TFS_TF, r2, TFS_VI(m, 0, 0), TFS_VI(m, 0, 1), TFS_VI(m, 1, -1), 2, 0, 1, 0, 0);
    const char *parts[2] = {hi, lo};
    const char *g = tfs_gather(m, tfs_concatv(m, TFS_TF, 2, parts, -1), TFS_VI(m, 3, 1, 0, 2), 3);
    const char *y = tfs_leaky(m, tfs_resize2(m, g), 0.2f); /* 1, 2H, 2W, C */
    y = bias(m, tfs_conv(m, y, weights(m, TFS_DIMS(3, 3, C, C)), "SAME", 2), C); /* 1, H, W, C */
    y = bias(m, tfs_conv(m, y, weights(m, TFS_DIMS(3, 3, C, C)), "SAME", 2), C); /* 1, H/2, W/2, C */
    const char *sx = tfs_shape(m, x);
    const char *p4[4] = {tfs_si(m, 1), tfs_elem(m, sx, 1), tfs_elem(m, sx, 2), tfs_si(m, CIN)};
    y = tfs_deconv(m, tfs_packv(m, TFS_TI, 0, 4, p4), weights(m, TFS_DIMS(2, 2, CIN, C)), y, "VALID", 2);
    return tfs_bin(m, "AddV2", bias(m, y, CIN), x);
}

static void emit_model(fuzz_emit_fn emit, void *ctx, const char *name, const char *(*build)(tfs_model *))
{
    tfs_model m;
    tfs_init(&m);
    const char *out = build(&m);
    char *json = tfs_json(&m, out, NULL);
    size_t n;
    void *d = fuzz_join(json, strlen(json), m.bin, m.blen, &n);
    emit(ctx, name, d, n);
    free(d);
    free(json);
    tfs_free(&m);
}

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    emit_model(emit, ctx, "dense.tfjs", build_dense);
    emit_model(emit, ctx, "blocks.tfjs", build_blocks);
}
