/* test_nn_concat_inplace.c - in-place channel concats (memplan_concat.c): for one image, the
 * members of a dense block's prefix chain of concats are laid out end to end in one buffer
 * and the concats are skipped; the output is bit-identical to the copying path (a batch of
 * two images, where no concat is in place). Concats that are not a prefix chain (inputs in
 * another order, a member read by a concat of another chain) keep their copy. The convs of
 * a chain share their input transforms (enh_conv_vcache): bit-identical to not sharing. */
#include "../check.h"
#include "nn/memplan.h"
#include "nn_util.h"

static int concat_of(enh_graph *g, const char *name, int nin, const int *ins)
{
    enh_node *n;
    int t = nn_node(g, ENH_OP_CONCAT, name, nin, ins, &n);
    n->p.concat.axis = 0;
    return t;
}

/* RDB-like dense block: x0 (f channels) -> x1..x3 (gc each) from the growing concat, then a
 * 1x1-free 3x3 fuse conv back to f channels, 0.2 * fuse + x0 */
static int dense_block(enh_graph *g, int x0, int f, int gc, int *cats, int *ncats)
{
    int members[4] = {x0, 0, 0, 0}, in = x0, cin = f;
    for (int k = 1; k < 4; k++) {
        members[k] = nn_conv(g, "dense", in, cin, gc, 3, 1, 1, ENH_NACT_LEAKY, 0.2f);
        cin += gc;
        in = concat_of(g, "cat", k + 1, members);
        cats[(*ncats)++] = in;
    }
    int fuse = nn_conv(g, "fuse", in, cin, f, 3, 1, 1, ENH_NACT_NONE, 0);
    return nn_eltsum(g, "res", fuse, x0, 0.2f, 1.f);
}

static enh_graph *dense_model(int branchy, int *cats, int *ncats)
{
    enh_graph *g = enh_graph_new();
    int x = nn_input(g, 3);
    int t = nn_conv(g, "first", x, 3, 8, 3, 1, 1, ENH_NACT_NONE, 0);
    t = dense_block(g, t, 8, 4, cats, ncats);
    t = dense_block(g, t, 8, 4, cats, ncats);
    if (branchy) { /* [a b] and [b a]: no prefix chain, both must copy */
        int a = nn_conv(g, "a", t, 8, 4, 3, 1, 1, ENH_NACT_NONE, 0);
        int ab[2] = {t, a}, ba[2] = {a, t};
        int c1 = concat_of(g, "ab", 2, ab), c2 = concat_of(g, "ba", 2, ba);
        cats[(*ncats)++] = c1;
        cats[(*ncats)++] = c2;
        t = nn_add(g, "sum", c1, c2);
        t = nn_conv(g, "narrow", t, 12, 8, 3, 1, 1, ENH_NACT_NONE, 0);
    }
    t = nn_conv(g, "last", t, 8, 12, 3, 1, 1, ENH_NACT_NONE, 0);
    t = nn_ps(g, "ps", t, 2);
    int up = nn_interp(g, "up", x, ENH_INTERP_NEAREST, 2.f);
    g->output = nn_add(g, "add", t, up);
    return g;
}

static int node_of(const enh_graph *g, int tensor)
{
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].out == tensor)
            return i;
    return -1;
}

