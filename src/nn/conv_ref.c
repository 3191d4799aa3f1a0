/* conv_ref.c - the reference convolution (see conv.h). Deliberately simple: one output
 * plane per task, loops in the textbook order, double-free of cleverness. */
#include "nn/conv.h"

void enh_conv_out_size(const enh_conv_params *p, int h, int w, int *oh, int *ow)
{
    int ekh = p->dil_h * (p->kh - 1) + 1;
    int ekw = p->dil_w * (p->kw - 1) + 1;
    *oh = (h + p->pad_top + p->pad_bottom - ekh) / p->stride_h + 1;
    *ow = (w + p->pad_left + p->pad_right - ekw) / p->stride_w + 1;
    if (h + p->pad_top + p->pad_bottom < ekh)
        *oh = 0;
    if (w + p->pad_left + p->pad_right < ekw)
        *ow = 0;
}

typedef struct {
    const enh_conv_params *p;
    const float *in;
    float *out;
    const float *residual;
    int h, w, oh, ow;
} ref_job;

static float activate(const enh_conv_params *p, int o, float v)
{
    switch (p->act) {
    case ENH_ACT_NONE: return v;
    case ENH_ACT_RELU: return v > 0 ? v : 0;
    case ENH_ACT_LEAKY: return v > 0 ? v : v * p->act_slope;
    case ENH_ACT_PRELU: return v > 0 ? v : v * p->prelu[p->prelu_count == 1 ? 0 : o];
    }
    return v;
}

static void ref_plane(void *vctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    const ref_job *j = vctx;
    const enh_conv_params *p = j->p;
    int cin_g = p->cin / p->groups, cout_g = p->cout / p->groups;
    size_t in_plane = (size_t)j->h * j->w, out_plane = (size_t)j->oh * j->ow;
    for (size_t t = begin; t < end; t++) {
        int b = (int)(t / (size_t)p->cout), o = (int)(t % (size_t)p->cout);
        int g = o / cout_g;
        const float *wo = p->weight + (size_t)o * cin_g * p->kh * p->kw;
        float *dst = j->out + ((size_t)b * p->cout + o) * out_plane;
        for (int y = 0; y < j->oh; y++) {
            for (int x = 0; x < j->ow; x++) {
                double acc = p->bias ? p->bias[o] : 0.0;
                for (int i = 0; i < cin_g; i++) {
                    const float *src = j->in + ((size_t)b * p->cin + (size_t)g * cin_g + i) * in_plane;
                    const float *wi = wo + (size_t)i * p->kh * p->kw;
                    for (int ky = 0; ky < p->kh; ky++) {
                        int iy = y * p->stride_h - p->pad_top + ky * p->dil_h;
                        if (iy < 0 || iy >= j->h)
                            continue;
                        for (int kx = 0; kx < p->kw; kx++) {
                            int ix = x * p->stride_w - p->pad_left + kx * p->dil_w;
                            if (ix < 0 || ix >= j->w)
                                continue;
                            acc += (double)wi[ky * p->kw + kx] * (double)src[(size_t)iy * j->w + ix];
                        }
                    }
                }
                float v = activate(p, o, (float)acc);
                if (j->residual)
                    v += j->residual[((size_t)b * p->cout + o) * out_plane + (size_t)y * j->ow + x];
                dst[(size_t)y * j->ow + x] = v;
            }
        }
    }
}

void enh_conv2d_ref(const enh_conv_params *p, const float *in, int n, int h, int w, float *out,
                    const float *residual, enh_pool *pool)
{
    ref_job j = {.p = p, .in = in, .out = out, .residual = residual, .h = h, .w = w};
    enh_conv_out_size(p, h, w, &j.oh, &j.ow);
    if (j.oh <= 0 || j.ow <= 0)
        return;
    enh_pool_run(pool ? pool : enh_pool_default(), (size_t)n * p->cout, 1, ref_plane, &j);
}
