/* test_tfjs_block.c - a MAXIM-like block as a synthetic TF.js graph model (tfjs_synth.h): 3x3
 * conv + bias, Flax LayerNorm with its statistics reshaped by a shape built from Shape, Dense +
 * bias -> GELU, Dense + bias + residual, a block partition (reshape / transpose / Dense over
 * the block's pixels / back), a 1x1 conv gate with sigmoid, the jax resize Einsum pair with
 * matrices built from the input size (Range / FloorDiv / Equal / Cast), two stride-2 convs
 * with a leaky ReLU, a 2x2 transposed conv sized by Pack, and the global residual.
 * Fused (tf_plan_build) and reference (fuse 0) plans must agree on random input at three sizes
 * (max |diff| <= 1e-5 x max |y|), the fused plan must really be fused, and
 * enh_tf_model_run must pad an odd size to the multiple and crop it back, also from several
 * threads at once with more sizes than the model keeps specialisations for. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check.h"
#include "nn/tf_plan.h"
#include "nn/tfjs.h"
#include "nn/tfjs_load.h"
#include "nn_util.h"
#include "tfjs_synth.h"

enum { CIN = 3, C = 8, BLK = 4 };

static const char *rnd_const(tfs_model *m, int rank, const int *dims, float scale)
{
    size_t n = tfs_count(rank, dims);
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = nn_rand() * scale;
    const char *r = tfs_cf(m, rank, dims, v);
    free(v);
    return r;
}

static const char *bias_add(tfs_model *m, const char *x, int n)
{
    return tfs_bin(m, "AddV2", x, rnd_const(m, 1, &n, 0.1f));
}

static const char *conv_b(tfs_model *m, const char *x, int k, int cin, int cout, int stride)
{
    int d[4] = {k, k, cin, cout};
    return bias_add(m, tfs_conv(m, x, rnd_const(m, 4, d, 1.2f / sqrtf((float)(k * k * cin))), "SAME", stride), cout);
}

static const char *dense_b(tfs_model *m, const char *x, int cin, int cout)
{
    int d[2] = {cin, cout};
    return bias_add(m, tfs_einsum(m, "abcg,gf->abcf", x, rnd_const(m, 2, d, 1.2f / sqrtf((float)cin))), cout);
}

static const char *layernorm(tfs_model *m, const char *x, int c)
{
    int d[1] = {c};
    return tfs_layernorm(m, x, c, rnd_const(m, 1, d, 1.0f), rnd_const(m, 1, d, 0.1f));
}

/* Block partition of x [1, H, W, C] into BLK x BLK blocks, a Dense over each block's pixels,
 * and back; the shapes come from Shape(x) / FloorDiv. */
static const char *block_mix(tfs_model *m, const char *x)
{
    const char *s = tfs_shape(m, x), *b = tfs_si(m, BLK);
    const char *gh = tfs_bini(m, "FloorDiv", tfs_elem(m, s, 1), b), *gw = tfs_bini(m, "FloorDiv", tfs_elem(m, s, 2), b);
    const char *p6[6] = {tfs_si(m, 1), gh, b, gw, b, tfs_si(m, C)};
    const char *y = tfs_reshape(m, x, tfs_packv(m, TFS_TI, 0, 6, p6));
    y = TFS_TRANSPOSE(m, y, 0, 1, 3, 2, 4, 5); /* 1, gh, gw, b, b, C */
    const char *p4[4] = {tfs_si(m, 1), tfs_bini(m, "Mul", gh, gw), tfs_si(m, BLK * BLK), tfs_si(m, C)};
    y = tfs_reshape(m, y, tfs_packv(m, TFS_TI, 0, 4, p4));
    y = TFS_TRANSPOSE(m, y, 0, 1, 3, 2); /* 1, blocks, C, pixels */
    y = dense_b(m, y, BLK * BLK, BLK * BLK);
    y = TFS_TRANSPOSE(m, y, 0, 1, 3, 2);
    const char *q6[6] = {tfs_si(m, 1), gh, gw, b, b, tfs_si(m, C)};
    y = tfs_reshape(m, y, tfs_packv(m, TFS_TI, 0, 6, q6));
    y = TFS_TRANSPOSE(m, y, 0, 1, 3, 2, 4, 5);
    const char *p4b[4] = {tfs_si(m, 1), tfs_elem(m, s, 1), tfs_elem(m, s, 2), tfs_si(m, C)};
    return tfs_bin(m, "AddV2", x, tfs_reshape(m, y, tfs_packv(m, TFS_TI, 0, 4, p4b)));
}

