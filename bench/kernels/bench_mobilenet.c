/* bench_mobilenet.c - a MobileNetV2 1.0 (224x224, the nsfwjs classifier's backbone and head)
 * built in our graph IR with random weights, BatchNorm folded into the convs' biases, ReLU6 as
 * separate Clip(0, 6) nodes and the residual Adds as Binary adds (what a loader produces; the
 * load-time fusion folds them), run through the executor; and the same layers one by one, to
 * see where the time goes by layer kind.
 *   bench_mobilenet [--threads N] [--runs R] [--size S] [--layers] [--verbose] [--clip-pass]
 *                   [--median] [--dw] [--algo gemm|auto] [--kernels K]
 * Whole model: median / min wall ms and process CPU ms per image over R runs after 2 warm-ups
 * (process CPU counts the pool's spinning between layers when threads > 1).
 * --layers: each layer alone on the same pool (min of R runs, --median: the median, its input and weights already
 * in cache after the warm-up, so the sum flatters the model a little), summed per kind, in
 * the form the fused executor runs it (conv + its activation + a fused residual add).
 * --verbose: also each layer. --clip-pass: the layer runs time ReLU6 as a pass of its own after
 * the conv, as the executor did before Clip moved into the conv epilogue.
 * --dw: each depthwise layer alone through the reference kernel, the grouped im2col+GEMM path and
 * the depthwise kernel of each ISA (min of R runs, GFLOP/s).
 * --algo gemm: convs on im2col+GEMM only, as before the depthwise kernel (the grouped path).
 * Layer inventory: /work/shared/peers/nsfwjs/README.md (MobileNetV2 layers model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/pool.h"
#include "nn/conv.h"
#include "nn/conv_fast.h"
#include "nn/graph.h"
#include "nn/model.h"
#include "nn/ops_par.h"
#include "nn/ops_ref.h"

enum { K_CONV0, K_EXPAND, K_DW1, K_DW2, K_PROJECT, K_HEAD1X1, K_POOL, K_FC, K_CLIP, K_ADD, K_NKIND };
static const char *kind_name[K_NKIND] = {"conv0 3x3/2 3->32", "1x1 expand", "dw 3x3/1", "dw 3x3/2",
                                         "1x1 project(+add)", "1x1 320->1280", "avgpool 7x7", "dense x3",
                                         "clip pass", "residual add"};

static unsigned g_seed = 1234567u;
static float frand(void)
{
    g_seed = g_seed * 1664525u + 1013904223u;
    return (float)((g_seed >> 8) * (1.0 / 8388608.0)) - 1.0f;
}
static float *randv(size_t n, float sc)
{
    float *p = enh_alloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand() * sc;
    return p;
}

static double now_ms(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- the graph */
typedef struct {
    enh_graph *g;
    int c, h, w; /* shape of the last tensor */
} builder;

static int node(builder *b, enh_op op, const char *name, int nin, const int *ins, enh_node **out)
{
    enh_node *n = enh_graph_add(b->g, op, name, nin);
    if (!n) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (int k = 0; k < nin; k++)
        n->in[k] = ins[k];
    n->out = b->g->ntensors++;
    *out = n;
    return n->out;
}

/* conv (BN folded: with bias) + ReLU6 as its own Clip node when relu6 */
static int conv(builder *b, int in, int cout, int k, int s, int groups, int relu6, const char *name)
{
    enh_node *n;
    int cin = b->c, t = node(b, ENH_OP_CONV, name, 1, &in, &n);
    n->p.conv.cin = cin, n->p.conv.cout = cout, n->p.conv.kh = n->p.conv.kw = k;
    n->p.conv.sh = n->p.conv.sw = s, n->p.conv.dh = n->p.conv.dw = 1, n->p.conv.groups = groups;
    if (k == 3 && s == 1)
        n->p.conv.pt = n->p.conv.pl = n->p.conv.pb = n->p.conv.pr = 1;
    else if (k == 3) /* ZeroPadding2D((0,1),(0,1)) + valid */
        n->p.conv.pb = n->p.conv.pr = 1;
    size_t nw = (size_t)cout * (cin / groups) * k * k;
    n->p.conv.weight = randv(nw, 2.0f / (float)(cin / groups * k * k));
    n->p.conv.bias = randv((size_t)cout, 0.2f);
    b->c = cout;
    b->h = (b->h + n->p.conv.pt + n->p.conv.pb - k) / s + 1;
    b->w = (b->w + n->p.conv.pl + n->p.conv.pr - k) / s + 1;
    if (!relu6)
        return t;
    char nm[64];
    snprintf(nm, sizeof nm, "%s_relu6", name);
    t = node(b, ENH_OP_ACT, nm, 1, &t, &n);
    n->act.kind = ENH_NACT_CLIP, n->act.a = 0.0f, n->act.b = 6.0f;
    return t;
}

