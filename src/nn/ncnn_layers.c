/* ncnn_layers.c - translation of each ncnn layer type (params + weights) into IR nodes.
 * Parameter ids follow ncnn's layer load_param(); limits keep hostile files from asking
 * for absurd shapes (the runtime also checks every tensor size at shape inference). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/ncnn_internal.h"

#define LIM_CH 65536
#define LIM_K 64
#define LIM_STRIDE 64
#define LIM_PAD 4096

static enh_status bad(const ncnn_layer *L, enh_error *err, const char *what)
{
    return enh_fail(err, ENH_EINVAL, "%s (%s): %s", L->where, L->type, what);
}

static enh_status need_inputs(const ncnn_layer *L, int lo, int hi, enh_error *err)
{
    if (L->nin < lo || L->nin > hi)
        return enh_fail(err, ENH_EINVAL, "%s (%s): has %d inputs, expected %d..%d", L->where, L->type,
                        L->nin, lo, hi);
    return ENH_OK;
}

static enh_node *add(enh_graph *g, const ncnn_layer *L, enh_op op, int out)
{
    enh_node *n = enh_graph_add(g, op, L->name, L->nin);
    if (!n)
        return NULL;
    for (int k = 0; k < L->nin; k++)
        n->in[k] = L->in[k];
    n->out = out;
    return n;
}

/* ncnn fused activation: 9=activation_type, 10=activation_params */
static enh_status parse_act(const ncnn_layer *L, enh_activation *a, enh_error *err)
{
    const ncnn_params *pd = L->pd;
    int type = ncnn_pi(pd, 9, 0);
    int np = pd->set[10] == 2 ? pd->arrn[10] : 0;
    memset(a, 0, sizeof *a);
    switch (type) {
    case 0: a->kind = ENH_NACT_NONE; return ENH_OK;
    case 1: a->kind = ENH_NACT_RELU; return ENH_OK;
    case 2:
        if (np < 1)
            return bad(L, err, "LeakyReLU activation (9=2) needs its slope in parameter 10");
        a->kind = ENH_NACT_LEAKY;
        a->a = pd->arr[10][0].f;
        return ENH_OK;
    case 3:
        if (np < 2)
            return bad(L, err, "Clip activation (9=3) needs min,max in parameter 10");
        a->kind = ENH_NACT_CLIP;
        a->a = pd->arr[10][0].f;
        a->b = pd->arr[10][1].f;
        return ENH_OK;
    case 4: a->kind = ENH_NACT_SIGMOID; return ENH_OK;
    default:
        return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): activation_type %d is not supported", L->where,
                        L->type, type);
    }
}

static int in_range(int v, int lo, int hi) { return v >= lo && v <= hi; }

