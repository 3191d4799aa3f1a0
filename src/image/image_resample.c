/* image_resample.c - resizing: lanczos3 (vips_resize to reduce, our own separable pass to
 * enlarge) or the MATLAB imresize kernels (cubic/linear/nearest, our own separable passes
 * both ways); premultiplied alpha, depth kept. */
#include "image/image_resample.h"

#include <math.h>
#include <string.h>

#include "image/image_decode.h"
#include "image/image_internal.h"

#define LZ_A 3

typedef struct {
    int horizontal;
    int taps;
    double qmax; /* > 0: round half away from zero and clamp to 0..qmax after the pass (MATLAB uint8/16) */
    int *idx;    /* out_size * taps input indices (inside the image) */
    double *w;   /* out_size * taps weights (sum to 1) */
} rs_axis;

static double k_lanczos3(double x)
{
    x = fabs(x);
    if (x < 1e-9)
        return 1.0;
    if (x >= LZ_A)
        return 0.0;
    double px = M_PI * x;
    return LZ_A * sin(px) * sin(px / LZ_A) / (px * px);
}

/* Keys cubic convolution, a = -0.5 (MATLAB imresize 'bicubic'). */
static double k_cubic(double x)
{
    x = fabs(x);
    if (x <= 1)
        return (1.5 * x - 2.5) * x * x + 1;
    if (x <= 2)
        return ((-0.5 * x + 2.5) * x - 4) * x + 2;
    return 0;
}

static double k_linear(double x)
{
    x = fabs(x);
    return x < 1 ? 1 - x : 0;
}

/* MATLAB's box(): half-open [-0.5, 0.5), so a sample half-way between two pixels takes the higher one. */
static double k_nearest(double x) { return x >= -0.5 && x < 0.5 ? 1.0 : 0.0; }

static int mirror(int i, int n)
{
    int p = 2 * n; /* symmetric: -1 -> 0, -2 -> 1, n -> n-1 (0-based) */
    i %= p;
    if (i < 0)
        i += p;
    return i < n ? i : p - 1 - i;
}

/* Number of taps an axis needs for in_size -> out_size with kernel k. */
static int rs_taps(enh_kernel k, int in_size, int out_size)
{
    if (k == ENH_KERNEL_LANCZOS3)
        return 2 * LZ_A;
    double s = (double)out_size / in_size;
    double width = k == ENH_KERNEL_CUBIC ? 4.0 : k == ENH_KERNEL_LINEAR ? 2.0 : 1.0;
    if (s < 1 && k != ENH_KERNEL_NEAREST)
        width /= s;
    return (int)ceil(width) + 2;
}

/* Weights for in_size -> out_size, pixel centres aligned: x = (o + 0.5)/s - 0.5. lanczos3
 * (enlargement only) replicates the edges; the MATLAB kernels follow imresize's contributions(). */
static void rs_weights(rs_axis *ax, enh_kernel k, int in_size, int out_size)
{
    const double s = (double)out_size / in_size;
    const int t = ax->taps;
    double (*kf)(double) = k == ENH_KERNEL_CUBIC ? k_cubic : k == ENH_KERNEL_LINEAR ? k_linear : k_nearest;
    double width = k == ENH_KERNEL_CUBIC ? 4.0 : k == ENH_KERNEL_LINEAR ? 2.0 : 1.0;
    const int aa = s < 1 && k != ENH_KERNEL_NEAREST;
    if (aa)
        width /= s;
    for (int o = 0; o < out_size; o++) {
        double x = (o + 0.5) / s - 0.5, sum = 0;
        int *ix = ax->idx + (size_t)o * t;
        double *w = ax->w + (size_t)o * t;
        if (k == ENH_KERNEL_LANCZOS3) {
            int i0 = (int)floor(x) - (LZ_A - 1);
            for (int j = 0; j < t; j++) {
                int i = i0 + j;
                w[j] = k_lanczos3(x - i);
                ix[j] = i < 0 ? 0 : i >= in_size ? in_size - 1 : i;
                sum += w[j];
            }
        } else {
            /* imresize.m's own arithmetic, 1-based, so that ties round the same way */
            double x1 = (o + 1) / s + 0.5 * (1 - 1 / s);
            int left = (int)floor(x1 - width / 2);
            for (int j = 0; j < t; j++) {
                int i1 = left + j;
                w[j] = aa ? s * kf(s * (x1 - i1)) : kf(x1 - i1);
                ix[j] = mirror(i1 - 1, in_size);
                sum += w[j];
            }
        }
        for (int j = 0; j < t; j++)
            w[j] /= sum;
    }
}