static int dense(builder *b, int in, int nout, int relu, const char *name)
{
    enh_node *n;
    int t = node(b, ENH_OP_INNERPRODUCT, name, 1, &in, &n);
    int nin = b->c * b->h * b->w;
    n->p.fc.num_output = nout, n->p.fc.in_size = nin;
    n->p.fc.weight = randv((size_t)nout * nin, 2.0f / (float)nin);
    n->p.fc.bias = randv((size_t)nout, 0.1f);
    n->act.kind = relu ? ENH_NACT_RELU : ENH_NACT_NONE;
    b->c = nout, b->h = b->w = 1;
    return t;
}

static enh_graph *mobilenet_v2(int size)
{
    builder b = {enh_graph_new(), 3, size, size};
    g_seed = 1234567u; /* the same weights every time */
    enh_node *n;
    int t = node(&b, ENH_OP_INPUT, "input_1", 0, NULL, &n);
    b.g->input = t;
    b.g->in_channels = 3;
    t = conv(&b, t, 32, 3, 2, 1, 1, "Conv1");
    t = conv(&b, t, 32, 3, 1, 32, 1, "expanded_conv_depthwise");
    t = conv(&b, t, 16, 1, 1, 1, 0, "expanded_conv_project");
    static const int cfg[][4] = {{6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1},
                                 {6, 160, 3, 2}, {6, 320, 1, 1}};
    int blk = 1;
    for (int s = 0; s < 6; s++)
        for (int r = 0; r < cfg[s][2]; r++, blk++) {
            int cin = b.c, stride = r == 0 ? cfg[s][3] : 1, x = t;
            char nm[64];
            snprintf(nm, sizeof nm, "block_%d_expand", blk);
            t = conv(&b, t, cin * cfg[s][0], 1, 1, 1, 1, nm);
            snprintf(nm, sizeof nm, "block_%d_depthwise", blk);
            t = conv(&b, t, b.c, 3, stride, b.c, 1, nm);
            snprintf(nm, sizeof nm, "block_%d_project", blk);
            t = conv(&b, t, cfg[s][1], 1, 1, 1, 0, nm);
            if (stride == 1 && cin == cfg[s][1]) {
                int ins[2] = {x, t};
                snprintf(nm, sizeof nm, "block_%d_add", blk);
                t = node(&b, ENH_OP_BINARY, nm, 2, ins, &n);
                n->p.bin.op = ENH_BIN_ADD;
            }
        }
    t = conv(&b, t, 1280, 1, 1, 1, 1, "Conv_1");
    t = node(&b, ENH_OP_POOL, "average_pooling2d_1", 1, &t, &n);
    n->p.pool.kh = n->p.pool.kw = n->p.pool.sh = n->p.pool.sw = 7;
    n->p.pool.pad_mode = 1;
    b.h = (b.h - 7) / 7 + 1, b.w = (b.w - 7) / 7 + 1;
    t = dense(&b, t, 256, 1, "dense_1");
    t = dense(&b, t, 128, 1, "dense_2");
    t = dense(&b, t, 5, 0, "dense_3");
    b.g->output = t;
    b.g->fixed_h = b.g->fixed_w = size; /* a classifier: shapes probed at this size (the fusions) */
    return b.g;
}