static const char *build(tfs_model *m)
{
    const char *x = tfs_input(m, CIN);
    const char *t0 = conv_b(m, x, 3, CIN, C, 1);
    const char *h = tfs_gelu(m, dense_b(m, layernorm(m, t0, C), C, 2 * C));
    const char *r1 = tfs_bin(m, "AddV2", dense_b(m, h, 2 * C, C), t0); /* residual: into the epilogue */
    const char *r2 = block_mix(m, r1);
    const char *y = tfs_bin(m, "Mul", r2, tfs_sigmoid(m, conv_b(m, r2, 1, C, C, 1)));
    y = tfs_resize2(m, y);                                                      /* 1, 2H, 2W, C */
    y = tfs_leaky(m, conv_b(m, y, 3, C, C, 2), 0.2f);                           /* 1, H, W, C */
    y = conv_b(m, y, 3, C, C, 2);                                               /* 1, H/2, W/2, C */
    const char *sx = tfs_shape(m, x);
    const char *p4[4] = {tfs_si(m, 1), tfs_elem(m, sx, 1), tfs_elem(m, sx, 2), tfs_si(m, CIN)};
    int fd[4] = {2, 2, CIN, C};
    y = tfs_deconv(m, tfs_packv(m, TFS_TI, 0, 4, p4), rnd_const(m, 4, fd, 0.3f), y, "VALID", 2);
    return tfs_bin(m, "AddV2", bias_add(m, y, CIN), x);
}

static float *run_plan(const tf_graph *g, int h, int w, int fuse, const float *in, size_t *n, int *kinds, int *acts,
                       int *residuals)
{
    tf_plan *p = NULL;
    enh_error err = {0};
    enh_status st = tf_plan_build_ex(g, h, w, CIN, fuse, &p, &err);
    CHECK_MSG(st == ENH_OK, "plan %dx%d fuse %d: %s", w, h, fuse, err.msg);
    if (st != ENH_OK)
        return NULL;
    *n = tf_shape_count(&p->val[p->output].s);
    CHECK(*n == (size_t)h * w * CIN);
    for (int s = 0; kinds && s < p->nsteps; s++) {
        const tf_step *t = &p->steps[s];
        kinds[t->kind]++;
        if (t->kind == TFS_DENSE || t->kind == TFS_CONV) {
            acts[t->act]++;
            *residuals += t->residual >= 0;
        }
        if (t->kind == TFS_REF) {
            tf_opk op = g->nodes[t->node].op;
            CHECK_MSG(op != TFOP_CONV2D && op != TFOP_EINSUM && op != TFOP_DECONV2D && op != TFOP_SUM,
                      "%s left as a reference step", tf_op_name(op));
        }
    }
    float *out = malloc(*n * sizeof *out);
    st = tf_plan_run(p, in, out, *n, enh_pool_default(), NULL, &err);
    CHECK_MSG(st == ENH_OK, "run: %s", err.msg);
    tf_plan_free(p);
    return out;
}

/* max |a - b| / max |b| */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)a[i] - b[i]));
        mb = fmax(mb, fabs((double)b[i]));
    }
    return md / (mb > 0 ? mb : 1);
}

/* ---- concurrent runs: each thread runs its own size a few times on one shared model */
enum { NSIZES = 6 };
static const int tsize[NSIZES][2] = {{8, 8}, {12, 8}, {16, 16}, {8, 20}, {20, 12}, {24, 8}};

typedef struct {
    enh_tf_model *m;
    const float *in, *expect;
    int h, w, bad;
} thread_job;

static void *thread_run(void *arg)
{
    thread_job *j = arg;
    size_t n = (size_t)j->h * j->w * CIN;
    float *out = malloc(n * sizeof *out);
    for (int rep = 0; rep < 3; rep++) {
        enh_error err;
        if (enh_tf_model_run(j->m, j->in, j->h, j->w, 4, out, NULL, &err) != ENH_OK || rel_diff(out, j->expect, n) > 1e-6)
            j->bad++;
    }
    free(out);
    return NULL;
}

static void test_threads(enh_tf_model *m)
{
    float *in[NSIZES], *expect[NSIZES];
    thread_job jobs[NSIZES];
    pthread_t th[NSIZES];
    for (int k = 0; k < NSIZES; k++) { /* references one at a time (the first 4 sizes stay cached) */
        size_t n = (size_t)tsize[k][0] * tsize[k][1] * CIN;
        in[k] = nn_rand_buf(n, 1.0f);
        expect[k] = malloc(n * sizeof *expect[k]);
        enh_error err;
        CHECK(enh_tf_model_run(m, in[k], tsize[k][0], tsize[k][1], 4, expect[k], NULL, &err) == ENH_OK);
        jobs[k] = (thread_job){m, in[k], expect[k], tsize[k][0], tsize[k][1], 0};
    }
    for (int k = 0; k < NSIZES; k++)
        CHECK(pthread_create(&th[k], NULL, thread_run, &jobs[k]) == 0);
    for (int k = 0; k < NSIZES; k++) {
        pthread_join(th[k], NULL);
        CHECK_MSG(jobs[k].bad == 0, "%dx%d: %d of 3 concurrent runs failed or differed", tsize[k][1], tsize[k][0],
                  jobs[k].bad);
        enh_free(in[k]);
        free(expect[k]);
    }
}