static enh_status build_conv(enh_graph *g, const ncnn_layer *L, int out, int deconv, int depthwise,
                             enh_error *err)
{
    const ncnn_params *pd = L->pd;
    enh_status st = need_inputs(L, 1, 1, err);
    if (st)
        return st;
    int cout = ncnn_pi(pd, 0, 0), kw = ncnn_pi(pd, 1, 0), kh = ncnn_pi(pd, 11, kw);
    int dw = ncnn_pi(pd, 2, 1), dh = ncnn_pi(pd, 12, dw), sw = ncnn_pi(pd, 3, 1), sh = ncnn_pi(pd, 13, sw);
    int pl = ncnn_pi(pd, 4, 0), pr = ncnn_pi(pd, 15, pl), pt = ncnn_pi(pd, 14, pl), pb = ncnn_pi(pd, 16, pt);
    int bias = ncnn_pi(pd, 5, 0), wsize = ncnn_pi(pd, 6, 0), groups = depthwise ? ncnn_pi(pd, 7, 1) : 1;
    if (!in_range(cout, 1, LIM_CH) || !in_range(kw, 1, LIM_K) || !in_range(kh, 1, LIM_K))
        return bad(L, err, "num_output (0=) or kernel size (1=, 11=) out of range");
    if (!in_range(dw, 1, LIM_STRIDE) || !in_range(dh, 1, LIM_STRIDE) || !in_range(sw, 1, LIM_STRIDE) ||
        !in_range(sh, 1, LIM_STRIDE))
        return bad(L, err, "dilation (2=, 12=) or stride (3=, 13=) out of range");
    if (pl < 0 || pr < 0 || pt < 0 || pb < 0) {
        if (pl == -233 || pl == -234 || pt == -233 || pt == -234)
            return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): SAME padding modes (-233/-234) are not supported",
                            L->where, L->type);
        return bad(L, err, "negative padding");
    }
    if (pl > LIM_PAD || pr > LIM_PAD || pt > LIM_PAD || pb > LIM_PAD)
        return bad(L, err, "padding out of range");
    if (ncnn_pf(pd, 18, 0.f) != 0.f && !deconv)
        return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): non-zero pad_value is not supported", L->where, L->type);
    if (ncnn_pi(pd, 8, 0))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): int8 quantised weights are not supported", L->where, L->type);
    if (ncnn_pi(pd, 19, 0) && !deconv)
        return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): dynamic weights are not supported", L->where, L->type);
    if (deconv && (ncnn_pi(pd, 20, 0) || ncnn_pi(pd, 21, 0) || ncnn_pi(pd, 28, 0)))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): fixed output size / dynamic weights are not supported",
                        L->where, L->type);
    if (!in_range(groups, 1, LIM_CH) || cout % groups)
        return bad(L, err, "group (7=) must divide num_output");
    long long per = (long long)cout * kh * kw;
    if (wsize <= 0 || wsize % per)
        return bad(L, err, "weight_data_size (6=) is not a multiple of num_output * kernel_h * kernel_w");
    int cin_g = (int)(wsize / per);
    if ((long long)cin_g * groups > LIM_CH)
        return bad(L, err, "too many input channels");
    enh_node *n = add(g, L, deconv ? ENH_OP_DECONV : ENH_OP_CONV, out);
    if (!n)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    n->p.conv.cin = cin_g * groups;
    n->p.conv.cout = cout;
    n->p.conv.kh = kh;
    n->p.conv.kw = kw;
    n->p.conv.sh = sh;
    n->p.conv.sw = sw;
    n->p.conv.dh = dh;
    n->p.conv.dw = dw;
    n->p.conv.pt = pt;
    n->p.conv.pl = pl;
    n->p.conv.pb = pb;
    n->p.conv.pr = pr;
    n->p.conv.groups = groups;
    if (deconv) {
        n->p.conv.out_pad_r = ncnn_pi(pd, 18, 0);
        n->p.conv.out_pad_b = ncnn_pi(pd, 19, n->p.conv.out_pad_r);
        if (!in_range(n->p.conv.out_pad_r, 0, LIM_PAD) || !in_range(n->p.conv.out_pad_b, 0, LIM_PAD))
            return bad(L, err, "output padding (18=, 19=) out of range");
    }
    if ((st = parse_act(L, &n->act, err)) != ENH_OK)
        return st;
    if ((st = ncnn_read_tagged(L->bin, (size_t)wsize, &n->p.conv.weight, L->name, "weights", err)) != ENH_OK)
        return st;
    if (bias && (st = ncnn_read_raw(L->bin, (size_t)cout, &n->p.conv.bias, L->name, "bias", err)) != ENH_OK)
        return st;
    return ENH_OK;
}

static enh_status build_fc(enh_graph *g, const ncnn_layer *L, int out, enh_error *err)
{
    const ncnn_params *pd = L->pd;
    enh_status st = need_inputs(L, 1, 1, err);
    if (st)
        return st;
    int nout = ncnn_pi(pd, 0, 0), bias = ncnn_pi(pd, 1, 0), wsize = ncnn_pi(pd, 2, 0);
    if (!in_range(nout, 1, 1 << 20) || wsize <= 0 || wsize % nout)
        return bad(L, err, "num_output (0=) / weight_data_size (2=) inconsistent");
    if (ncnn_pi(pd, 8, 0))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): int8 quantised weights are not supported", L->where, L->type);
    enh_node *n = add(g, L, ENH_OP_INNERPRODUCT, out);
    if (!n)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    n->p.fc.num_output = nout;
    n->p.fc.in_size = wsize / nout;
    if ((st = parse_act(L, &n->act, err)) != ENH_OK)
        return st;
    if ((st = ncnn_read_tagged(L->bin, (size_t)wsize, &n->p.fc.weight, L->name, "weights", err)) != ENH_OK)
        return st;
    if (bias && (st = ncnn_read_raw(L->bin, (size_t)nout, &n->p.fc.bias, L->name, "bias", err)) != ENH_OK)
        return st;
    return ENH_OK;
}