typedef struct {
    VipsRegion *ir;
    const float **rows;
} rs_seq;

static void *rs_start(VipsImage *out, void *a, void *b)
{
    (void)out;
    const rs_axis *ax = b;
    rs_seq *s = g_new0(rs_seq, 1);
    s->ir = vips_region_new((VipsImage *)a);
    s->rows = g_new0(const float *, ax->taps);
    if (!s->ir) {
        g_free(s->rows);
        g_free(s);
        return NULL;
    }
    return s;
}

static int rs_stop(void *seq, void *a, void *b)
{
    (void)a;
    (void)b;
    rs_seq *s = seq;
    if (s->ir)
        g_object_unref(s->ir);
    g_free(s->rows);
    g_free(s);
    return 0;
}

static inline float rs_out(double acc, double qmax)
{
    if (qmax > 0) {
        acc = floor(acc + 0.5);
        acc = acc < 0 ? 0 : acc > qmax ? qmax : acc;
    }
    return (float)acc;
}

/* Smallest and largest input index used by outputs o0 .. o0+n-1. */
static void rs_span(const rs_axis *ax, int o0, int n, int *lo, int *hi)
{
    const int *ix = ax->idx + (size_t)o0 * ax->taps, m = n * ax->taps;
    int a = ix[0], b = ix[0];
    for (int i = 1; i < m; i++) {
        a = ix[i] < a ? ix[i] : a;
        b = ix[i] > b ? ix[i] : b;
    }
    *lo = a;
    *hi = b;
}

static int rs_gen(VipsRegion *out_region, void *seq, void *a, void *b, gboolean *stop)
{
    (void)a;
    (void)stop;
    rs_seq *sq = seq;
    VipsRegion *ir = sq->ir;
    const rs_axis *ax = b;
    const VipsRect *r = &out_region->valid;
    const int bands = out_region->im->Bands;
    const int t = ax->taps;
    int lo, hi;
    if (ax->horizontal) {
        rs_span(ax, r->left, r->width, &lo, &hi);
        VipsRect need = {lo, r->top, hi - lo + 1, r->height};
        if (vips_region_prepare(ir, &need))
            return -1;
        for (int y = r->top; y < r->top + r->height; y++) {
            const float *row = (const float *)VIPS_REGION_ADDR(ir, lo, y);
            float *q = (float *)VIPS_REGION_ADDR(out_region, r->left, y);
            for (int x = r->left; x < r->left + r->width; x++) {
                const int *ix = ax->idx + (size_t)x * t;
                const double *wx = ax->w + (size_t)x * t;
                for (int c = 0; c < bands; c++) {
                    double acc = 0;
                    for (int k = 0; k < t; k++)
                        acc += wx[k] * row[(ix[k] - lo) * bands + c];
                    *q++ = rs_out(acc, ax->qmax);
                }
            }
        }
    } else {
        rs_span(ax, r->top, r->height, &lo, &hi);
        VipsRect need = {r->left, lo, r->width, hi - lo + 1};
        if (vips_region_prepare(ir, &need))
            return -1;
        const int n = r->width * bands;
        for (int y = r->top; y < r->top + r->height; y++) {
            const int *iy = ax->idx + (size_t)y * t;
            const double *wy = ax->w + (size_t)y * t;
            float *q = (float *)VIPS_REGION_ADDR(out_region, r->left, y);
            for (int k = 0; k < t; k++)
                sq->rows[k] = (const float *)VIPS_REGION_ADDR(ir, r->left, iy[k]);
            for (int i = 0; i < n; i++) {
                double acc = 0;
                for (int k = 0; k < t; k++)
                    acc += wy[k] * sq->rows[k][i];
                q[i] = rs_out(acc, ax->qmax);
            }
        }
    }
    return 0;
}

