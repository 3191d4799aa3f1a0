/* graph_shape.c - shape inference, receptive field and FLOP count of the graph IR. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"

#define MAX_ELEMS ((long long)1 << 31)

void enh_pool_resolve(const enh_node *n, int h, int w, int *pt, int *pb, int *pl, int *pr, int *oh,
                      int *ow)
{
    const int kh = n->p.pool.kh, kw = n->p.pool.kw, sh = n->p.pool.sh, sw = n->p.pool.sw;
    *pt = n->p.pool.pt;
    *pb = n->p.pool.pb;
    *pl = n->p.pool.pl;
    *pr = n->p.pool.pr;
    if (n->p.pool.pad_mode == 0) { /* full: pad the tail so the last window fits */
        int ht = (h + *pt + *pb - kh) % sh, wt = (w + *pl + *pr - kw) % sw;
        if (h + *pt + *pb >= kh && ht)
            *pb += sh - ht;
        if (w + *pl + *pr >= kw && wt)
            *pr += sw - wt;
    } else if (n->p.pool.pad_mode >= 2) {
        int hp = kh + (h - 1) / sh * sh - h, wp = kw + (w - 1) / sw * sw - w;
        if (hp < 0)
            hp = 0;
        if (wp < 0)
            wp = 0;
        int upper = n->p.pool.pad_mode == 2;
        *pt = upper ? hp / 2 : hp - hp / 2;
        *pb = hp - *pt;
        *pl = upper ? wp / 2 : wp - wp / 2;
        *pr = wp - *pl;
    }
    *oh = h + *pt + *pb >= kh ? (h + *pt + *pb - kh) / sh + 1 : 0;
    *ow = w + *pl + *pr >= kw ? (w + *pl + *pr - kw) / sw + 1 : 0;
}

int enh_crop_resolve(const enh_node *n, const enh_shape *in, int start[3], int len[3])
{
    int dims[3] = {in->c, in->h, in->w};
    for (int a = 0; a < 3; a++) {
        long long s = n->p.crop.start[a], e;
        if (s < 0)
            s += dims[a];
        if (n->p.crop.size[a] > 0)
            e = s + n->p.crop.size[a];
        else if (n->p.crop.end[a] == ENH_CROP_END)
            e = dims[a];
        else if (n->p.crop.end[a] < 0)
            e = (long long)dims[a] + n->p.crop.end[a];
        else
            e = n->p.crop.end[a];
        if (e > dims[a])
            e = dims[a];
        if (s < 0 || s >= e)
            return -1;
        start[a] = (int)s;
        len[a] = (int)(e - s);
    }
    return 0;
}

static int shape_ok(const enh_shape *s)
{
    return s->c > 0 && s->h > 0 && s->w > 0 && (long long)s->c * s->h * s->w < MAX_ELEMS;
}