/* conv and dense FLOPs (2 * MAC) of one image */
static double graph_flops(const enh_graph *g, int size)
{
    enh_shape *sh = calloc((size_t)g->ntensors, sizeof *sh);
    double f = 0;
    if (enh_graph_infer_shapes(g, 3, size, size, sh, NULL) == ENH_OK)
        for (int i = 0; i < g->nnodes; i++) {
            const enh_node *n = &g->nodes[i];
            const enh_shape *o = &sh[n->out];
            if (n->op == ENH_OP_CONV)
                f += 2.0 * o->c * o->h * o->w * (n->p.conv.cin / n->p.conv.groups) * n->p.conv.kh * n->p.conv.kw;
            else if (n->op == ENH_OP_INNERPRODUCT)
                f += 2.0 * n->p.fc.num_output * n->p.fc.in_size;
        }
    free(sh);
    return f;
}

/* ---- layers alone */
static int conv_kind(const enh_node *n, int first)
{
    if (first)
        return K_CONV0;
    if (n->p.conv.groups > 1)
        return n->p.conv.sh == 1 ? K_DW1 : K_DW2;
    if (n->p.conv.cout == 1280)
        return K_HEAD1X1;
    return n->act.kind == ENH_NACT_NONE ? K_PROJECT : K_EXPAND;
}

/* one thread: process CPU time (the machine is shared; the pool's only thread is this one);
 * more: wall time */
static clockid_t g_clock = CLOCK_MONOTONIC;
static int g_clip_pass, g_verbose, g_median;

static double median_ms(int runs, void (*fn)(void *), void *ctx)
{
    double *t = malloc((size_t)runs * sizeof *t);
    fn(ctx);
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms(g_clock);
        fn(ctx);
        t[r] = now_ms(g_clock) - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    double m = t[g_median ? runs / 2 : 0]; /* min by default: on a shared machine the rest is others */
    free(t);
    return m;
}

typedef struct {
    const enh_conv_plan *plan;
    const enh_node *nd;
    const float *in, *res;
    float *out;
    enh_shape si, so;
    enh_pool *pool;
    int clip_pass;
} layer_run;

static void run_conv(void *v)
{
    layer_run *l = v;
    enh_conv_plan_run(l->plan, l->in, 1, l->si.h, l->si.w, l->out, l->res, l->pool);
    if (l->clip_pass)
        enh_act_ref(&l->nd->act, l->out, 1, l->so.c, (size_t)l->so.h * l->so.w, l->pool);
}
static void run_clip(void *v)
{
    layer_run *l = v;
    enh_act_ref(&l->nd->act, l->out, 1, l->so.c, (size_t)l->so.h * l->so.w, l->pool);
}
static void run_pool(void *v)
{
    layer_run *l = v;
    enh_pool2d_ref(l->nd, l->in, 1, l->si, l->so, l->out, l->pool);
}
static void run_add(void *v)
{
    layer_run *l = v;
    enh_binary(ENH_BIN_ADD, l->in, l->si, l->res, l->si, 0.0f, 1, l->so, l->out, l->pool);
}
static void run_fc(void *v)
{
    layer_run *l = v;
    enh_fc_ref(l->nd, l->in, 1, l->out);
}