/* Resamples float image `in` along one axis to `size` pixels with kernel k (lazily, tile by tile). */
static int rs_axis_pass(VipsImage *in, int horizontal, int size, enh_kernel k, double qmax, VipsImage **out)
{
    int in_size = horizontal ? in->Xsize : in->Ysize;
    VipsImage *o = vips_image_new();
    if (vips_image_pipelinev(o, VIPS_DEMAND_STYLE_SMALLTILE, in, NULL)) {
        g_object_unref(o);
        return -1;
    }
    if (horizontal)
        o->Xsize = size;
    else
        o->Ysize = size;
    rs_axis *ax = vips_malloc(VIPS_OBJECT(o), sizeof *ax);
    if (!ax) {
        g_object_unref(o);
        return -1;
    }
    ax->horizontal = horizontal;
    ax->taps = rs_taps(k, in_size, size);
    ax->qmax = qmax;
    ax->idx = vips_malloc(VIPS_OBJECT(o), sizeof(int) * (size_t)size * ax->taps);
    ax->w = vips_malloc(VIPS_OBJECT(o), sizeof(double) * (size_t)size * ax->taps);
    if (!ax->idx || !ax->w) {
        g_object_unref(o);
        return -1;
    }
    rs_weights(ax, k, in_size, size);
    /* `o` keeps `in` alive until it closes. */
    g_object_ref(in);
    vips_object_local(o, in);
    if (vips_image_generate(o, rs_start, rs_gen, rs_stop, in, ax)) {
        g_object_unref(o);
        return -1;
    }
    *out = o;
    return 0;
}


