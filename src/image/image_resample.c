/* image_resample.c - lanczos3 resize: vips_resize to reduce, our own separable pass to
 * enlarge, premultiplied alpha, depth kept. */
#include "image/image_resample.h"

#include <math.h>
#include <string.h>

#include "image/image_decode.h"
#include "image/image_internal.h"

#define LZ_A 3
#define LZ_TAPS (2 * LZ_A)

typedef struct {
    int horizontal;
    int taps;
    int *idx;  /* out_size * taps input indices (clamped to the image) */
    float *w;  /* out_size * taps weights (sum to 1) */
} lz_axis;

static double lanczos3(double x)
{
    x = fabs(x);
    if (x < 1e-9)
        return 1.0;
    if (x >= LZ_A)
        return 0.0;
    double px = M_PI * x;
    return LZ_A * sin(px) * sin(px / LZ_A) / (px * px);
}

/* Weights for enlarging in_size -> out_size (pixel centres aligned). */
static void lz_weights(lz_axis *ax, int in_size, int out_size)
{
    double s = (double)out_size / in_size;
    for (int o = 0; o < out_size; o++) {
        double c = (o + 0.5) / s - 0.5;
        int i0 = (int)floor(c) - (LZ_A - 1);
        double sum = 0;
        for (int k = 0; k < LZ_TAPS; k++) {
            int i = i0 + k;
            double wk = lanczos3(c - i);
            ax->w[o * LZ_TAPS + k] = (float)wk;
            sum += wk;
            ax->idx[o * LZ_TAPS + k] = i < 0 ? 0 : i >= in_size ? in_size - 1 : i;
        }
        for (int k = 0; k < LZ_TAPS; k++)
            ax->w[o * LZ_TAPS + k] = (float)(ax->w[o * LZ_TAPS + k] / sum);
    }
}

static int lz_gen(VipsRegion *out_region, void *seq, void *a, void *b, gboolean *stop)
{
    (void)a;
    (void)stop;
    VipsRegion *ir = seq;
    const lz_axis *ax = b;
    const VipsRect *r = &out_region->valid;
    const int bands = out_region->im->Bands;
    const int t = ax->taps;
    if (ax->horizontal) {
        int lo = ax->idx[r->left * t], hi = ax->idx[(r->left + r->width - 1) * t + t - 1];
        VipsRect need = {lo, r->top, hi - lo + 1, r->height};
        if (vips_region_prepare(ir, &need))
            return -1;
        for (int y = r->top; y < r->top + r->height; y++) {
            const float *row = (const float *)VIPS_REGION_ADDR(ir, lo, y);
            float *q = (float *)VIPS_REGION_ADDR(out_region, r->left, y);
            for (int x = r->left; x < r->left + r->width; x++) {
                const int *ix = ax->idx + (size_t)x * t;
                const float *wx = ax->w + (size_t)x * t;
                for (int c = 0; c < bands; c++) {
                    float acc = 0.f;
                    for (int k = 0; k < t; k++)
                        acc += wx[k] * row[(ix[k] - lo) * bands + c];
                    *q++ = acc;
                }
            }
        }
    } else {
        int lo = ax->idx[r->top * t], hi = ax->idx[(r->top + r->height - 1) * t + t - 1];
        VipsRect need = {r->left, lo, r->width, hi - lo + 1};
        if (vips_region_prepare(ir, &need))
            return -1;
        const int n = r->width * bands;
        for (int y = r->top; y < r->top + r->height; y++) {
            const int *iy = ax->idx + (size_t)y * t;
            const float *wy = ax->w + (size_t)y * t;
            float *q = (float *)VIPS_REGION_ADDR(out_region, r->left, y);
            const float *rows[LZ_TAPS];
            for (int k = 0; k < t; k++)
                rows[k] = (const float *)VIPS_REGION_ADDR(ir, r->left, iy[k]);
            for (int i = 0; i < n; i++) {
                float acc = 0.f;
                for (int k = 0; k < t; k++)
                    acc += wy[k] * rows[k][i];
                q[i] = acc;
            }
        }
    }
    return 0;
}

