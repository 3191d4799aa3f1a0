/* test_nn_graph.c - graph IR: activation / residual fusion gives the same results as the
 * unfused graph, the memory planner reuses buffers (arena well below one buffer per tensor;
 * workspace grows with the input), receptive radius from the graph, shape errors. */
#include "../check.h"
#include "nn/memplan.h"
#include "nn_util.h"

#include "nn/cpu.h"

/* The fused tail against the plain ops on every kernel path of this CPU: the Winograd and GEMM
 * blocks (4x(4*vw) boxes, runs of rows) and the reference conv (one box per image), on an odd
 * size so boxes are cut at the right and bottom edges; a batch of 2 checks the image index. */
static void check_tail_paths(const float *x, const float *want, int H, int W)
{
    static const struct { enh_isa id; enh_conv_algo algo; } paths[] = {
        {ENH_ISA_REF, ENH_ALGO_AUTO},  {ENH_ISA_PORTABLE, ENH_ALGO_WINO}, {ENH_ISA_PORTABLE, ENH_ALGO_GEMM},
        {ENH_ISA_AVX2, ENH_ALGO_WINO}, {ENH_ISA_AVX2, ENH_ALGO_GEMM},     {ENH_ISA_AVX512, ENH_ALGO_WINO},
        {ENH_ISA_AVX512, ENH_ALGO_GEMM},
    };
    const size_t on = (size_t)12 * H * W;
    float *x2 = enh_alloc(2 * (size_t)3 * H * W * 4), *y = enh_alloc(2 * on * 4);
    memcpy(x2, x, (size_t)3 * H * W * 4);
    memcpy(x2 + 3 * H * W, x, (size_t)3 * H * W * 4);
    for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
        if (!enh_cpu_isa_supported(paths[k].id))
            continue;
        const enh_nn_options o = {.kernels = paths[k].id, .conv_algo = paths[k].algo};
        nn_seed(5);
        enh_model *m;
        enh_error err;
        CHECK(enh_model_from_graph_ex(nn_small_sr(8, 16), &o, &m, &err) == ENH_OK);
        CHECK(enh_model_get_info(m)->ps_tails == 1);
        CHECK(enh_model_run(m, x2, 2, H, W, y, NULL, &err) == ENH_OK);
        double d0 = nn_max_diff(y, want, on), d1 = nn_max_diff(y + on, want, on);
        CHECK_MSG(d0 <= 1e-4 && d1 <= 1e-4, "%s-%s: tail %g / %g", enh_isa_name(paths[k].id),
                  enh_conv_algo_name(paths[k].algo), d0, d1);
        enh_model_free(m);
    }
    /* DCR (TF) channel order: fused against plain */
    enh_model *m[2];
    enh_error err;
    for (int k = 0; k < 2; k++) {
        nn_seed(5);
        enh_graph *g = nn_small_sr(8, 16);
        for (int i = 0; i < g->nnodes; i++)
            if (g->nodes[i].op == ENH_OP_PIXELSHUFFLE)
                g->nodes[i].p.ps.dcr = 1;
        CHECK((k ? enh_model_from_graph_unfused(g, &m[k], &err) : enh_model_from_graph(g, &m[k], &err)) == ENH_OK);
    }
    float *y2 = enh_alloc(2 * on * 4);
    CHECK(enh_model_get_info(m[0])->ps_tails == 1);
    CHECK(enh_model_run(m[0], x2, 2, H, W, y, NULL, &err) == ENH_OK);
    CHECK(enh_model_run(m[1], x2, 2, H, W, y2, NULL, &err) == ENH_OK);
    CHECK_MSG(nn_max_diff(y, y2, 2 * on) <= 1e-5 && nn_max_diff(y, want, on) > 1e-3, "dcr: %g, vs crd %g",
              nn_max_diff(y, y2, 2 * on), nn_max_diff(y, want, on));
    enh_model_free(m[0]);
    enh_model_free(m[1]);
    enh_free(y2);
    enh_free(x2);
    enh_free(y);
}

/* conv (with its own folded residual) -> Eltwise sum: the sum runs in the conv's epilogue,
 * bit-identical to the plain Eltwise, on every kernel path; RRDB-style (x4plus). */
