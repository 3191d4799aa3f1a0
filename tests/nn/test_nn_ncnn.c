/* test_nn_ncnn.c - the ncnn loader: a synthetic model parses into the expected graph and
 * runs (checked against a hand-built IR of the same network); every kind of malformed input
 * fails with a message naming the layer and the byte offset. */
#include "../check.h"
#include "nn/ncnn.h"
#include "nn/ops_ref.h"
#include "nn_util.h"
#include "ncnn_synth.h"

static unsigned char bin[SYNTH_BIN_LEN + 64];

static enh_status parse(const char *param, size_t blen, enh_graph **g, enh_error *err)
{
    return enh_ncnn_parse(param, strlen(param), bin, blen, "m.param", "m.bin", g, err);
}

/* param with one substring replaced */
static char *subst(const char *from, const char *to)
{
    static char buf[4096];
    const char *at = strstr(synth_param, from);
    if (!at)
        return NULL;
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - synth_param), synth_param, to, at + strlen(from));
    return buf;
}

static void expect_error(const char *what, const char *param, size_t blen, enh_status code, const char *m1,
                         const char *m2)
{
    enh_graph *g = NULL;
    enh_error err = {0};
    CHECK_MSG(param != NULL, "%s: substitution not found", what);
    enh_status st = param ? parse(param, blen, &g, &err) : ENH_OK;
    CHECK_MSG(st == code, "%s: status %d, expected %d (%s)", what, st, code, err.msg);
    CHECK_MSG(!m1 || strstr(err.msg, m1), "%s: message '%s' lacks '%s'", what, err.msg, m1);
    CHECK_MSG(!m2 || strstr(err.msg, m2), "%s: message '%s' lacks '%s'", what, err.msg, m2);
    CHECK(g == NULL);
    enh_graph_free(g);
}