/* Enlarges float image `in` along one axis to `size` pixels. */
static int lz_enlarge(VipsImage *in, int horizontal, int size, VipsImage **out)
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
    lz_axis *ax = vips_malloc(VIPS_OBJECT(o), sizeof *ax);
    if (!ax) {
        g_object_unref(o);
        return -1;
    }
    ax->horizontal = horizontal;
    ax->taps = LZ_TAPS;
    ax->idx = vips_malloc(VIPS_OBJECT(o), sizeof(int) * (size_t)size * LZ_TAPS);
    ax->w = vips_malloc(VIPS_OBJECT(o), sizeof(float) * (size_t)size * LZ_TAPS);
    if (!ax->idx || !ax->w) {
        g_object_unref(o);
        return -1;
    }
    lz_weights(ax, in_size, size);
    /* `o` keeps `in` alive until it closes. */
    g_object_ref(in);
    vips_object_local(o, in);
    if (vips_image_generate(o, vips_start_one, lz_gen, vips_stop_one, in, ax)) {
        g_object_unref(o);
        return -1;
    }
    *out = o;
    return 0;
}

static int round_cast(VipsImage *in, VipsImage **out, VipsBandFormat fmt)
{
    VipsImage *r = NULL;
    if (vips_round(in, &r, VIPS_OPERATION_ROUND_RINT, NULL))
        return -1;
    int rc = vips_cast(r, out, fmt, NULL);
    g_object_unref(r);
    return rc;
}

enh_status enh_image_resize_to(VipsImage *in, int width, int height, VipsImage **out, enh_error *err)
{
    *out = NULL;
    if (width < 1 || height < 1 || width > ENH_IMAGE_MAX_SIDE || height > ENH_IMAGE_MAX_SIDE)
        return enh_fail(err, ENH_EINVAL, "resize target %dx%d is out of range (1..%d px per side)", width, height,
                        ENH_IMAGE_MAX_SIDE);
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

    VipsImage *t = in, *u = NULL;
    g_object_ref(t);
    if (alpha) {
        if (vips_premultiply(t, &u, "max_alpha", max_alpha, NULL))
            goto fail;
        enh_vips_swap(&t, u);
    }
    if (vips_image_get_format(t) != VIPS_FORMAT_FLOAT && vips_image_get_format(t) != VIPS_FORMAT_DOUBLE) {
        if (vips_cast(t, &u, VIPS_FORMAT_FLOAT, NULL))
            goto fail;
        enh_vips_swap(&t, u);
    } else if (vips_image_get_format(t) == VIPS_FORMAT_DOUBLE) {
        if (vips_cast(t, &u, VIPS_FORMAT_FLOAT, NULL))
            goto fail;
        enh_vips_swap(&t, u);
    }
    double hs = (double)width / w0, vs = (double)height / h0;
    if (hs < 1.0 || vs < 1.0) {
        if (vips_resize(t, &u, hs < 1.0 ? hs : 1.0, "vscale", vs < 1.0 ? vs : 1.0, "kernel", VIPS_KERNEL_LANCZOS3,
                        NULL))
            goto fail;
        enh_vips_swap(&t, u);
    }
    if (width > vips_image_get_width(t)) {
        if (lz_enlarge(t, 1, width, &u))
            goto fail;
        enh_vips_swap(&t, u);
    }
    if (height > vips_image_get_height(t)) {
        if (lz_enlarge(t, 0, height, &u))
            goto fail;
        enh_vips_swap(&t, u);
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
        if (round_cast(t, &u, fmt))
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

enh_status enh_image_resize_by(VipsImage *in, double factor, VipsImage **out, enh_error *err)
{
    *out = NULL;
    if (!(factor > 0) || !isfinite(factor))
        return enh_fail(err, ENH_EINVAL, "resize factor must be positive, got %g", factor);
    double w = floor(vips_image_get_width(in) * factor + 0.5), h = floor(vips_image_get_height(in) * factor + 0.5);
    if (w > ENH_IMAGE_MAX_SIDE || h > ENH_IMAGE_MAX_SIDE)
        return enh_fail(err, ENH_EINVAL, "resizing by %g gives %.0fx%.0f, more than %d px per side", factor, w, h,
                        ENH_IMAGE_MAX_SIDE);
    return enh_image_resize_to(in, w < 1 ? 1 : (int)w, h < 1 ? 1 : (int)h, out, err);
}