static enh_status build_act(enh_graph *g, const ncnn_layer *L, int out, enh_error *err)
{
    const ncnn_params *pd = L->pd;
    enh_status st = need_inputs(L, 1, 1, err);
    if (st)
        return st;
    enh_activation a = {0};
    if (!strcmp(L->type, "ReLU")) {
        a.a = ncnn_pf(pd, 0, 0.f);
        a.kind = a.a != 0.f ? ENH_NACT_LEAKY : ENH_NACT_RELU;
    } else if (!strcmp(L->type, "Clip")) {
        a.kind = ENH_NACT_CLIP;
        a.a = ncnn_pf(pd, 0, -FLT_MAX);
        a.b = ncnn_pf(pd, 1, FLT_MAX);
    } else if (!strcmp(L->type, "Sigmoid")) {
        a.kind = ENH_NACT_SIGMOID;
    } else { /* PReLU */
        int ns = ncnn_pi(pd, 0, 0);
        if (!in_range(ns, 1, LIM_CH))
            return bad(L, err, "num_slope (0=) out of range");
        a.kind = ENH_NACT_PRELU;
        a.nslopes = ns;
        if ((st = ncnn_read_raw(L->bin, (size_t)ns, &a.slopes, L->name, "slopes", err)) != ENH_OK)
            return st;
    }
    enh_node *n = add(g, L, ENH_OP_ACT, out);
    if (!n) {
        enh_free(a.slopes);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    n->act = a;
    return ENH_OK;
}

static int axis3(int axis) { return axis < 0 ? axis + 3 : axis; }

static enh_status build_crop(enh_graph *g, const ncnn_layer *L, int out, enh_error *err)
{
    const ncnn_params *pd = L->pd;
    enh_status st = need_inputs(L, 1, 1, err);
    if (st)
        return st;
    enh_node *n = add(g, L, ENH_OP_CROP, out);
    if (!n)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    for (int a = 0; a < 3; a++) {
        n->p.crop.start[a] = 0;
        n->p.crop.end[a] = ENH_CROP_END;
        n->p.crop.size[a] = 0;
    }
    if (pd->set[9] == 2) { /* starts / ends / axes */
        int ns = pd->arrn[9], ne = pd->set[10] == 2 ? pd->arrn[10] : 0, na = pd->set[11] == 2 ? pd->arrn[11] : 0;
        if (ns > 3 || (ne && ne != ns) || (na && na != ns))
            return bad(L, err, "starts (9), ends (10) and axes (11) must have the same length (<= 3)");
        for (int i = 0; i < ns; i++) {
            int ax = na ? axis3(pd->arr[11][i].i) : i;
            if (ax < 0 || ax > 2)
                return bad(L, err, "crop axis out of range");
            n->p.crop.start[ax] = pd->arr[9][i].i;
            n->p.crop.end[ax] = ne ? pd->arr[10][i].i : ENH_CROP_END;
        }
        return ENH_OK;
    }
    int off[3] = {ncnn_pi(pd, 2, 0), ncnn_pi(pd, 1, 0), ncnn_pi(pd, 0, 0)};
    int size[3] = {ncnn_pi(pd, 5, 0), ncnn_pi(pd, 4, 0), ncnn_pi(pd, 3, 0)};
    int off2[3] = {ncnn_pi(pd, 8, 0), ncnn_pi(pd, 7, 0), ncnn_pi(pd, 6, 0)};
    for (int a = 0; a < 3; a++) {
        if (off[a] < 0 || off2[a] < 0 || (size[a] < 0 && size[a] != -233))
            return bad(L, err, "negative crop offset or size");
        n->p.crop.start[a] = off[a];
        if (size[a] > 0)
            n->p.crop.size[a] = size[a];
        else
            n->p.crop.end[a] = off2[a] ? -off2[a] : ENH_CROP_END;
    }
    return ENH_OK;
}

static enh_status build_pool(enh_graph *g, const ncnn_layer *L, int out, enh_error *err)
{
    const ncnn_params *pd = L->pd;
    enh_status st = need_inputs(L, 1, 1, err);
    if (st)
        return st;
    int type = ncnn_pi(pd, 0, 0), kw = ncnn_pi(pd, 1, 0), kh = ncnn_pi(pd, 11, kw);
    int sw = ncnn_pi(pd, 2, 1), sh = ncnn_pi(pd, 12, sw);
    int pl = ncnn_pi(pd, 3, 0), pr = ncnn_pi(pd, 14, pl), pt = ncnn_pi(pd, 13, pl), pb = ncnn_pi(pd, 15, pt);
    int global = ncnn_pi(pd, 4, 0), mode = ncnn_pi(pd, 5, 0);
    if (type != 0 && type != 1)
        return bad(L, err, "pooling_type (0=) must be 0 (max) or 1 (average)");
    if (ncnn_pi(pd, 7, 0))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): adaptive pooling is not supported", L->where, L->type);
    if (!global && (!in_range(kw, 1, LIM_K) || !in_range(kh, 1, LIM_K) || !in_range(sw, 1, LIM_STRIDE) ||
                    !in_range(sh, 1, LIM_STRIDE) || !in_range(pl, 0, LIM_K) || !in_range(pr, 0, LIM_K) ||
                    !in_range(pt, 0, LIM_K) || !in_range(pb, 0, LIM_K) || !in_range(mode, 0, 3)))
        return bad(L, err, "kernel, stride, padding or pad_mode out of range");
    enh_node *n = add(g, L, ENH_OP_POOL, out);
    if (!n)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    n->p.pool.max = type == 0;
    n->p.pool.global = global != 0;
    n->p.pool.kh = kh;
    n->p.pool.kw = kw;
    n->p.pool.sh = sh;
    n->p.pool.sw = sw;
    n->p.pool.pt = pt;
    n->p.pool.pl = pl;
    n->p.pool.pb = pb;
    n->p.pool.pr = pr;
    n->p.pool.pad_mode = mode;
    n->p.pool.count_include_pad = ncnn_pi(pd, 6, 0) != 0;
    return ENH_OK;
}