static enh_graph *rrdb_like(void)
{
    enh_graph *g = enh_graph_new();
    int x = nn_input(g, 3);
    int c0 = nn_conv(g, "c0", x, 3, 8, 3, 1, 1, ENH_NACT_NONE, 0);
    int c1 = nn_conv(g, "c1", c0, 8, 8, 3, 1, 1, ENH_NACT_LEAKY, 0.2f);
    int e1 = nn_eltsum(g, "rdb", c1, c0, 0.2f, 1.f); /* folded into c1 */
    int c2 = nn_conv(g, "c2", e1, 8, 8, 3, 1, 1, ENH_NACT_LEAKY, 0.2f);
    int e2 = nn_eltsum(g, "rdb2", c2, e1, 0.2f, 1.f); /* folded into c2 */
    int e3 = nn_eltsum(g, "rrdb", e2, c0, 0.2f, 1.f); /* c2 already has a residual: epilogue */
    g->output = nn_conv(g, "out", e3, 8, 3, 3, 1, 1, ENH_NACT_NONE, 0);
    return g;
}

static void check_elt_tail(void)
{
    const int H = 21, W = 37;
    float *x = nn_rand_buf((size_t)2 * 3 * H * W, 1), *y0 = enh_alloc((size_t)2 * 3 * H * W * 4),
          *y1 = enh_alloc((size_t)2 * 3 * H * W * 4);
    static const enh_conv_algo algos[] = {ENH_ALGO_WINO, ENH_ALGO_GEMM, ENH_ALGO_REF};
    for (int k = 0; k < 3; k++) {
        /* the process default: what enh_model_from_graph_unfused (no options) builds with */
        const enh_nn_options o = {.conv_algo = algos[k]};
        enh_nn_options_set_default(&o);
        enh_model *fused, *plain;
        enh_error err;
        nn_seed(9);
        CHECK(enh_model_from_graph(rrdb_like(), &fused, &err) == ENH_OK);
        nn_seed(9);
        CHECK(enh_model_from_graph_unfused(rrdb_like(), &plain, &err) == ENH_OK);
        CHECK_MSG(enh_model_get_info(fused)->elt_tails == 1 && enh_model_get_info(plain)->elt_tails == 0,
                  "elt tails %d", enh_model_get_info(fused)->elt_tails);
        CHECK(enh_model_run(fused, x, 2, H, W, y1, NULL, &err) == ENH_OK);
        CHECK(enh_model_run(plain, x, 2, H, W, y0, NULL, &err) == ENH_OK);
        double d = nn_max_diff(y0, y1, (size_t)2 * 3 * H * W);
        CHECK_MSG(d <= 1e-5, "%s: fused sum vs plain %g", enh_conv_algo_name(algos[k]), d);
        enh_model_free(fused);
        enh_model_free(plain);
    }
    enh_nn_options_set_default(NULL);
    enh_free(x);
    enh_free(y0);
    enh_free(y1);
}

/* The graph's own validator enforces the executor's limits, whatever loader made the graph:
 * at most ENH_GRAPH_MAX_INPUTS inputs per node, and the inputs each op reads. */
static void check_limits(void)
{
    enh_error err;
    for (int extra = 0; extra < 2; extra++) {
        enh_graph *g = enh_graph_new();
        int x = nn_input(g, 3);
        int n = ENH_GRAPH_MAX_INPUTS + extra;
        int *ins = malloc((size_t)n * sizeof *ins);
        for (int k = 0; k < n; k++)
            ins[k] = x;
        enh_node *e;
        g->output = nn_node(g, ENH_OP_CONCAT, "wide", n, ins, &e);
        enh_status st = enh_graph_validate(g, &err);
        CHECK_MSG(extra ? st == ENH_EINVAL && strstr(err.msg, "'wide'") && strstr(err.msg, "1024") : st == ENH_OK,
                  "%d inputs: %s", n, st ? err.msg : "accepted");
        free(ins);
        enh_graph_free(g);
    }
    enh_graph *g = enh_graph_new();
    int x = nn_input(g, 3);
    enh_node *b;
    g->output = nn_node(g, ENH_OP_BINARY, "half", 1, &x, &b); /* a tensor operand, but one input */
    CHECK(enh_graph_validate(g, &err) == ENH_EINVAL && strstr(err.msg, "'half'"));
    b->p.bin.with_scalar = 1;
    CHECK(enh_graph_validate(g, &err) == ENH_OK);
    enh_graph_free(g);
}