/* g: the fused graph with its weights (a copy made before the model took its own) */
static void profile_layers(enh_graph *g, const enh_nn_options *opt, int size, int runs, enh_pool *pool)
{
    enh_shape *sh = calloc((size_t)g->ntensors, sizeof *sh);
    enh_error err;
    if (enh_graph_infer_shapes(g, 3, size, size, sh, &err) != ENH_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(2);
    }
    double ms[K_NKIND] = {0}, fl[K_NKIND] = {0};
    int cnt[K_NKIND] = {0};
    char kern[K_NKIND][48] = {{0}};
    int first = 1;
    size_t big = 0;
    for (int t = 0; t < g->ntensors; t++)
        if ((size_t)sh[t].c * sh[t].h * sh[t].w > big)
            big = (size_t)sh[t].c * sh[t].h * sh[t].w;
    float *in = randv(big, 1.0f), *res = randv(big, 1.0f), *out = enh_alloc(big * sizeof *out);
    for (int i = 0; i < g->nnodes; i++) {
        enh_node *nd = &g->nodes[i];
        layer_run l = {.nd = nd, .in = in, .out = out, .pool = pool};
        if (nd->nin)
            l.si = sh[nd->in[0]];
        l.so = sh[nd->out];
        int k = -1;
        double f = 0, t = 0;
        if (nd->op == ENH_OP_CONV) {
            enh_conv_params p = {.cin = nd->p.conv.cin, .cout = nd->p.conv.cout, .kh = nd->p.conv.kh,
                                 .kw = nd->p.conv.kw, .stride_h = nd->p.conv.sh, .stride_w = nd->p.conv.sw,
                                 .dil_h = 1, .dil_w = 1, .pad_top = nd->p.conv.pt, .pad_left = nd->p.conv.pl,
                                 .pad_bottom = nd->p.conv.pb, .pad_right = nd->p.conv.pr,
                                 .groups = nd->p.conv.groups, .weight = nd->p.conv.weight, .bias = nd->p.conv.bias};
            if (nd->act.kind == ENH_NACT_CLIP && !g_clip_pass) {
                p.act = ENH_ACT_CLIP;
                p.clip_lo = nd->act.a, p.clip_hi = nd->act.b;
            }
            l.clip_pass = nd->act.kind == ENH_NACT_CLIP && g_clip_pass;
            enh_conv_plan *plan;
            if (enh_conv_plan_create_ex(&p, opt, &plan, &err) != ENH_OK) {
                fprintf(stderr, "%s: %s\n", nd->name, err.msg);
                exit(2);
            }
            l.plan = plan;
            l.res = nd->nin > 1 ? res : NULL;
            k = conv_kind(nd, first);
            first = 0;
            f = 2.0 * l.so.c * l.so.h * l.so.w * (p.cin / p.groups) * p.kh * p.kw;
            snprintf(kern[k], sizeof kern[k], "%s", enh_conv_plan_kernel(plan));
            t = median_ms(runs, run_conv, &l);
            if (l.clip_pass) { /* the executor's separate pass: its share by itself */
                double tc = median_ms(runs, run_clip, &l);
                t -= tc;
                ms[K_CLIP] += tc, cnt[K_CLIP]++;
            }
            enh_conv_plan_free(plan);
        } else if (nd->op == ENH_OP_POOL) {
            k = K_POOL, t = median_ms(runs, run_pool, &l);
        } else if (nd->op == ENH_OP_INNERPRODUCT) {
            k = K_FC, f = 2.0 * nd->p.fc.num_output * nd->p.fc.in_size, t = median_ms(runs, run_fc, &l);
        } else if (nd->op == ENH_OP_BINARY) {
            l.res = res;
            k = K_ADD, t = median_ms(runs, run_add, &l);
        } else if (nd->op == ENH_OP_ACT) {
            k = K_CLIP, t = median_ms(runs, run_clip, &l);
        } else if (nd->op != ENH_OP_INPUT) {
            printf("  (not timed: %s %s)\n", enh_op_name(nd->op), nd->name);
        }
        if (k >= 0)
            ms[k] += t, fl[k] += f, cnt[k]++;
        if (g_verbose && k >= 0)
            printf("  %-28s %4dx%-4d %4d->%-4d %8.3f ms %7.1f GFLOP/s\n", nd->name, l.so.h, l.so.w, l.si.c, l.so.c,
                   t, f > 0 && t > 0 ? f / t / 1e6 : 0.0);
    }
    double total = 0;
    for (int k = 0; k < K_NKIND; k++)
        total += ms[k];
    printf("%-20s %6s %9s %6s %8s  %s\n", "layer kind", "count",
           g_clock == CLOCK_MONOTONIC ? "wall ms" : "cpu ms", "share", "GFLOP/s", "kernel");
    for (int k = 0; k < K_NKIND; k++)
        if (cnt[k])
            printf("%-20s %6d %9.3f %5.1f%% %8.1f  %s\n", kind_name[k], cnt[k], ms[k], 100 * ms[k] / total,
                   fl[k] > 0 && ms[k] > 0 ? fl[k] / ms[k] / 1e6 : 0.0, kern[k]);
    printf("%-20s %6s %9.3f\n", "sum", "", total);
    enh_free(in), enh_free(res), enh_free(out);
    free(sh);
}

/* --dw: each depthwise layer of the model through the reference kernel, the grouped
 * im2col+GEMM path (what depthwise convs ran on before) and the depthwise kernel per ISA:
 * min of R runs (CPU time with 1 thread), GFLOP/s. */