enh_status ncnn_build_layer(enh_graph *g, const ncnn_layer *L, int out, enh_error *err)
{
    const ncnn_params *pd = L->pd;
    const char *t = L->type;
    enh_status st;
    enh_node *n;
    if (!strcmp(t, "Input")) {
        if ((st = need_inputs(L, 0, 0, err)) != ENH_OK)
            return st;
        if (g->input >= 0)
            return bad(L, err, "only one Input layer is supported");
        if (!(n = add(g, L, ENH_OP_INPUT, out)))
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        g->input = out;
        int c = ncnn_pi(pd, 2, 0);
        if (c > 0 && c <= 4)
            g->in_channels = c;
        return ENH_OK;
    }
    if (!strcmp(t, "Convolution"))
        return build_conv(g, L, out, 0, 0, err);
    if (!strcmp(t, "ConvolutionDepthWise"))
        return build_conv(g, L, out, 0, 1, err);
    if (!strcmp(t, "Deconvolution"))
        return build_conv(g, L, out, 1, 0, err);
    if (!strcmp(t, "DeconvolutionDepthWise"))
        return build_conv(g, L, out, 1, 1, err);
    if (!strcmp(t, "InnerProduct"))
        return build_fc(g, L, out, err);
    if (!strcmp(t, "ReLU") || !strcmp(t, "PReLU") || !strcmp(t, "Clip") || !strcmp(t, "Sigmoid"))
        return build_act(g, L, out, err);
    if (!strcmp(t, "Crop"))
        return build_crop(g, L, out, err);
    if (!strcmp(t, "Pooling"))
        return build_pool(g, L, out, err);
    if (!strcmp(t, "PixelShuffle")) {
        int r = ncnn_pi(pd, 0, 1), mode = ncnn_pi(pd, 1, 0);
        if ((st = need_inputs(L, 1, 1, err)) != ENH_OK)
            return st;
        if (!in_range(r, 1, 16) || (mode != 0 && mode != 1))
            return bad(L, err, "upscale_factor (0=) must be 1..16 and mode (1=) 0 or 1");
        if (!(n = add(g, L, ENH_OP_PIXELSHUFFLE, out)))
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        n->p.ps.r = r;
        n->p.ps.dcr = mode;
        return ENH_OK;
    }
    if (!strcmp(t, "Interp")) {
        if ((st = need_inputs(L, 1, 1, err)) != ENH_OK)
            return st;
        int mode = ncnn_pi(pd, 0, 0);
        float hs = ncnn_pf(pd, 1, 1.f), ws = ncnn_pf(pd, 2, 1.f);
        int oh = ncnn_pi(pd, 3, 0), ow = ncnn_pi(pd, 4, 0);
        if (mode < 1 || mode > 3)
            return bad(L, err, "resize_type (0=) must be 1 (nearest), 2 (bilinear) or 3 (bicubic)");
        if (ncnn_pi(pd, 5, 0))
            return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): dynamic target size is not supported", L->where, t);
        if (!(hs > 0.f && hs <= 64.f && ws > 0.f && ws <= 64.f) || !in_range(oh, 0, 1 << 16) ||
            !in_range(ow, 0, 1 << 16))
            return bad(L, err, "scales (1=, 2=) must be in (0, 64] and output sizes (3=, 4=) >= 0");
        if (!(n = add(g, L, ENH_OP_INTERP, out)))
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        n->p.interp.mode = (enh_interp_mode)mode;
        n->p.interp.scale_h = hs;
        n->p.interp.scale_w = ws;
        n->p.interp.out_h = oh;
        n->p.interp.out_w = ow;
        n->p.interp.align_corners = ncnn_pi(pd, 6, 0) != 0;
        return ENH_OK;
    }
    if (!strcmp(t, "BinaryOp")) {
        int op = ncnn_pi(pd, 0, 0), ws = ncnn_pi(pd, 1, 0);
        if ((st = need_inputs(L, ws ? 1 : 2, ws ? 1 : 2, err)) != ENH_OK)
            return st;
        if (!in_range(op, 0, 8))
            return enh_fail(err, ENH_EUNSUPPORTED, "%s (%s): op_type %d is not supported", L->where, t, op);
        if (!(n = add(g, L, ENH_OP_BINARY, out)))
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        n->p.bin.op = (enh_binop)op;
        n->p.bin.with_scalar = ws != 0;
        n->p.bin.scalar = ncnn_pf(pd, 2, 0.f);
        return ENH_OK;
    }
    if (!strcmp(t, "Eltwise")) {
        int op = ncnn_pi(pd, 0, 0);
        int nc = pd->set[1] == 2 ? pd->arrn[1] : 0;
        if ((st = need_inputs(L, 1, 1024, err)) != ENH_OK)
            return st;
        if (!in_range(op, 0, 2))
            return bad(L, err, "op_type (0=) must be 0 (prod), 1 (sum) or 2 (max)");
        if (nc && nc != L->nin)
            return bad(L, err, "the number of coefficients (1=) must match the number of inputs");
        if (!(n = add(g, L, ENH_OP_ELTWISE, out)))
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        n->p.elt.op = (enh_eltop)op;
        if (nc && op == ENH_ELT_SUM) {
            n->p.elt.coeffs = malloc((size_t)nc * sizeof(float));
            if (!n->p.elt.coeffs)
                return enh_fail(err, ENH_ENOMEM, "out of memory");
            for (int i = 0; i < nc; i++)
                n->p.elt.coeffs[i] = pd->arr[1][i].f;
        }
        return ENH_OK;
    }
    if (!strcmp(t, "Concat")) {
        int axis = axis3(ncnn_pi(pd, 0, 0));
        if ((st = need_inputs(L, 1, 1024, err)) != ENH_OK)
            return st;
        if (!in_range(axis, 0, 2))
            return bad(L, err, "axis (0=) must be 0, 1 or 2");
        if (!(n = add(g, L, ENH_OP_CONCAT, out)))
            return enh_fail(err, ENH_ENOMEM, "out of memory");
        n->p.concat.axis = axis;
        return ENH_OK;
    }
    return enh_fail(err, ENH_EUNSUPPORTED, "%s: layer type '%.40s' is not supported", L->where, t);
}