int main(void)
{
    synth_bin(bin);
    enh_graph *g;
    enh_error err;
    CHECK_MSG(parse(synth_param, SYNTH_BIN_LEN, &g, &err) == ENH_OK, "%s", err.msg);
    /* split resolved as aliasing: 7 nodes, 8 tensors; conv1 keeps its LeakyReLU */
    CHECK(g->nnodes == 7 && g->ntensors == 7);
    CHECK(g->nodes[1].op == ENH_OP_CONV && g->nodes[1].p.conv.cin == 3 && g->nodes[1].p.conv.cout == 4);
    CHECK(g->nodes[3].act.kind == ENH_NACT_LEAKY && fabsf(g->nodes[3].act.a - 0.2f) < 1e-7f);
    CHECK(g->nodes[1].p.conv.weight[0] == ((0 * 37) % 17 - 8) / 32.f); /* fp16 decoded exactly */
    CHECK(g->nodes[5].in[0] == g->nodes[1].in[0]);                     /* both Split outputs = input */

    /* executor on the loaded model == the same network computed op by op */
    enh_model *m;
    float *w0 = malloc(108 * 4), *w1 = malloc(432 * 4);
    memcpy(w0, g->nodes[1].p.conv.weight, 108 * 4);
    memcpy(w1, g->nodes[3].p.conv.weight, 432 * 4);
    CHECK(enh_model_from_graph(g, &m, &err) == ENH_OK);
    const enh_model_info *info = enh_model_get_info(m);
    CHECK(info->scale == 2 && info->in_channels == 3 && info->out_channels == 3);
    CHECK_MSG(info->receptive_radius == 2, "radius %d", info->receptive_radius);
    CHECK_NEAR(info->flops_per_pixel, 2.0 * (108 + 432), 1e-6);
    const int H = 5, W = 7;
    nn_seed(11);
    float *x = nn_rand_buf(3 * H * W, 1), y[3 * 4 * H * W], want[3 * 4 * H * W];
    CHECK(enh_model_run(m, x, 1, H, W, y, NULL, &err) == ENH_OK);
    {
        float c0[4 * H * W], c1[12 * H * W], ps[3 * 4 * H * W], up[3 * 4 * H * W];
        float b0[4] = {0, 0.01f, 0.02f, 0.03f}, b1[12], sl[4] = {0.1f, 0.15f, 0.2f, 0.25f};
        for (int i = 0; i < 12; i++)
            b1[i] = -0.02f * i;
        enh_conv_params p0 = {.cin = 3, .cout = 4, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1,
                              .dil_w = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .groups = 1,
                              .weight = w0, .bias = b0, .act = ENH_ACT_PRELU, .prelu = sl, .prelu_count = 4};
        enh_conv2d_ref(&p0, x, 1, H, W, c0, NULL, NULL);
        enh_conv_params p1 = p0;
        p1.cin = 4;
        p1.cout = 12;
        p1.weight = w1;
        p1.bias = b1;
        p1.act = ENH_ACT_LEAKY;
        p1.act_slope = 0.2f;
        enh_conv2d_ref(&p1, c0, 1, H, W, c1, NULL, NULL);
        enh_pixelshuffle_ref(c1, 1, (enh_shape){12, H, W}, 2, 0, ps);
        for (int c = 0; c < 3; c++)
            for (int yy = 0; yy < 2 * H; yy++)
                for (int xx = 0; xx < 2 * W; xx++)
                    up[(c * 2 * H + yy) * 2 * W + xx] = x[(c * H + yy / 2) * W + xx / 2];
        for (int i = 0; i < 3 * 4 * H * W; i++)
            want[i] = ps[i] + up[i];
    }
    CHECK_MSG(nn_max_diff(y, want, 3 * 4 * H * W) <= 1e-6, "loaded model vs by hand: %g", nn_max_diff(y, want, 3 * 4 * H * W));
    enh_model_free(m);
    free(w0);
    free(w1);
    enh_free(x);

    /* malformed inputs: status + message naming the place */
    expect_error("truncated bin", synth_param, SYNTH_BIN_LEN - 4, ENH_EINVAL, "conv1", "byte offset 1984");
    expect_error("bin ends in a tag", synth_param, SYNTH_CONV1_TAG + 2, ENH_EINVAL, "conv1", "byte offset 252");
    expect_error("trailing bytes", synth_param, SYNTH_BIN_LEN + 8, ENH_EINVAL, "8 bytes at byte offset 2032", NULL);
    expect_error("bad magic", subst("7767517", "7767518"), SYNTH_BIN_LEN, ENH_EINVAL, "magic", NULL);
    expect_error("unknown layer", subst("PixelShuffle", "PixelShufflX"), SYNTH_BIN_LEN, ENH_EUNSUPPORTED, "layer 'ps'",
                 "byte offset");
    expect_error("layer count", subst("8 9", "9 9"), SYNTH_BIN_LEN, ENH_EINVAL, "declares 9 layers", NULL);
    expect_error("blob count", subst("8 9", "8 10"), SYNTH_BIN_LEN, ENH_EINVAL, "declares 10 blobs", NULL);
    expect_error("undefined blob", subst("1 1 p0 c1", "1 1 zz c1"), SYNTH_BIN_LEN, ENH_EINVAL, "layer 'conv1'", "'zz'");
    expect_error("weight size", subst("6=432", "6=431"), SYNTH_BIN_LEN, ENH_EINVAL, "layer 'conv1'", "weight_data_size");
    expect_error("array count", subst("-23310=1,", "-23310=2,"), SYNTH_BIN_LEN, ENH_EINVAL, "conv1", "declares 2 values");
    expect_error("bad key", subst("0=12", "x=12"), SYNTH_BIN_LEN, ENH_EINVAL, "conv1", "bad parameter key");
    expect_error("param id range", subst("0=12", "40=12"), SYNTH_BIN_LEN, ENH_EINVAL, "conv1", "out of range");
    expect_error("bad activation", subst("9=2", "9=9"), SYNTH_BIN_LEN, ENH_EUNSUPPORTED, "conv1", "activation_type 9");
    expect_error("huge kernel", subst("1=3 4=1 5=1 6=432", "1=300 4=1 5=1 6=432"), SYNTH_BIN_LEN, ENH_EINVAL, "conv1",
                 "out of range");
    expect_error("duplicate blob", subst("1 1 c1 ps", "1 1 c1 p0"), SYNTH_BIN_LEN, ENH_EINVAL, "'p0'", "already");
    put32(bin + SYNTH_CONV1_TAG, 0x12345678u);
    expect_error("weight tag", synth_param, SYNTH_BIN_LEN, ENH_EUNSUPPORTED, "0x12345678", "byte offset 252");
    synth_bin(bin);
    putf(bin + SYNTH_CONV1_W + 40, NAN);
    expect_error("NaN weight", synth_param, SYNTH_BIN_LEN, ENH_EINVAL, "non-finite", "byte offset 296");
    synth_bin(bin);
    /* a shape error shows at load (probe), naming the layer */
    {
        CHECK(parse(subst("0=4 1=3 4=1 5=1 6=108", "0=4 1=3 4=1 5=1 6=108 4=1"), SYNTH_BIN_LEN, &g, &err) == ENH_EINVAL);
        /* conv1 claiming 12 x 4 x 3 x 3 but as 6 x 8 x 3 x 3 -> channel mismatch with conv0's 4 outputs */
        const char *p = subst("0=12 1=3 4=1 5=1 6=432", "0=6 1=3 4=1 5=1 6=432");
        CHECK(parse(p, SYNTH_BIN_LEN - 24, &g, &err) == ENH_OK);
        enh_status st = enh_model_from_graph(g, &m, &err);
        CHECK_MSG(st == ENH_EINVAL && strstr(err.msg, "conv1") && strstr(err.msg, "channels"), "%d %s", st, err.msg);
    }
    /* missing files */
    CHECK(enh_ncnn_load_files("/nonexistent.param", "/nonexistent.bin", &g, &err) == ENH_ENOTFOUND);
    CHECK_MAIN_END();
}