static void dw_paths(int size, int runs, enh_pool *pool)
{
    enh_graph *g = mobilenet_v2(size);
    enh_shape *sh = calloc((size_t)g->ntensors, sizeof *sh);
    enh_graph_infer_shapes(g, 3, size, size, sh, NULL);
    static const struct { enh_isa isa; enh_conv_algo algo; const char *label; } paths[] = {
        {ENH_ISA_REF, ENH_ALGO_AUTO, "ref"},       {ENH_ISA_AUTO, ENH_ALGO_GEMM, "grouped-gemm"},
        {ENH_ISA_PORTABLE, ENH_ALGO_AUTO, "dw"},   {ENH_ISA_AVX2, ENH_ALGO_AUTO, "dw"},
    };
    const int np = sizeof paths / sizeof paths[0];
    double tot[8] = {0}, ftot = 0;
    printf("%-24s %9s", "depthwise layer", "shape");
    for (int k = 0; k < np; k++)
        printf(" %14s", paths[k].label);
    printf("   (GFLOP/s, min of %d)\n", runs);
    for (int i = 0; i < g->nnodes; i++) {
        const enh_node *nd = &g->nodes[i];
        if (nd->op != ENH_OP_CONV || nd->p.conv.groups == 1)
            continue;
        enh_shape si = sh[nd->in[0]], so = sh[nd->out];
        enh_conv_params p = {.cin = si.c, .cout = so.c, .kh = 3, .kw = 3, .stride_h = nd->p.conv.sh,
                             .stride_w = nd->p.conv.sw, .dil_h = 1, .dil_w = 1, .pad_top = nd->p.conv.pt,
                             .pad_left = nd->p.conv.pl, .pad_bottom = nd->p.conv.pb, .pad_right = nd->p.conv.pr,
                             .groups = si.c, .act = ENH_ACT_CLIP, .clip_lo = 0, .clip_hi = 6,
                             .weight = nd->p.conv.weight, .bias = nd->p.conv.bias};
        float *x = randv((size_t)si.c * si.h * si.w, 1.0f), *y = enh_alloc((size_t)so.c * so.h * so.w * 4);
        double f = 2.0 * so.c * so.h * so.w * 9;
        ftot += f;
        char shp[32];
        snprintf(shp, sizeof shp, "%dx%dx%d/%d", si.c, si.h, si.w, p.stride_h);
        printf("%-24s %9s", nd->name, shp);
        for (int k = 0; k < np; k++) {
            enh_conv_plan *plan;
            enh_error err;
            if (!enh_cpu_isa_supported(paths[k].isa) ||
                enh_conv_plan_create_forced(&p, paths[k].isa, paths[k].algo, &plan, &err) != ENH_OK) {
                printf(" %14s", "-");
                continue;
            }
            double best = 1e30;
            enh_conv_plan_run(plan, x, 1, si.h, si.w, y, NULL, pool);
            for (int r = 0; r < runs; r++) {
                double t0 = now_ms(g_clock);
                enh_conv_plan_run(plan, x, 1, si.h, si.w, y, NULL, pool);
                double t = now_ms(g_clock) - t0;
                best = t < best ? t : best;
            }
            tot[k] += best;
            char lab[32];
            snprintf(lab, sizeof lab, "%.1f", f / best / 1e6);
            printf(" %14s", lab);
            enh_conv_plan_free(plan);
        }
        printf("\n");
        enh_free(x), enh_free(y);
    }
    printf("%-24s %9s", "all 17: ms", "");
    for (int k = 0; k < np; k++)
        printf(" %14.3f", tot[k]);
    printf("\n%-24s %9s", "all 17: GFLOP/s", "");
    for (int k = 0; k < np; k++)
        printf(" %14.1f", tot[k] > 0 ? ftot / tot[k] / 1e6 : 0.0);
    printf("\n");
    free(sh);
    enh_graph_free(g);
}