int main(void)
{
    char dir[] = "/tmp/enh-tfjs-block-XXXXXX", path[4096];
    CHECK(mkdtemp(dir) != NULL);
    nn_seed(12345);
    tfs_model m;
    tfs_init(&m);
    m.shard_bytes = 4096;
    const char *out = build(&m);
    CHECK(tfs_write(&m, dir, out, path, sizeof path) == 0);
    int nodes = m.nnodes + 1;
    tfs_free(&m);

    tf_graph *g = NULL;
    enh_error err = {0};
    enh_status st = enh_tfjs_load_graph(path, &g, &err);
    CHECK_MSG(st == ENH_OK, "%s", err.msg);
    if (st != ENH_OK)
        CHECK_MAIN_END();
    /* the third size is large enough for the kernels to split work over the pool */
    static const int sizes[3][2] = {{8, 12}, {16, 8}, {64, 48}};
    for (int k = 0; k < 3; k++) {
        int h = sizes[k][0], w = sizes[k][1];
        float *in = nn_rand_buf((size_t)h * w * CIN, 1.0f);
        size_t n0 = 0, n1 = 0;
        int kinds[TFS_DEAD + 1] = {0}, acts[8] = {0}, residuals = 0;
        float *ref = run_plan(g, h, w, 0, in, &n0, NULL, NULL, NULL);
        float *fast = run_plan(g, h, w, 1, in, &n1, kinds, acts, &residuals);
        if (ref && fast && n0 == n1) {
            double d = rel_diff(fast, ref, n0);
            printf("%dx%d: fused vs reference max rel diff %.3g; steps: %d conv, %d dense, %d deconv, %d axismix, "
                   "%d layernorm, %d reduce, %d ew, %d ref, %d view\n", w, h, d, kinds[TFS_CONV], kinds[TFS_DENSE],
                   kinds[TFS_DECONV], kinds[TFS_AXISMIX], kinds[TFS_LAYERNORM], kinds[TFS_REDUCE], kinds[TFS_EW], kinds[TFS_REF],
                   kinds[TFS_VIEW]);
            CHECK_MSG(d <= 1e-5, "%dx%d: max rel diff %g", w, h, d);
        }
        /* 3x3 + 2 stride-2 3x3; 2 Dense + block Dense + 1x1 conv; LayerNorm's two sums */
        CHECK(kinds[TFS_CONV] == 3 && kinds[TFS_DENSE] == 4 && kinds[TFS_DECONV] == 1 && kinds[TFS_AXISMIX] == 2);
        CHECK(kinds[TFS_LAYERNORM] == 1 || kinds[TFS_REDUCE] == 2);
        CHECK_MSG(acts[ENH_GEMM_ACT_GELU_TANH] == 1 && acts[ENH_GEMM_ACT_LEAKY] == 1 && residuals == 1,
                  "epilogues: %d gelu, %d leaky, %d residual", acts[ENH_GEMM_ACT_GELU_TANH], acts[ENH_GEMM_ACT_LEAKY],
                  residuals);
        enh_free(in);
        free(ref);
        free(fast);
    }

    /* the public API: info, and an odd size padded to a multiple of 8 and cropped back */
    enh_tf_model *tm = NULL;
    st = enh_tf_model_load(path, &tm, &err);
    CHECK_MSG(st == ENH_OK, "%s", err.msg);
    if (tm) {
        const enh_tf_model_info *info = enh_tf_model_get_info(tm);
        CHECK(info->in_channels == CIN && info->out_channels == CIN && info->scale == 1 && info->nodes == nodes);
        CHECK(info->weight_bytes > 4000);
        int h = 13, w = 10, ph = 16, pw = 16;
        float *in = nn_rand_buf((size_t)h * w * CIN, 1.0f), *got = malloc((size_t)h * w * CIN * sizeof *got);
        float *pad = calloc((size_t)ph * pw * CIN, sizeof *pad);
        for (int y = 0; y < h; y++)
            memcpy(pad + (size_t)y * pw * CIN, in + (size_t)y * w * CIN, (size_t)w * CIN * sizeof *in);
        st = enh_tf_model_run(tm, in, h, w, 8, got, NULL, &err);
        CHECK_MSG(st == ENH_OK, "%s", err.msg);
        CHECK(enh_tf_model_peak_bytes(tm, ph, pw) > 0);
        size_t n = 0;
        float *ref = run_plan(g, ph, pw, 0, pad, &n, NULL, NULL, NULL);
        if (st == ENH_OK && ref) {
            float *crop = malloc((size_t)h * w * CIN * sizeof *crop);
            for (int y = 0; y < h; y++)
                memcpy(crop + (size_t)y * w * CIN, ref + (size_t)y * pw * CIN, (size_t)w * CIN * sizeof *crop);
            double d = rel_diff(got, crop, (size_t)h * w * CIN);
            printf("%dx%d padded to %dx%d: max rel diff %.3g\n", w, h, pw, ph, d);
            CHECK_MSG(d <= 1e-5, "padded run: max rel diff %g", d);
            free(crop);
        }
        /* without the multiple the block partition cannot split 13 rows: a clean error */
        st = enh_tf_model_run(tm, in, h, w, 1, got, NULL, &err);
        CHECK_MSG(st != ENH_OK && err.msg[0], "odd size without padding: %d", st);
        enh_free(in);
        free(got), free(pad), free(ref);
        test_threads(tm);
        enh_tf_model_free(tm);
    }
    tf_graph_free(g);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    CHECK_MAIN_END();
}