enh_status enh_graph_infer_shapes(const enh_graph *g, int c, int h, int w, enh_shape *shapes,
                                  enh_error *err)
{
    memset(shapes, 0, (size_t)g->ntensors * sizeof *shapes);
    for (int i = 0; i < g->nnodes; i++) {
        const enh_node *n = &g->nodes[i];
        const enh_shape *a = n->nin > 0 ? &shapes[n->in[0]] : NULL;
        enh_shape o = {0, 0, 0};
        switch (n->op) {
        case ENH_OP_INPUT:
            o = (enh_shape){c, h, w};
            break;
        case ENH_OP_CONV: {
            if (a->c != n->p.conv.cin)
                return enh_fail(err, ENH_EINVAL, "layer '%s': input has %d channels, the convolution expects %d",
                                n->name, a->c, n->p.conv.cin);
            long long eh = (long long)n->p.conv.dh * (n->p.conv.kh - 1) + 1, ew = (long long)n->p.conv.dw * (n->p.conv.kw - 1) + 1;
            long long ph = (long long)a->h + n->p.conv.pt + n->p.conv.pb, pw = (long long)a->w + n->p.conv.pl + n->p.conv.pr;
            o.c = n->p.conv.cout;
            o.h = ph >= eh ? (int)((ph - eh) / n->p.conv.sh + 1) : 0;
            o.w = pw >= ew ? (int)((pw - ew) / n->p.conv.sw + 1) : 0;
            if (n->nin == 2) {
                const enh_shape *r = &shapes[n->in[1]];
                if (r->c != o.c || r->h != o.h || r->w != o.w)
                    return enh_fail(err, ENH_EINVAL, "layer '%s': residual shape mismatch", n->name);
            }
            break;
        }
        case ENH_OP_DECONV: {
            if (a->c != n->p.conv.cin)
                return enh_fail(err, ENH_EINVAL, "layer '%s': input has %d channels, the deconvolution expects %d",
                                n->name, a->c, n->p.conv.cin);
            long long oh = (long long)(a->h - 1) * n->p.conv.sh + (long long)n->p.conv.dh * (n->p.conv.kh - 1) + 1 +
                           n->p.conv.out_pad_b - n->p.conv.pt - n->p.conv.pb;
            long long ow = (long long)(a->w - 1) * n->p.conv.sw + (long long)n->p.conv.dw * (n->p.conv.kw - 1) + 1 +
                           n->p.conv.out_pad_r - n->p.conv.pl - n->p.conv.pr;
            o.c = n->p.conv.cout;
            o.h = oh > 0 && oh < MAX_ELEMS ? (int)oh : 0;
            o.w = ow > 0 && ow < MAX_ELEMS ? (int)ow : 0;
            break;
        }
        case ENH_OP_ACT:
            if (n->act.kind == ENH_NACT_PRELU && n->act.nslopes != 1 && n->act.nslopes != a->c)
                return enh_fail(err, ENH_EINVAL, "layer '%s': %d PReLU slopes for %d channels", n->name,
                                n->act.nslopes, a->c);
            o = *a;
            break;
        case ENH_OP_PIXELSHUFFLE: {
            int r2 = n->p.ps.r * n->p.ps.r;
            if (a->c % r2)
                return enh_fail(err, ENH_EINVAL, "layer '%s': %d channels are not divisible by %d", n->name, a->c, r2);
            long long oh = (long long)a->h * n->p.ps.r, ow = (long long)a->w * n->p.ps.r;
            o = (enh_shape){a->c / r2, oh < MAX_ELEMS ? (int)oh : 0, ow < MAX_ELEMS ? (int)ow : 0};
            break;
        }
        case ENH_OP_INTERP: {
            double oh = n->p.interp.out_h ? n->p.interp.out_h : floor((double)a->h * n->p.interp.scale_h);
            double ow = n->p.interp.out_w ? n->p.interp.out_w : floor((double)a->w * n->p.interp.scale_w);
            o = (enh_shape){a->c, oh < (double)MAX_ELEMS ? (int)oh : 0, ow < (double)MAX_ELEMS ? (int)ow : 0};
            break;
        }
        case ENH_OP_BINARY:
            o = *a;
            if (!n->p.bin.with_scalar) {
                const enh_shape *b = &shapes[n->in[1]];
                int ad[3] = {a->c, a->h, a->w}, bd[3] = {b->c, b->h, b->w}, od[3];
                for (int k = 0; k < 3; k++) {
                    if (ad[k] != bd[k] && ad[k] != 1 && bd[k] != 1)
                        return enh_fail(err, ENH_EINVAL, "layer '%s': shapes %dx%dx%d and %dx%dx%d do not broadcast",
                                        n->name, a->c, a->h, a->w, b->c, b->h, b->w);
                    od[k] = ad[k] > bd[k] ? ad[k] : bd[k];
                }
                o = (enh_shape){od[0], od[1], od[2]};
            }
            break;
        case ENH_OP_ELTWISE:
            o = *a;
            for (int k = 1; k < n->nin; k++) {
                const enh_shape *b = &shapes[n->in[k]];
                if (b->c != a->c || b->h != a->h || b->w != a->w)
                    return enh_fail(err, ENH_EINVAL, "layer '%s': inputs have different shapes", n->name);
            }
            break;
        case ENH_OP_CONCAT: {
            o = *a;
            long long sum = 0;
            for (int k = 0; k < n->nin; k++) {
                const enh_shape *b = &shapes[n->in[k]];
                int bd[3] = {b->c, b->h, b->w}, ad[3] = {a->c, a->h, a->w};
                for (int d = 0; d < 3; d++)
                    if (d != n->p.concat.axis && bd[d] != ad[d])
                        return enh_fail(err, ENH_EINVAL, "layer '%s': inputs differ outside the concat axis", n->name);
                sum += bd[n->p.concat.axis];
            }
            if (sum >= MAX_ELEMS)
                sum = 0;
            if (n->p.concat.axis == 0)
                o.c = (int)sum;
            else if (n->p.concat.axis == 1)
                o.h = (int)sum;
            else
                o.w = (int)sum;
            break;
        }
        case ENH_OP_CROP: {
            int st[3], len[3];
            if (enh_crop_resolve(n, a, st, len))
                return enh_fail(err, ENH_EINVAL, "layer '%s': crop box is empty or outside a %dx%dx%d input",
                                n->name, a->c, a->h, a->w);
            o = (enh_shape){len[0], len[1], len[2]};
            break;
        }
        case ENH_OP_POOL:
            if (n->p.pool.global) {
                o = (enh_shape){a->c, 1, 1};
            } else {
                int pt, pb, pl, pr;
                o.c = a->c;
                enh_pool_resolve(n, a->h, a->w, &pt, &pb, &pl, &pr, &o.h, &o.w);
            }
            break;
        case ENH_OP_INNERPRODUCT:
            if ((long long)a->c * a->h * a->w != n->p.fc.in_size)
                return enh_fail(err, ENH_EINVAL, "layer '%s': input has %lld values, InnerProduct expects %d", n->name,
                                (long long)a->c * a->h * a->w, n->p.fc.in_size);
            o = (enh_shape){n->p.fc.num_output, 1, 1};
            break;
        default:
            return enh_fail(err, ENH_EINTERNAL, "layer '%s': unknown op", n->name);
        }
        if (!shape_ok(&o))
            return enh_fail(err, o.h <= 0 || o.w <= 0 || o.c <= 0 ? ENH_EINVAL : ENH_ETOOBIG,
                            "layer '%s' (%s): output shape %dx%dx%d for a %dx%d input is %s", n->name,
                            enh_op_name(n->op), o.c, o.h, o.w, w, h,
                            o.h <= 0 || o.w <= 0 || o.c <= 0 ? "empty (input too small)" : "too large");
        shapes[n->out] = o;
    }
    return ENH_OK;
}