static void run_case(int branchy)
{
    enh_error err;
    int cats[16], ncats = 0;
    nn_seed(11);
    enh_graph *g = dense_model(branchy, cats, &ncats);
    const int H = 21, W = 19;
    /* the plan: one image -> the 6 dense concats in place, the branchy pair copied */
    enh_memplan mp;
    CHECK(enh_memplan_build(g, 1, 3, H, W, &mp, &err) == ENH_OK);
    int skipped = 0;
    for (int k = 0; k < ncats; k++)
        skipped += mp.skip[node_of(g, cats[k])];
    CHECK_MSG(skipped == 6, "%d of %d concats in place (want the 6 dense ones)", skipped, ncats);
    /* members end to end: the first dense block's last concat starts where x0 does */
    const enh_node *cat3 = &g->nodes[node_of(g, cats[2])];
    size_t plane = (size_t)H * W;
    CHECK(mp.offset[cat3->in[0]] == mp.offset[cats[2]] && mp.offset[cats[0]] == mp.offset[cats[2]]);
    CHECK(mp.offset[cat3->in[1]] == mp.offset[cats[2]] + 8 * plane);
    CHECK(mp.offset[cat3->in[3]] == mp.offset[cats[2]] + 16 * plane);
    enh_memplan_free(&mp);
    CHECK(enh_memplan_build(g, 2, 3, H, W, &mp, &err) == ENH_OK);
    skipped = 0;
    for (int k = 0; k < ncats; k++)
        skipped += mp.skip[node_of(g, cats[k])];
    CHECK_MSG(skipped == 0, "%d concats in place with 2 images", skipped);
    enh_memplan_free(&mp);

    /* the result: one image (in place) == the same image inside a batch of two (copies) */
    enh_model *m;
    CHECK(enh_model_from_graph(g, &m, &err) == ENH_OK);
    size_t nin = (size_t)3 * H * W, nout = (size_t)3 * 4 * H * W;
    float *x = nn_rand_buf(2 * nin, 1.f), *y1 = enh_alloc(nout * 4), *y2 = enh_alloc(2 * nout * 4);
    memcpy(x + nin, x, nin * 4);
    CHECK(enh_model_run(m, x, 1, H, W, y1, NULL, &err) == ENH_OK);
    CHECK(enh_model_run(m, x, 2, H, W, y2, NULL, &err) == ENH_OK);
    CHECK_MSG(memcmp(y1, y2, nout * 4) == 0 && memcmp(y1, y2 + nout, nout * 4) == 0,
              "in-place vs copying concat: max diff %g", nn_max_diff(y1, y2, nout));
    enh_model_free(m);
    enh_free(x), enh_free(y1), enh_free(y2);
}

/* The convs of a dense block share the Winograd transforms of their common input channels
 * (enh_conv_vcache): bit-identical to each conv transforming all of them, on every fp32
 * Winograd path this CPU has, for one image (in-place concats) and two (copying concats). */
#include "nn/cpu.h"

static void run_vcache(void)
{
    static const enh_isa paths[] = {ENH_ISA_PORTABLE, ENH_ISA_AVX2, ENH_ISA_AVX512};
    const int H = 23, W = 70; /* two Winograd groups per tile row on avx512, a ragged edge */
    size_t nin = (size_t)3 * H * W, nout = (size_t)3 * 4 * H * W;
    float *x = nn_rand_buf(2 * nin, 1.f), *y[2] = {enh_alloc(2 * nout * 4), enh_alloc(2 * nout * 4)};
    for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
        if (!enh_cpu_isa_supported(paths[k]))
            continue;
        for (int n = 1; n <= 2; n++) {
            for (int off = 0; off < 2; off++) {
                const enh_nn_options o = {.kernels = paths[k], .conv_algo = ENH_ALGO_WINO, .no_vcache = off};
                int cats[16], ncats = 0;
                nn_seed(11);
                enh_model *m;
                enh_error err;
                CHECK(enh_model_from_graph_ex(dense_model(0, cats, &ncats), &o, &m, &err) == ENH_OK);
                CHECK(enh_model_run(m, x, n, H, W, y[off], NULL, &err) == ENH_OK);
                enh_model_free(m);
            }
            CHECK_MSG(memcmp(y[0], y[1], n * nout * 4) == 0, "%s, %d image(s): shared transforms differ by %g",
                      enh_isa_name(paths[k]), n, nn_max_diff(y[0], y[1], n * nout));
        }
    }
    enh_free(x), enh_free(y[0]), enh_free(y[1]);
}

int main(void)
{
    run_case(0);
    run_case(1);
    run_vcache();
    CHECK_MAIN_END();
}