int main(void)
{
    enh_error err;
    check_limits();
    nn_seed(5);
    enh_graph *a = nn_small_sr(8, 16);
    nn_seed(5);
    enh_graph *b = nn_small_sr(8, 16);
    int nodes = a->nnodes;
    enh_model *fused, *plain;
    CHECK(enh_model_from_graph(a, &fused, &err) == ENH_OK);
    CHECK(enh_model_from_graph_unfused(b, &plain, &err) == ENH_OK);
    /* PReLU folded into c0, three Eltwise [0.2, 1] sums folded into their convs */
    int fl = enh_model_get_info(fused)->layers, pl = enh_model_get_info(plain)->layers;
    CHECK_MSG(pl == nodes && fl == nodes - 4, "layers fused %d plain %d (graph %d)", fl, pl, nodes);
    const int H = 19, W = 23;
    float *x = nn_rand_buf((size_t)3 * H * W, 1), *y1 = enh_alloc((size_t)12 * H * W * 4), *y2 = enh_alloc((size_t)12 * H * W * 4);
    CHECK(enh_model_run(fused, x, 1, H, W, y1, NULL, &err) == ENH_OK);
    CHECK(enh_model_run(plain, x, 1, H, W, y2, NULL, &err) == ENH_OK);
    CHECK_MSG(nn_max_diff(y1, y2, (size_t)12 * H * W) <= 1e-5, "fused vs plain %g", nn_max_diff(y1, y2, (size_t)12 * H * W));
    /* the conv -> PixelShuffle -> + nearest-upsampled input tail runs in the conv's epilogue */
    CHECK(enh_model_get_info(fused)->ps_tails == 1 && enh_model_get_info(plain)->ps_tails == 0);
    check_tail_paths(x, y2, H, W);
    check_elt_tail();
    /* batch of 2 == two single runs */
    float *x2 = enh_alloc((size_t)6 * H * W * 4), *y3 = enh_alloc((size_t)24 * H * W * 4);
    memcpy(x2, x, (size_t)3 * H * W * 4);
    memcpy(x2 + 3 * H * W, x, (size_t)3 * H * W * 4);
    CHECK(enh_model_run(fused, x2, 2, H, W, y3, NULL, &err) == ENH_OK);
    CHECK(nn_max_diff(y3, y1, (size_t)12 * H * W) == 0 && nn_max_diff(y3 + 12 * H * W, y1, (size_t)12 * H * W) == 0);
    /* memory planner */
    enh_memplan mp;
    CHECK(enh_memplan_build(enh_model_graph(plain), 1, 3, 64, 64, &mp, &err) == ENH_OK);
    printf("arena %zu floats for %zu floats of tensors\n", mp.arena_floats, mp.total_floats);
    CHECK(mp.arena_floats * 3 < mp.total_floats);
    enh_memplan_free(&mp);
    size_t w64 = enh_model_workspace_bytes(fused, 1, 64, 64), w128 = enh_model_workspace_bytes(fused, 1, 128, 128);
    CHECK(w64 > 0 && w128 > 3 * w64 && w128 < 5 * w64);
    CHECK(enh_model_workspace_bytes(fused, 2, 64, 64) > w64 * 3 / 2);
    /* receptive radius, scale, bad shapes */
    CHECK(enh_model_get_info(fused)->receptive_radius == 8 && enh_model_get_info(fused)->scale == 2);
    CHECK(enh_model_run(fused, x, 0, H, W, y1, NULL, &err) == ENH_EINVAL);
    enh_model_free(fused);
    enh_model_free(plain);

    /* a valid (unpadded) 5x5 conv: too-small inputs are refused with the layer name */
    enh_graph *g = enh_graph_new();
    int t = nn_input(g, 3);
    t = nn_conv(g, "valid5", t, 3, 3, 5, 0, 1, ENH_NACT_NONE, 0);
    g->output = t;
    enh_shape sh[2];
    CHECK(enh_graph_infer_shapes(g, 3, 4, 9, sh, &err) == ENH_EINVAL && strstr(err.msg, "valid5") &&
          strstr(err.msg, "too small"));
    CHECK(enh_graph_infer_shapes(g, 3, 5, 9, sh, &err) == ENH_OK && sh[1].h == 1 && sh[1].w == 5);
    enh_graph_free(g);
    /* global pooling -> unbounded receptive field */
    g = enh_graph_new();
    t = nn_input(g, 3);
    enh_node *n;
    int p = nn_node(g, ENH_OP_POOL, "gap", 1, &t, &n);
    n->p.pool.global = 1;
    int ins[2] = {t, p};
    g->output = nn_node(g, ENH_OP_BINARY, "mul", 2, ins, &n);
    n->p.bin.op = ENH_BIN_MUL;
    CHECK(enh_graph_receptive_radius(g) == -1);
    CHECK(enh_graph_infer_shapes(g, 3, 6, 7, (enh_shape[3]){{0}}, &err) == ENH_OK);
    enh_graph_free(g);
    enh_free(x);
    enh_free(x2);
    enh_free(y1);
    enh_free(y2);
    enh_free(y3);
    CHECK_MAIN_END();
}