int main(int argc, char **argv)
{
    int threads = 1, runs = 20, size = 224, layers = 0, dw = 0;
    enh_nn_options opt = *enh_nn_options_default();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--layers")) layers = 1;
        else if (!strcmp(argv[i], "--verbose")) layers = g_verbose = 1;
        else if (!strcmp(argv[i], "--clip-pass")) g_clip_pass = 1;
        else if (!strcmp(argv[i], "--dw")) dw = 1;
        else if (!strcmp(argv[i], "--median")) g_median = 1;
        else if (!strcmp(argv[i], "--algo") && i + 1 < argc) {
            if (enh_conv_algo_parse(argv[++i], &opt.conv_algo)) {
                fprintf(stderr, "unknown --algo\n");
                return 1;
            }
        } else if (!strcmp(argv[i], "--kernels") && i + 1 < argc) {
            if (enh_isa_parse(argv[++i], &opt.kernels)) {
                fprintf(stderr, "unknown --kernels\n");
                return 1;
            }
        } else {
            fprintf(stderr, "usage: bench_mobilenet [--threads N] [--runs R] [--size S] [--layers] "
                            "[--verbose] [--clip-pass] [--median] [--dw] [--algo gemm|auto] [--kernels ref|portable|avx2|avx512|auto]\n");
            return 1;
        }
    }
    if (runs < 1)
        runs = 1;
    enh_pool *pool = enh_pool_create(threads);
    if (threads == 1)
        g_clock = CLOCK_PROCESS_CPUTIME_ID;
    if (dw) {
        dw_paths(size, runs, pool);
        enh_pool_destroy(pool);
        return 0;
    }
    enh_error err;
    enh_graph *g = mobilenet_v2(size);
    const double flops = graph_flops(g, size);
    enh_model *m;
    double t0 = now_ms(CLOCK_MONOTONIC);
    if (enh_model_from_graph_ex(g, &opt, &m, &err) != ENH_OK) {
        fprintf(stderr, "build: %s\n", err.msg);
        return 2;
    }
    double tload = now_ms(CLOCK_MONOTONIC) - t0;
    int oc, oh, ow;
    enh_model_output_size(m, size, size, &oc, &oh, &ow);
    float *x = randv((size_t)3 * size * size, 1.0f), *y = enh_alloc((size_t)oc * oh * ow * sizeof *y);
    for (int i = 0; i < 3 * size * size; i++)
        x[i] = x[i] * 0.5f + 0.5f;
    double *wall = malloc((size_t)runs * sizeof *wall), *cpu = malloc((size_t)runs * sizeof *cpu);
    for (int r = -2; r < runs; r++) {
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (enh_model_run_graph(m, x, 1, size, size, y, pool, &err) != ENH_OK) {
            fprintf(stderr, "run: %s\n", err.msg);
            return 2;
        }
        if (r >= 0) {
            wall[r] = now_ms(CLOCK_MONOTONIC) - w0;
            cpu[r] = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
        }
    }
    qsort(wall, (size_t)runs, sizeof *wall, cmp_d);
    qsort(cpu, (size_t)runs, sizeof *cpu, cmp_d);
    const enh_model_info *info = enh_model_get_info(m);
    printf("MobileNetV2 %dx%d, %d thread(s), kernels=%s algo=%s: %d nodes after fusion, %d convs, load %.0f ms\n",
           size, size, threads, enh_isa_name(opt.kernels), enh_conv_algo_name(opt.conv_algo),
           enh_model_graph(m)->nnodes, info->convs, tload);
    printf("per image (%d runs): wall median %.2f ms, min %.2f ms; process CPU median %.2f ms, min %.2f ms; "
           "%.2f GFLOP/s (wall median); out[0..4] %.4g %.4g %.4g %.4g %.4g\n",
           runs, wall[runs / 2], wall[0], cpu[runs / 2], cpu[0],
           flops / wall[runs / 2] / 1e6, y[0], y[1], y[2], y[3], y[4]);
    enh_model_free(m);
    if (layers) {
        enh_graph *f = mobilenet_v2(size); /* the same weights (same seed) for the layer runs */
        if (enh_graph_fuse(f, &err) != ENH_OK) {
            fprintf(stderr, "fuse: %s\n", err.msg);
            return 2;
        }
        profile_layers(f, &opt, size, runs, pool);
        enh_graph_free(f);
    }
    enh_free(x), enh_free(y);
    free(wall);
    free(cpu);
    enh_pool_destroy(pool);
    return 0;
}
