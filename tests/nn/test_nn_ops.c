/* test_nn_ops.c - every reference op on small hand-computed cases (values worked out by
 * hand in the comments), plus the conv plan against the reference kernel. */
#include "../check.h"
#include "nn/conv.h"
#include "nn/ops_ref.h"
#include "nn_util.h"

#define EQ(got, want, n, tol)                                                             \
    do {                                                                                  \
        double _d = nn_max_diff(got, want, n);                                            \
        CHECK_MSG(_d <= (tol), "%s: max diff %g", #got, _d);                              \
    } while (0)

static void test_conv(void)
{
    /* 3x3 all-ones kernel, pad 1, on a 3x3 ones image: corners 4, edges 6, centre 9, + bias 1 */
    float one9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, w9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, b = 1, out[9];
    enh_conv_params p = {.cin = 1, .cout = 1, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
                         .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .groups = 1, .weight = w9, .bias = &b};
    float want[9] = {5, 7, 5, 7, 10, 7, 5, 7, 5};
    enh_conv2d_ref(&p, one9, 1, 3, 3, out, NULL, NULL);
    EQ(out, want, 9, 0);
    /* stride 2 on 3x3 -> 2x2 corners of the padded sums: 4+1 each */
    float o4[4], want4[4] = {5, 5, 5, 5};
    p.stride_h = p.stride_w = 2;
    enh_conv2d_ref(&p, one9, 1, 3, 3, o4, NULL, NULL);
    EQ(o4, want4, 4, 0);
    /* dilation 2, no pad, 5x5 ramp x = i: taps at (0,2,4) rows/cols of the centre window -> 3*(0+2+4)=18 */
    float ramp[25], o1;
    for (int i = 0; i < 25; i++)
        ramp[i] = (float)(i % 5);
    enh_conv_params d = p;
    d.stride_h = d.stride_w = 1;
    d.dil_h = d.dil_w = 2;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 0;
    d.bias = NULL;
    enh_conv2d_ref(&d, ramp, 1, 5, 5, &o1, NULL, NULL);
    CHECK_NEAR(o1, 18, 0);
    /* groups = 2, 1x1: out0 = 2*in0, out1 = 3*in1; LeakyReLU 0.5 on negatives; residual +10 */
    float in2[2] = {-4, 5}, wg[2] = {2, 3}, og[2], res[2] = {10, 10};
    enh_conv_params g = {.cin = 2, .cout = 2, .kh = 1, .kw = 1, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
                         .groups = 2, .weight = wg, .act = ENH_ACT_LEAKY, .act_slope = 0.5f};
    enh_conv2d_ref(&g, in2, 1, 1, 1, og, res, NULL);
    float wantg[2] = {10 - 4, 10 + 15}; /* leaky(-8) = -4 */
    EQ(og, wantg, 2, 0);
    float slopes[2] = {0.25f, 0.75f};
    g.act = ENH_ACT_PRELU;
    g.prelu = slopes;
    g.prelu_count = 2;
    enh_conv2d_ref(&g, in2, 1, 1, 1, og, NULL, NULL);
    CHECK_NEAR(og[0], -2, 0);
    CHECK_NEAR(og[1], 15, 0);
    /* a plan agrees with the reference on a random 3x3 layer with every fused feature */
    nn_seed(3);
    int C = 16, H = 13, W = 17;
    float *x = nn_rand_buf((size_t)C * H * W, 1), *wt = nn_rand_buf((size_t)C * C * 9, 0.2f),
          *bias = nn_rand_buf(C, 0.1f), *r = nn_rand_buf((size_t)C * H * W, 1), *pr = nn_rand_buf(C, 0.3f);
    float *a = enh_alloc((size_t)C * H * W * 4), *bb = enh_alloc((size_t)C * H * W * 4);
    enh_conv_params q = {.cin = C, .cout = C, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
                         .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .groups = 1, .weight = wt,
                         .bias = bias, .act = ENH_ACT_PRELU, .prelu = pr, .prelu_count = C};
    enh_conv2d_ref(&q, x, 1, H, W, a, r, NULL);
    enh_conv_plan *plan;
    enh_error err;
    CHECK(enh_conv_plan_create(&q, &plan, &err) == ENH_OK);
    enh_conv_plan_run(plan, x, 1, H, W, bb, r, NULL);
    EQ(bb, a, (size_t)C * H * W, 1e-4);
    enh_conv_plan_free(plan);
    enh_free(x);
    enh_free(wt);
    enh_free(bias);
    enh_free(r);
    enh_free(pr);
    enh_free(a);
    enh_free(bb);
}

static void test_deconv(void)
{
    /* 2x2 input [1 2; 3 4], 2x2 ones kernel, stride 2: every input pixel becomes a 2x2 block */
    float in[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1}, out[16];
    enh_node n = {0};
    n.op = ENH_OP_DECONV;
    n.p.conv.cin = n.p.conv.cout = n.p.conv.groups = 1;
    n.p.conv.kh = n.p.conv.kw = 2;
    n.p.conv.sh = n.p.conv.sw = 2;
    n.p.conv.dh = n.p.conv.dw = 1;
    n.p.conv.weight = w;
    enh_deconv_ref(&n, in, 1, (enh_shape){1, 2, 2}, (enh_shape){1, 4, 4}, out, NULL);
    float want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    EQ(out, want, 16, 0);
    /* 3x3 ones kernel, stride 1, pad 1 == a "full" sum cropped: same as conv with ones -> 4/6/9 pattern on ones */
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, k9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, o9[9], w9[9] = {4, 6, 4, 6, 9, 6, 4, 6, 4};
    n.p.conv.kh = n.p.conv.kw = 3;
    n.p.conv.sh = n.p.conv.sw = 1;
    n.p.conv.pt = n.p.conv.pl = n.p.conv.pb = n.p.conv.pr = 1;
    n.p.conv.weight = k9;
    enh_deconv_ref(&n, ones, 1, (enh_shape){1, 3, 3}, (enh_shape){1, 3, 3}, o9, NULL);
    EQ(o9, w9, 9, 0);
}

static void test_layout(void)
{
    /* pixel shuffle r=2 of 4 channels x 1x1 [a b c d]: CRD -> [a b; c d], DCR same for oc=1 */
    float in[4] = {1, 2, 3, 4}, out[4], want[4] = {1, 2, 3, 4};
    enh_pixelshuffle_ref(in, 1, (enh_shape){4, 1, 1}, 2, 0, out);
    EQ(out, want, 4, 0);
    /* 8 channels -> 2 output channels: CRD takes channels 0-3 for out 0; DCR takes 0,2,4,6 */
    float in8[8] = {0, 1, 2, 3, 4, 5, 6, 7}, o8[8], crd[8] = {0, 1, 2, 3, 4, 5, 6, 7}, dcr[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    enh_pixelshuffle_ref(in8, 1, (enh_shape){8, 1, 1}, 2, 0, o8);
    EQ(o8, crd, 8, 0);
    enh_pixelshuffle_ref(in8, 1, (enh_shape){8, 1, 1}, 2, 1, o8);
    EQ(o8, dcr, 8, 0);
    /* concat along H of 1x1x2 and 1x2x2 */
    float a[2] = {1, 2}, b[4] = {3, 4, 5, 6}, c6[6], wc[6] = {1, 2, 3, 4, 5, 6};
    const float *ins[2] = {a, b};
    enh_shape sh[2] = {{1, 1, 2}, {1, 2, 2}};
    enh_concat_ref(1, ins, sh, 2, 1, (enh_shape){1, 3, 2}, c6);
    EQ(c6, wc, 6, 0);
    /* crop rows/cols 1..-1 of a 3x4 ramp (Real-CUGAN style negative ends) */
    float r12[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, cr[2], wcr[2] = {5, 6};
    enh_node cn = {0};
    cn.op = ENH_OP_CROP;
    cn.p.crop.start[0] = 0;
    cn.p.crop.end[0] = ENH_CROP_END;
    cn.p.crop.start[1] = 1;
    cn.p.crop.end[1] = -1;
    cn.p.crop.start[2] = 1;
    cn.p.crop.end[2] = -1;
    int st[3], len[3];
    enh_shape s = {1, 3, 4};
    CHECK(enh_crop_resolve(&cn, &s, st, len) == 0 && len[1] == 1 && len[2] == 2);
    enh_crop_ref(r12, 1, s, st, (enh_shape){1, 1, 2}, cr);
    EQ(cr, wcr, 2, 0);
    cn.p.crop.end[2] = -4; /* empty box is an error */
    CHECK(enh_crop_resolve(&cn, &s, st, len) != 0);
}

static void test_interp(void)
{
    enh_node n = {0};
    n.op = ENH_OP_INTERP;
    n.p.interp.scale_h = 1;
    n.p.interp.scale_w = 2;
    float in[2] = {0, 4}, out[4];
    n.p.interp.mode = ENH_INTERP_NEAREST;
    enh_interp_ref(&n, in, 1, (enh_shape){1, 1, 2}, (enh_shape){1, 1, 4}, out, NULL);
    float wn[4] = {0, 0, 4, 4};
    EQ(out, wn, 4, 0);
    /* bilinear, half-pixel: source x = (d+0.5)/2-0.5 = -0.25, 0.25, 0.75, 1.25 -> 0, 1, 3, 4 */
    n.p.interp.mode = ENH_INTERP_BILINEAR;
    enh_interp_ref(&n, in, 1, (enh_shape){1, 1, 2}, (enh_shape){1, 1, 4}, out, NULL);
    float wb[4] = {0, 1, 3, 4};
    EQ(out, wb, 4, 1e-6);
    /* bicubic A = -0.75 at t = 0.25: weights -0.10546875, 0.87890625, 0.26171875, -0.03515625;
     * x = 1.25 on the ramp 0 1 2 3 -> 0.87890625 + 2*0.26171875 - 3*0.03515625 = 1.296875,
     * and 1.703125 at x = 1.75 by symmetry */
    float ramp[4] = {0, 1, 2, 3}, o8[8];
    n.p.interp.mode = ENH_INTERP_BICUBIC;
    enh_interp_ref(&n, ramp, 1, (enh_shape){1, 1, 4}, (enh_shape){1, 1, 8}, o8, NULL);
    CHECK_NEAR(o8[3], 1.296875, 1e-6);
    CHECK_NEAR(o8[4], 1.703125, 1e-6);
    float c4[4] = {7, 7, 7, 7};
    enh_interp_ref(&n, c4, 1, (enh_shape){1, 1, 4}, (enh_shape){1, 1, 8}, o8, NULL);
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(o8[i], 7, 1e-5);
    /* bicubic 0.5 downscale (animevideov3 x2): samples at x = 0.5 and 2.5, t = 0.5, weights
     * -0.09375 0.59375 0.59375 -0.09375, border index clamped: taps (0,0,1,2) -> 0.40625 and
     * (1,2,3,3) -> 2.59375 */
    n.p.interp.scale_w = 0.5f;
    enh_interp_ref(&n, ramp, 1, (enh_shape){1, 1, 4}, (enh_shape){1, 1, 2}, o8, NULL);
    CHECK_NEAR(o8[0], 0.40625, 1e-6);
    CHECK_NEAR(o8[1], 2.59375, 1e-6);
}

static void test_elementwise(void)
{
    /* per-channel broadcast (c,1,1): channel k scaled by k+1 */
    float a[4] = {1, 2, 3, 4}, s[2] = {1, 2}, o[4], w[4] = {1, 2, 6, 8};
    enh_binary_ref(ENH_BIN_MUL, a, (enh_shape){2, 1, 2}, s, (enh_shape){2, 1, 1}, 0, 1, (enh_shape){2, 1, 2}, o);
    EQ(o, w, 4, 0);
    float wr[4] = {9, 8, 7, 6}; /* rsub: 10 - a */
    enh_binary_ref(ENH_BIN_RSUB, a, (enh_shape){1, 1, 4}, NULL, (enh_shape){1, 1, 4}, 10, 1, (enh_shape){1, 1, 4}, o);
    EQ(o, wr, 4, 0);
    float wd[4] = {12, 6, 4, 3}; /* rdiv: 12 / a */
    enh_binary_ref(ENH_BIN_RDIV, a, (enh_shape){1, 1, 4}, NULL, (enh_shape){1, 1, 4}, 12, 1, (enh_shape){1, 1, 4}, o);
    EQ(o, wd, 4, 0);
    /* eltwise sum with coefficients: 0.2*a + 1*b */
    float b[4] = {10, 20, 30, 40}, we[4] = {10.2f, 20.4f, 30.6f, 40.8f}, co[2] = {0.2f, 1.f};
    const float *ins[2] = {a, b};
    enh_eltwise_ref(ENH_ELT_SUM, co, ins, 2, 1, (enh_shape){1, 1, 4}, o);
    EQ(o, we, 4, 1e-5);
    float wm[4] = {10, 40, 90, 160};
    enh_eltwise_ref(ENH_ELT_PROD, NULL, ins, 2, 1, (enh_shape){1, 1, 4}, o);
    EQ(o, wm, 4, 0);
    /* activations */
    enh_activation act = {.kind = ENH_NACT_CLIP, .a = 1.5f, .b = 3.5f};
    float x[4] = {1, 2, 3, 4}, wc[4] = {1.5f, 2, 3, 3.5f};
    enh_act_ref(&act, x, 1, 1, 4, NULL);
    EQ(x, wc, 4, 0);
    act.kind = ENH_NACT_SIGMOID;
    float z[1] = {0};
    enh_act_ref(&act, z, 1, 1, 1, NULL);
    CHECK_NEAR(z[0], 0.5, 1e-7);
}

static void test_pool_fc(void)
{
    /* 4x4 ramp 0..15: max 2x2 s2 -> 5 7 13 15; avg -> 2.5 4.5 10.5 12.5; global avg 7.5 */
    float r[16], o[4];
    for (int i = 0; i < 16; i++)
        r[i] = (float)i;
    enh_node n = {0};
    n.op = ENH_OP_POOL;
    n.p.pool.kh = n.p.pool.kw = n.p.pool.sh = n.p.pool.sw = 2;
    n.p.pool.pad_mode = 1;
    n.p.pool.max = 1;
    enh_pool2d_ref(&n, r, 1, (enh_shape){1, 4, 4}, (enh_shape){1, 2, 2}, o, NULL);
    float wmax[4] = {5, 7, 13, 15}, wavg[4] = {2.5f, 4.5f, 10.5f, 12.5f};
    EQ(o, wmax, 4, 0);
    n.p.pool.max = 0;
    enh_pool2d_ref(&n, r, 1, (enh_shape){1, 4, 4}, (enh_shape){1, 2, 2}, o, NULL);
    EQ(o, wavg, 4, 0);
    n.p.pool.global = 1;
    enh_pool2d_ref(&n, r, 1, (enh_shape){1, 4, 4}, (enh_shape){1, 1, 1}, o, NULL);
    CHECK_NEAR(o[0], 7.5, 0);
    /* inner product: [1 2 3; 4 5 6] x [1 1 1] + [0.5 -20] then ReLU -> 6.5, 0 */
    float wt[6] = {1, 2, 3, 4, 5, 6}, bias[2] = {0.5f, -20}, x[3] = {1, 1, 1}, y[2];
    enh_node f = {0};
    f.op = ENH_OP_INNERPRODUCT;
    f.p.fc.num_output = 2;
    f.p.fc.in_size = 3;
    f.p.fc.weight = wt;
    f.p.fc.bias = bias;
    f.act.kind = ENH_NACT_RELU;
    enh_fc_ref(&f, x, 1, y);
    CHECK_NEAR(y[0], 6.5, 0);
    CHECK_NEAR(y[1], 0, 0);
}

int main(void)
{
    test_conv();
    test_deconv();
    test_layout();
    test_interp();
    test_elementwise();
    test_pool_fc();
    CHECK_MAIN_END();
}