/* Receptive field, tracked per tensor in LR (input) pixel units: a pixel of tensor t at
 * grid position p depends on input pixels q with |(q+0.5) - (p+0.5)/s_t| <= r_t. */
int enh_graph_receptive_radius(const enh_graph *g)
{
    double *s = calloc((size_t)g->ntensors, sizeof *s), *r = calloc((size_t)g->ntensors, sizeof *r);
    char *unb = calloc((size_t)g->ntensors, 1);
    int result = -1;
    if (!s || !r || !unb)
        goto done;
    for (int i = 0; i < g->nnodes; i++) {
        const enh_node *n = &g->nodes[i];
        int o = n->out;
        if (n->op == ENH_OP_INPUT) {
            s[o] = 1;
            r[o] = 0;
            continue;
        }
        int a = n->in[0];
        double si = s[a], ri = r[a];
        unb[o] = unb[a];
        for (int k = 1; k < n->nin; k++) {
            int b = n->in[k];
            unb[o] |= unb[b];
            if (n->op == ENH_OP_BINARY || n->op == ENH_OP_ELTWISE || n->op == ENH_OP_CONCAT || n->op == ENH_OP_CONV) {
                if (fabs(s[b] - si) > 1e-9)
                    unb[o] = 1;
                if (r[b] > ri)
                    ri = r[b];
            }
        }
        double so = si, ro = ri;
        switch (n->op) {
        case ENH_OP_CONV: {
            /* output y reads input y*st - pad + k*d: centre distance |k*d - pad + 0.5 - st/2| */
            double worst_h = 0, worst_w = 0;
            for (int k = 0; k < n->p.conv.kh; k++)
                worst_h = fmax(worst_h, fabs(k * n->p.conv.dh - n->p.conv.pt + 0.5 - 0.5 * n->p.conv.sh));
            for (int k = 0; k < n->p.conv.kw; k++)
                worst_w = fmax(worst_w, fabs(k * n->p.conv.dw - n->p.conv.pl + 0.5 - 0.5 * n->p.conv.sw));
            so = si / n->p.conv.sh;
            ro = ri + fmax(worst_h, worst_w) / si;
            if (n->p.conv.sh != n->p.conv.sw || n->p.conv.pt != n->p.conv.pb || n->p.conv.pl != n->p.conv.pr)
                unb[o] = 1; /* the output grid is shifted relative to the input */
            break;
        }
        case ENH_OP_DECONV: {
            double worst = 0;
            for (int k = 0; k < n->p.conv.kh; k++)
                worst = fmax(worst, fabs(0.5 - (k * n->p.conv.dh - n->p.conv.pt + 0.5) / n->p.conv.sh));
            so = si * n->p.conv.sh;
            ro = ri + (worst + 1.0) / si;
            unb[o] = 1; /* crops/alignment of deconv outputs are not tracked */
            break;
        }
        case ENH_OP_PIXELSHUFFLE:
            so = si * n->p.ps.r;
            ro = ri + (n->p.ps.r - 1) / (2.0 * n->p.ps.r * si);
            break;
        case ENH_OP_INTERP: {
            double f = n->p.interp.scale_w;
            if (n->p.interp.out_h || n->p.interp.out_w || n->p.interp.align_corners ||
                n->p.interp.scale_h != n->p.interp.scale_w)
                unb[o] = 1;
            so = si * f;
            if (n->p.interp.mode == ENH_INTERP_NEAREST)
                ro = ri + (fabs(f - floor(f)) < 1e-9 ? (f - 1) / (2 * f) : 1.0) / si;
            else if (n->p.interp.mode == ENH_INTERP_BILINEAR)
                ro = ri + 1.0 / si;
            else
                ro = ri + 2.0 / si;
            break;
        }
        case ENH_OP_POOL:
            if (n->p.pool.global) {
                unb[o] = 1;
            } else {
                so = si / n->p.pool.sh;
                ro = ri + (double)(n->p.pool.kh > n->p.pool.kw ? n->p.pool.kh : n->p.pool.kw) / si;
                unb[o] = 1;
            }
            break;
        case ENH_OP_CROP:
        case ENH_OP_INNERPRODUCT:
            unb[o] = 1;
            break;
        default:
            break;
        }
        s[o] = so;
        r[o] = ro;
    }
    if (!unb[g->output] && s[g->output] >= 1.0) {
        double S = s[g->output];
        /* from the pixel's centre to its home input pixel floor(X / S): at most (S-1)/(2S) */
        double rr = r[g->output] + (S - 1) / (2 * S);
        result = (int)floor(rr + 1e-6);
    }
done:
    free(s);
    free(r);
    free(unb);
    return result;
}

double enh_graph_flops_per_pixel(const enh_graph *g)
{
    const int P = g->fixed_h > 0 ? g->fixed_h : 64, Q = g->fixed_w > 0 ? g->fixed_w : 64;
    enh_shape *sh = calloc((size_t)g->ntensors, sizeof *sh);
    if (!sh || enh_graph_infer_shapes(g, g->in_channels, P, Q, sh, NULL) != ENH_OK) {
        free(sh);
        return 0;
    }
    double macs = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const enh_node *n = &g->nodes[i];
        if (n->op == ENH_OP_CONV || n->op == ENH_OP_DECONV) {
            const enh_shape *pos = n->op == ENH_OP_CONV ? &sh[n->out] : &sh[n->in[0]];
            macs += (double)n->p.conv.cout * (n->p.conv.cin / n->p.conv.groups) * n->p.conv.kh * n->p.conv.kw *
                    pos->h * pos->w;
        } else if (n->op == ENH_OP_INNERPRODUCT) {
            macs += (double)n->p.fc.num_output * n->p.fc.in_size;
        }
    }
    free(sh);
    return 2.0 * macs / ((double)P * Q);
}
