/* stage_resize.c - the last geometric stage: plain scale factor, then width/height (px or
 * percent of the original input) with fit inside|cover|fill|pad, gravity centre|smart,
 * then padding on every side. Resampling uses ops->resample_kernel (lanczos3 by default)
 * with premultiplied alpha and the sample depth kept (src/image/image_resample.h). Backgrounds (pad, padding) come from
 * ops->background (RGBA 0..255, scaled for 16-bit); a translucent background on an image
 * without alpha adds an alpha band. */
#include <math.h>

#include "enhance/stages.h"
#include "image/image_resample.h"

static int iround(double v)
{
    return (int)floor(v + 0.5);
}

static int at_least_1(int v)
{
    return v < 1 ? 1 : v;
}

/* Background values matching img's bands and depth; may add an alpha band to *img. */
static enh_status background_for(VipsImage **img, const double rgba[4], double *vals, int *n, enh_error *err)
{
    int deep = vips_image_get_format(*img) == VIPS_FORMAT_USHORT;
    double k = deep ? 257.0 : 1.0;
    if (!vips_image_hasalpha(*img) && rgba[3] < 255.0) {
        VipsImage *t = NULL;
        if (vips_bandjoin_const1(*img, &t, deep ? 65535.0 : 255.0, NULL))
            return enh_fail(err, ENH_EINTERNAL, "cannot add an alpha band for the transparent background");
        g_object_unref(*img);
        *img = t;
    }
    int bands = vips_image_get_bands(*img);
    int alpha = vips_image_hasalpha(*img);
    int colour = bands - alpha;
    if (colour >= 3) {
        vals[0] = rgba[0] * k;
        vals[1] = rgba[1] * k;
        vals[2] = rgba[2] * k;
        for (int i = 3; i < colour; i++)
            vals[i] = 0;
    } else {
        vals[0] = (0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2]) * k;
    }
    if (alpha)
        vals[bands - 1] = rgba[3] * k;
    *n = bands;
    return ENH_OK;
}

static enh_status embed(VipsImage **img, int x, int y, int w, int h, const double rgba[4], enh_error *err)
{
    double vals[8];
    int n = 0;
    enh_status st = background_for(img, rgba, vals, &n, err);
    if (st)
        return st;
    VipsArrayDouble *bg = vips_array_double_new(vals, n);
    VipsImage *t = NULL;
    int rc = vips_embed(*img, &t, x, y, w, h, "extend", VIPS_EXTEND_BACKGROUND, "background", bg, NULL);
    vips_area_unref(VIPS_AREA(bg));
    if (rc) {
        vips_error_clear();
        return enh_fail(err, ENH_EINTERNAL, "cannot place the image on a %dx%d canvas", w, h);
    }
    g_object_unref(*img);
    *img = t;
    return ENH_OK;
}

static enh_status resize_to(VipsImage **img, int w, int h, enh_kernel kernel, enh_error *err)
{
    VipsImage *t = NULL;
    enh_status st = enh_image_resize_kernel(*img, w, h, kernel, &t, err);
    if (st)
        return st;
    g_object_unref(*img);
    *img = t;
    return ENH_OK;
}

static enh_status crop(VipsImage **img, int w, int h, enh_gravity gravity, enh_error *err)
{
    int cw = vips_image_get_width(*img), ch = vips_image_get_height(*img);
    if (cw == w && ch == h)
        return ENH_OK;
    VipsImage *t = NULL;
    int rc;
    if (gravity == ENH_GRAVITY_SMART)
        rc = vips_smartcrop(*img, &t, w, h, "interesting", VIPS_INTERESTING_ATTENTION, NULL);
    else
        rc = vips_extract_area(*img, &t, (cw - w) / 2, (ch - h) / 2, w, h, NULL);
    if (rc) {
        vips_error_clear();
        return enh_fail(err, ENH_EINTERNAL, "cannot crop %dx%d to %dx%d", cw, ch, w, h);
    }
    g_object_unref(*img);
    *img = t;
    return ENH_OK;
}

enh_status enh_stage_resize(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx, VipsImage **out,
                            enh_pipeline_report *report, enh_error *err)
{
    (void)ctx;
    *out = NULL;
    VipsImage *img = in;
    g_object_ref(img);
    enh_status st = ENH_OK;

    if (ops->resize_scale > 0 && ops->resize_scale != 1.0) {
        VipsImage *t = NULL;
        if ((st = enh_image_resize_by_kernel(img, ops->resize_scale, ops->resample_kernel, &t, err)))
            goto done;
        g_object_unref(img);
        img = t;
    }

    /* Percentages refer to the pipeline's input (before upscaling). */
    int base_w = report && report->in_width > 0 ? report->in_width : vips_image_get_width(in);
    int base_h = report && report->in_height > 0 ? report->in_height : vips_image_get_height(in);
    int tw = ops->width ? ops->width : ops->width_pct > 0 ? at_least_1(iround(base_w * ops->width_pct / 100.0)) : 0;
    int th = ops->height ? ops->height : ops->height_pct > 0 ? at_least_1(iround(base_h * ops->height_pct / 100.0)) : 0;

    if (tw || th) {
        double cw = vips_image_get_width(img), ch = vips_image_get_height(img);
        switch (ops->fit) {
        case ENH_FIT_FILL:
            if (!tw || !th) {
                st = enh_fail(err, ENH_EINVAL, "fit fill needs both a width and a height");
                goto done;
            }
            st = resize_to(&img, tw, th, ops->resample_kernel, err);
            break;
        case ENH_FIT_COVER: {
            if (!tw || !th) {
                st = enh_fail(err, ENH_EINVAL, "fit cover needs both a width and a height");
                goto done;
            }
            double s = fmax(tw / cw, th / ch);
            int nw = tw / cw >= th / ch ? tw : iround(cw * s);
            int nh = tw / cw >= th / ch ? iround(ch * s) : th;
            if (nw < tw)
                nw = tw;
            if (nh < th)
                nh = th;
            if (!(st = resize_to(&img, nw, nh, ops->resample_kernel, err)))
                st = crop(&img, tw, th, ops->gravity, err);
            break;
        }
        case ENH_FIT_INSIDE:
        case ENH_FIT_PAD:
        default: {
            int nw, nh;
            if (tw && (!th || tw / cw <= th / ch)) {
                nw = tw;
                nh = at_least_1(iround(ch * tw / cw));
            } else {
                nh = th;
                nw = at_least_1(iround(cw * th / ch));
            }
            if ((st = resize_to(&img, nw, nh, ops->resample_kernel, err)))
                break;
            if (ops->fit == ENH_FIT_PAD) {
                if (!tw || !th) {
                    st = enh_fail(err, ENH_EINVAL, "fit pad needs both a width and a height");
                    break;
                }
                st = embed(&img, (tw - nw) / 2, (th - nh) / 2, tw, th, ops->background, err);
            }
            break;
        }
        }
        if (st)
            goto done;
    }

    if (ops->padding > 0) {
        int p = ops->padding;
        st = embed(&img, p, p, vips_image_get_width(img) + 2 * p, vips_image_get_height(img) + 2 * p,
                   ops->background, err);
    }
done:
    if (st) {
        g_object_unref(img);
        return st;
    }
    *out = img;
    return ENH_OK;
}