enh_status enh_image_resize_kernel(VipsImage *in, int width, int height, enh_kernel kernel, VipsImage **out,
                                   enh_error *err)
{
    *out = NULL;
    if (width < 1 || height < 1 || width > ENH_IMAGE_MAX_SIDE || height > ENH_IMAGE_MAX_SIDE)
        return enh_fail(err, ENH_EINVAL, "resize target %dx%d is out of range (1..%d px per side)", width, height,
                        ENH_IMAGE_MAX_SIDE);
    if (kernel != ENH_KERNEL_LANCZOS3 && kernel != ENH_KERNEL_CUBIC && kernel != ENH_KERNEL_LINEAR &&
        kernel != ENH_KERNEL_NEAREST)
        return enh_fail(err, ENH_EINVAL, "unknown resampling kernel %d", (int)kernel);
    const int w0 = vips_image_get_width(in), h0 = vips_image_get_height(in);
    if (width == w0 && height == h0) {
        g_object_ref(in);
        *out = in;
        return ENH_OK;
    }
    const VipsBandFormat fmt = vips_image_get_format(in);
    const VipsInterpretation interp = vips_image_get_interpretation(in);
    const int alpha = vips_image_hasalpha(in);
    const double max_alpha = fmt == VIPS_FORMAT_USHORT ? 65535.0 : 255.0;
    /* MATLAB rounds integer images to their type after each 1-D pass; premultiplied alpha
     * images stay in float until unpremultiplied. */
    const double qmax = kernel == ENH_KERNEL_LANCZOS3 || alpha ? 0
                        : fmt == VIPS_FORMAT_UCHAR             ? 255.0
                        : fmt == VIPS_FORMAT_USHORT            ? 65535.0
                                                               : 0;

    VipsImage *t = in, *u = NULL;
    g_object_ref(t);
    if (alpha) {
        if (vips_premultiply(t, &u, "max_alpha", max_alpha, NULL))
            goto fail;
        enh_vips_swap(&t, u);
    }
    if (vips_image_get_format(t) != VIPS_FORMAT_FLOAT) {
        if (vips_cast(t, &u, VIPS_FORMAT_FLOAT, NULL))
            goto fail;
        enh_vips_swap(&t, u);
    }
    double hs = (double)width / w0, vs = (double)height / h0;
    if (kernel == ENH_KERNEL_LANCZOS3) {
        if (hs < 1.0 || vs < 1.0) {
            if (vips_resize(t, &u, hs < 1.0 ? hs : 1.0, "vscale", vs < 1.0 ? vs : 1.0, "kernel",
                            VIPS_KERNEL_LANCZOS3, NULL))
                goto fail;
            enh_vips_swap(&t, u);
        }
        if (width > vips_image_get_width(t)) {
            if (rs_axis_pass(t, 1, width, kernel, 0, &u))
                goto fail;
            enh_vips_swap(&t, u);
        }
        if (height > vips_image_get_height(t)) {
            if (rs_axis_pass(t, 0, height, kernel, 0, &u))
                goto fail;
            enh_vips_swap(&t, u);
        }
    } else {
        /* MATLAB order: the axis with the smaller scale first, rows first when equal. */
        const int first_h = hs < vs;
        for (int pass = 0; pass < 2; pass++) {
            int horiz = pass == 0 ? first_h : !first_h;
            int size = horiz ? width : height;
            if (size == (horiz ? vips_image_get_width(t) : vips_image_get_height(t)))
                continue;
            if (rs_axis_pass(t, horiz, size, kernel, qmax, &u))
                goto fail;
            enh_vips_swap(&t, u);
        }
    }
    /* vips_resize may round a reduced side one pixel off: trim or replicate the edge. */
    if (vips_image_get_width(t) != width || vips_image_get_height(t) != height) {
        int cw = vips_image_get_width(t) < width ? vips_image_get_width(t) : width;
        int ch = vips_image_get_height(t) < height ? vips_image_get_height(t) : height;
        if (vips_extract_area(t, &u, 0, 0, cw, ch, NULL))
            goto fail;
        enh_vips_swap(&t, u);
        if (cw != width || ch != height) {
            if (vips_embed(t, &u, 0, 0, width, height, "extend", VIPS_EXTEND_COPY, NULL))
                goto fail;
            enh_vips_swap(&t, u);
        }
    }
    if (alpha) {
        if (vips_unpremultiply(t, &u, "max_alpha", max_alpha, NULL))
            goto fail;
        enh_vips_swap(&t, u);
    }
    if (fmt == VIPS_FORMAT_FLOAT) {
        /* stay float */
    } else if (fmt == VIPS_FORMAT_DOUBLE) {
        if (vips_cast(t, &u, fmt, NULL))
            goto fail;
        enh_vips_swap(&t, u);
    } else {
        if (enh_vips_round_cast(t, &u, fmt))
            goto fail;
        enh_vips_swap(&t, u);
    }
    if (vips_copy(t, &u, "interpretation", interp, NULL))
        goto fail;
    enh_vips_swap(&t, u);
    *out = t;
    return ENH_OK;
fail:
    g_object_unref(t);
    return enh_vips_fail(err, ENH_EINTERNAL, "cannot resize %dx%d to %dx%d", w0, h0, width, height);
}

enh_status enh_image_resize_to(VipsImage *in, int width, int height, VipsImage **out, enh_error *err)
{
    return enh_image_resize_kernel(in, width, height, ENH_KERNEL_LANCZOS3, out, err);
}

enh_status enh_image_resize_by_kernel(VipsImage *in, double factor, enh_kernel kernel, VipsImage **out,
                                      enh_error *err)
{
    *out = NULL;
    if (!(factor > 0) || !isfinite(factor))
        return enh_fail(err, ENH_EINVAL, "resize factor must be positive, got %g", factor);
    double w = floor(vips_image_get_width(in) * factor + 0.5), h = floor(vips_image_get_height(in) * factor + 0.5);
    if (w > ENH_IMAGE_MAX_SIDE || h > ENH_IMAGE_MAX_SIDE)
        return enh_fail(err, ENH_EINVAL, "resizing by %g gives %.0fx%.0f, more than %d px per side", factor, w, h,
                        ENH_IMAGE_MAX_SIDE);
    return enh_image_resize_kernel(in, w < 1 ? 1 : (int)w, h < 1 ? 1 : (int)h, kernel, out, err);
}
