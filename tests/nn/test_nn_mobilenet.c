/* test_nn_mobilenet.c - MobileNetV2-style inverted-residual blocks (1x1 expand + ReLU6, 3x3
 * depthwise + ReLU6 at stride 1 and at stride 2 with (0,0,1,1) padding, 1x1 linear project,
 * residual add) and a pooled dense head, built as a loader builds them: ReLU6 as separate
 * Clip(0, 6) nodes. The fused model (Clip in the conv epilogues, the add as the project conv's
 * residual, the depthwise kernel) must match the unfused one (every Clip its own pass) and the
 * reference kernels, on every kernel path this CPU has; a Clip conv takes a residual add of
 * coefficient 1 but never folds another coefficient into its weights (Clip is not homogeneous). */
#include "../check.h"
#include "nn/cpu.h"
#include "nn_util.h"

static int dwconv(enh_graph *g, const char *name, int in, int c, int stride)
{
    enh_node *n;
    int t = nn_node(g, ENH_OP_CONV, name, 1, &in, &n);
    n->p.conv.cin = n->p.conv.cout = n->p.conv.groups = c;
    n->p.conv.kh = n->p.conv.kw = 3;
    n->p.conv.sh = n->p.conv.sw = stride;
    n->p.conv.dh = n->p.conv.dw = 1;
    if (stride == 1)
        n->p.conv.pt = n->p.conv.pl = n->p.conv.pb = n->p.conv.pr = 1;
    else /* ZeroPadding2D((0,1),(0,1)) then a valid conv */
        n->p.conv.pb = n->p.conv.pr = 1;
    n->p.conv.weight = nn_rand_buf((size_t)c * 9, 0.6f);
    n->p.conv.bias = nn_rand_buf((size_t)c, 0.3f);
    return t;
}

/* ReLU6 scaled to the random weights' range (so both bounds clip), as a Clip node */
static int relu6(enh_graph *g, const char *name, int in)
{
    int t = nn_act(g, name, in, ENH_NACT_CLIP, 0.0f, 0);
    g->nodes[g->nnodes - 1].act.b = 0.6f;
    return t;
}

static enh_graph *blocks(int size, int head)
{
    enh_graph *g = enh_graph_new();
    int x = nn_input(g, 3);
    int t = relu6(g, "c0_relu6", nn_conv(g, "c0", x, 3, 8, 3, 1, 1, ENH_NACT_NONE, 0));
    /* stride-1 block with a residual add */
    int e = relu6(g, "b1_expand_relu6", nn_conv(g, "b1_expand", t, 8, 48, 1, 0, 1, ENH_NACT_NONE, 0));
    int d = relu6(g, "b1_dw_relu6", dwconv(g, "b1_dw", e, 48, 1));
    int p = nn_conv(g, "b1_project", d, 48, 8, 1, 0, 1, ENH_NACT_NONE, 0);
    t = nn_add(g, "b1_add", t, p);
    /* stride-2 block */
    e = relu6(g, "b2_expand_relu6", nn_conv(g, "b2_expand", t, 8, 48, 1, 0, 1, ENH_NACT_NONE, 0));
    d = relu6(g, "b2_dw_relu6", dwconv(g, "b2_dw", e, 48, 2));
    t = nn_conv(g, "b2_project", d, 48, 12, 1, 0, 1, ENH_NACT_NONE, 0);
    /* a clipped conv with a residual add of coefficient 1 (fused) */
    int r = relu6(g, "b3_relu6", nn_conv(g, "b3", t, 12, 12, 3, 1, 1, ENH_NACT_NONE, 0));
    t = nn_add(g, "b3_add", r, t);
    /* and one with coefficient 0.5 on the conv side (not folded into a clipped conv) */
    r = relu6(g, "b4_relu6", nn_conv(g, "b4", t, 12, 12, 1, 0, 1, ENH_NACT_NONE, 0));
    t = nn_eltsum(g, "b4_sum", r, t, 0.5f, 1.0f);
    if (head) {
        enh_node *n;
        t = nn_node(g, ENH_OP_POOL, "avgpool", 1, &t, &n);
        n->p.pool.global = 1;
        t = nn_node(g, ENH_OP_INNERPRODUCT, "dense", 1, &t, &n);
        n->p.fc.num_output = 5, n->p.fc.in_size = 12;
        n->p.fc.weight = nn_rand_buf(60, 0.5f);
        n->p.fc.bias = nn_rand_buf(5, 0.1f);
        g->fixed_h = g->fixed_w = size;
    }
    g->output = t;
    return g;
}

static int count_op(const enh_graph *g, enh_op op)
{
    int k = 0;
    for (int i = 0; i < g->nnodes; i++)
        k += g->nodes[i].op == op;
    return k;
}

int main(void)
{
    const int H = 23, W = 19; /* odd: the stride-2 block's padding at the bottom/right matters */
    enh_error err;
    nn_seed(3);
    float *x = nn_rand_buf((size_t)3 * H * W * 2, 1.0f);
    for (int head = 0; head <= 1; head++) {
        enh_model *plain;
        nn_seed(7);
        CHECK(enh_model_from_graph_unfused(blocks(H, head), &plain, &err) == ENH_OK);
        int oc, oh, ow;
        CHECK(enh_model_output_size(plain, H, W, &oc, &oh, &ow) == 0);
        CHECK(head ? oc == 5 && oh == 1 && ow == 1 : oc == 12 && oh == (H - 2) / 2 + 1 && ow == (W - 2) / 2 + 1);
        const size_t on = (size_t)oc * oh * ow;
        float *want = enh_alloc(2 * on * 4), *y = enh_alloc(2 * on * 4);
        CHECK(enh_model_run_graph(plain, x, 2, H, W, want, NULL, &err) == ENH_OK);
        const enh_isa isas[] = {ENH_ISA_REF, ENH_ISA_PORTABLE, ENH_ISA_AVX2, ENH_ISA_AVX512};
        for (int k = 0; k < 4; k++) {
            if (!enh_cpu_isa_supported(isas[k]))
                continue;
            const enh_nn_options o = {.kernels = isas[k]};
            enh_model *m;
            nn_seed(7);
            CHECK(enh_model_from_graph_ex(blocks(H, head), &o, &m, &err) == ENH_OK);
            const enh_graph *fg = enh_model_graph(m);
            /* the 7 Clips are folded; the adds of coefficient 1 are residuals, the 0.5 sum stays */
            CHECK_MSG(count_op(fg, ENH_OP_ACT) == 0 && count_op(fg, ENH_OP_BINARY) == 0 &&
                          count_op(fg, ENH_OP_ELTWISE) == 1,
                      "%s: %d act, %d binary, %d eltwise nodes after fusion", enh_isa_name(isas[k]),
                      count_op(fg, ENH_OP_ACT), count_op(fg, ENH_OP_BINARY), count_op(fg, ENH_OP_ELTWISE));
            for (size_t i = 0; i < 2 * on; i++)
                y[i] = NAN;
            CHECK(enh_model_run_graph(m, x, 2, H, W, y, NULL, &err) == ENH_OK);
            double d = nn_max_diff(y, want, 2 * on);
            CHECK_MSG(d <= 1e-5, "%s head %d: fused vs unfused %g", enh_isa_name(isas[k]), head, d);
            enh_model_free(m);
        }
        enh_model_free(plain);
        enh_free(want);
        enh_free(y);
    }
    enh_free(x);
    CHECK_MAIN_END();
}
