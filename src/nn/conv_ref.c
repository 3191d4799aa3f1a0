/* conv_ref.c - the reference convolution (see conv.h), the oracle for the fast kernels.
 *
 * Plain C, no intrinsics. One task computes one output plane (image b, channel o), one
 * output row at a time into a row of double accumulators. For every output pixel the
 * terms are summed in the textbook order (input channel, kernel row, kernel column), in
 * double, starting from the bias; only the loop nest is arranged so that the innermost
 * loop runs along the row (which the compiler can vectorise) and the zero padding is
 * handled by clipping each row's valid x range instead of testing every tap.
 * Rows are processed in chunks of CHUNK columns so the accumulators live on the stack
 * (the kernel cannot fail). */
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

#define CHUNK 256 /* output columns per accumulator row (on the stack) */

static float activate(const enh_conv_params *p, int o, float v)
{
    switch (p->act) {
    case ENH_ACT_NONE: return v;
    case ENH_ACT_RELU: return v > 0 ? v : 0;
    case ENH_ACT_LEAKY: return v > 0 ? v : v * p->act_slope;
    case ENH_ACT_PRELU: return v > 0 ? v : v * p->prelu[p->prelu_count == 1 ? 0 : o];
    case ENH_ACT_CLIP: return v < p->clip_lo ? p->clip_lo : (v > p->clip_hi ? p->clip_hi : v);
    }
    return v;
}

/* first x with x*s - pad + off >= 0, and one past the last x with it < w (clipped to [0, ow]) */
static void valid_range(int s, int pad, int off, int w, int ow, int *lo, int *hi)
{
    int a = pad - off; /* need x*s >= a */
    int l = a <= 0 ? 0 : (a + s - 1) / s;
    int b = w - 1 + pad - off; /* need x*s <= b */
    int hh = b < 0 ? 0 : b / s + 1;
    *lo = l < ow ? l : ow;
    *hi = hh < ow ? hh : ow;
    if (*hi < *lo)
        *hi = *lo;
}

static void ref_plane(void *vctx, size_t begin, size_t end, int slot)
{
    const ref_job *j = vctx;
    const enh_conv_params *p = j->p;
    const int cin_g = p->cin / p->groups, cout_g = p->cout / p->groups;
    const int sw = p->stride_w, kw = p->kw, kh = p->kh;
    const size_t in_plane = (size_t)j->h * j->w, out_plane = (size_t)j->oh * j->ow;
    (void)slot;
    double acc_row[CHUNK];
    for (size_t t = begin; t < end; t++) {
        int b = (int)(t / (size_t)p->cout), o = (int)(t % (size_t)p->cout);
        int g = o / cout_g;
        const float *wo = p->weight + (size_t)o * cin_g * kh * kw;
        float *dst = j->out + ((size_t)b * p->cout + o) * out_plane;
        const float *res = j->residual ? j->residual + ((size_t)b * p->cout + o) * out_plane : NULL;
        const double bias = p->bias ? p->bias[o] : 0.0;
        for (int y = 0; y < j->oh; y++)
        for (int x0 = 0; x0 < j->ow; x0 += CHUNK) {
            const int x1 = x0 + CHUNK < j->ow ? x0 + CHUNK : j->ow;
            double *acc = acc_row; /* acc[x - x0] for x in [x0, x1) */
            for (int x = x0; x < x1; x++)
                acc[x - x0] = bias;
            for (int i = 0; i < cin_g; i++) {
                const float *src = j->in + ((size_t)b * p->cin + (size_t)g * cin_g + i) * in_plane;
                const float *wi = wo + (size_t)i * kh * kw;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = y * p->stride_h - p->pad_top + ky * p->dil_h;
                    if (iy < 0 || iy >= j->h)
                        continue;
                    const float *row = src + (size_t)iy * j->w;
                    for (int kx = 0; kx < kw; kx++) {
                        const double wv = wi[ky * kw + kx];
                        const int off = kx * p->dil_w - p->pad_left; /* ix = x*sw + off */
                        int lo, hi;
                        valid_range(sw, p->pad_left, kx * p->dil_w, j->w, j->ow, &lo, &hi);
                        lo = lo > x0 ? lo : x0;
                        hi = hi < x1 ? hi : x1;
                        if (sw == 1) {
                            for (int x = lo; x < hi; x++)
                                acc[x - x0] += wv * (double)row[x + off];
                        } else {
                            for (int x = lo; x < hi; x++)
                                acc[x - x0] += wv * (double)row[x * sw + off];
                        }
                    }
                }
            }
            float *d = dst + (size_t)y * j->ow;
            for (int x = x0; x < x1; x++) {
                float v = activate(p, o, (float)acc[x - x0]);
                if (res)
                    v += res[(size_t)y * j->ow + x];
                d[x] = v;
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
