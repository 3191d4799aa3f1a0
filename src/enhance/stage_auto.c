/* stage_auto.c - one-click mode: assess the photo and turn on exactly what it needs.
 *
 * Each degradation whose severity (assess.h, 0..1) reaches 0.5 switches on its remedy with a
 * strength from the measurement (strength.h mappings): jpeg -> decompress with the estimated
 * quality's tables, noise -> the denoising network for camera-like noise (else the filter tuned
 * to the measured sigma), blur -> the deblurring network (else nothing; blur is not judged on an
 * image with fewer than 4 blocks with edges, and a dark photo's blur is judged after auto
 * exposure's gain: assess_blur.c), under/over-exposure -> auto_exposure, colour cast ->
 * auto_color only when the cast can be trusted (cast_trusted below: the naming rule alone took
 * scene colour for a cast on a third of the benchmark's crops). With these, auto's mean PSNR is at
 * or above the input's on every degradation set (bench/quality/README.md, "auto's guards").
 * Remedies are the ones that measured best on the benchmark sets
 * (bench/quality/README.md, "networks", 256x256 centre crops of the eight photos and Kodak24):
 *  - phone sensor noise: maxim-denoising beats the DCT filter by 1.2 dB on average (4.0 on the
 *    photos, 0.3 on Kodak24; SSIM 0.88 vs 0.79); on Gaussian noise (CBSD68) it is 3.7-4.4 dB
 *    worse than the filter. The assessment tells the two apart by how much of the noise is in
 *    chroma (assess.h, noise kind): luma noise -> the network, per-channel noise -> the filter;
 *  - motion blur: the unsharp-mask deblur LOWERS mean PSNR below the blurred input, so auto never
 *    uses it; maxim-deblurring raises it (+2.0 dB over the input, +3.0 over the filter);
 *  - x0.25 darkening: the classical auto_exposure (38.3 dB) beats both low-light networks (at
 *    best 24.5 dB blended), so auto keeps it.
 * A network is used only when it is installed and its estimated time (net_speed.h) fits the
 * deadline; else auto falls back (the filter for noise, nothing for blur) and says why. Operations the
 * caller set explicitly are kept; auto only fills the ones left off. Low resolution is reported
 * but never triggers an upscale on its own (the output size is the caller's choice). Everything
 * measured and decided is appended to report->explain. Thread-safe (reentrant).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/fsutil.h"
#include "enhance/assess.h"
#include "enhance/net_speed.h"
#include "nn/manifest.h"
#include "enhance/stages.h"
#include "enhance/strength.h"


/* The denoising network only from this measured sigma (0..255): below it the "noise" may be film
 * grain or fine texture, which the network wipes while the filter's 2.7-sigma threshold keeps it
 * (clean Kodak24 kodim13, sigma 5.3: SSIM 0.851 against the input with the network, 0.994 with
 * the filter). The benchmark's noisy crops measure 9.2-16 (sensor noise + JPEG) and 6.7-14
 * (Gaussian + JPEG), so none of them changes method. */
#define NET_MIN_NOISE_SIGMA 8.0

/* Auto colour only on a cast it can trust: the gain measured from clipped highlights, or a
 * learned estimate at least AUTO_CAST_MIN_DEG from neutral that the classical estimators'
 * combination agrees with (within AUTO_CAST_AGREE_DEG). The assessment's naming rule (assess.c:
 * half severity at 6 degrees, or the classical estimate alone at 12) names a cast on 99 of 273
 * 256x256 crops without one (the 32 photo + Kodak24 crops: clean, defocused, motion-blurred,
 * noisy, darkened, and the networks' outputs), where the correction cost up to 13.8 dB (scene
 * colour: garden's green, kodim02's red door). On those crops and the same 32 crops with the four
 * casts of bench/quality/run.py (128), PSNR change of auto colour per crop, mean over the set:
 *   naming rule alone:       casts fired 104/128, +2.72 dB; no-cast fired 99/273, sets down to -1.23
 *   clipped highlights only: casts  48/128, +2.17;           no-cast 0/273
 *   this rule (9, 10):       casts  54/128, +2.43;           no-cast 0/273
 * Every threshold pair from 8..11 degrees x 6..10 degrees fires on none of the 273 (casts +2.25
 * to +2.43); 7 degrees fires on 2-3, a 14-degree agreement on 1-3 (kodim02's door, -4 to -5 dB).
 * Green casts (x1.3 G) that only the learned estimate sees lose 2-6 dB when corrected: most of
 * them stay below 9 degrees (bench/quality/README.md, "auto's guards"). */
#define AUTO_CAST_MIN_DEG 9.0
#define AUTO_CAST_AGREE_DEG 10.0
static int cast_trusted(const enh_assessment *a)
{
    return a->cast_clipped || (a->cast_angle >= AUTO_CAST_MIN_DEG && a->cast_disagree <= AUTO_CAST_AGREE_DEG);
}

/* 1 when network `name` can run for `op` here: installed, and its estimated time fits the deadline. */
static int net_usable(const char *name, const char *op, const enh_pipeline_ctx *ctx, double mp,
                      enh_pipeline_report *report)
{
    const enh_model_entry *e = enh_manifest_find_tfjs(name);
    if (!e || !enh_model_installed(e, ctx ? ctx->models_dir : NULL)) {
        enh_report_explain(report, "auto: %s would use %s, which is not installed (enhance models fetch %s)\n", op,
                           name, name);
        return 0;
    }
    int threads = enh_pool_threads(ctx && ctx->pool ? ctx->pool : enh_pool_default());
    double per_mp = enh_net_seconds_per_mp(name, threads), est = per_mp * mp;
    if (ctx && ctx->deadline > 0 && enh_now() + est > ctx->deadline) {
        enh_report_explain(report, "auto: %s skips %s: about %.0f s for this %.2f MP image (%.0f s per MP at %d "
                           "threads here) would pass the deadline\n", op, name, est, mp, per_mp, threads);
        return 0;
    }
    enh_report_explain(report, "auto: %s runs %s: about %.0f s for this %.2f MP image (%.0f s per MP at %d threads "
                       "here)\n", op, name, est, mp, per_mp, threads);
    return 1;
}

enh_status enh_stage_auto_plan(VipsImage *in, const enh_ops *ops, const enh_pipeline_ctx *ctx, enh_ops *planned,
                               enh_pipeline_report *report, enh_error *err)
{
    double mp = (double)vips_image_get_width(in) * vips_image_get_height(in) / 1e6;
    *planned = *ops;
    enh_assessment a;
    enh_status st = enh_assess_image(in, &a, err);
    if (st)
        return enh_error_prefix(err, "auto mode could not assess the image");
    char text[1024];
    enh_assessment_format(&a, text, sizeof text);
    enh_report_explain(report, "auto: measured\n%s", text);
    const double *s = a.severity;
    int changed = 0;
    if (s[ENH_DEG_JPEG] >= 0.5 && !planned->decompress) {
        planned->decompress = a.jpeg_quality > 0 ? enh_decompress_strength(a.jpeg_quality) : 50;
        enh_report_explain(report, "auto: JPEG artifacts (quality %d) -> decompress %d (re-apply quality-%d tables)\n",
                a.jpeg_quality, planned->decompress, enh_decompress_quality(planned->decompress));
        changed++;
    }
    if (s[ENH_DEG_NOISE] >= 0.5 && !planned->denoise) {
        /* the network for camera-like (luma) noise, the filter for per-channel (Gaussian) noise or
         * when the kind cannot be told (grey images: BSD68-style Gaussian noise) */
        const char *kind = enh_noise_kind(&a);
        int luma = !strcmp(kind, "luma");
        if (luma && a.noise_sigma < NET_MIN_NOISE_SIGMA) {
            luma = 0;
            enh_report_explain(report, "auto: noise sigma %.1f is below %.0f: the DCT filter (light noise may be "
                               "grain or texture, which the network wipes)\n", a.noise_sigma, NET_MIN_NOISE_SIGMA);
        } else if (!luma)
            enh_report_explain(report, "auto: noise is %s (chroma/luma %.2f): the DCT filter, which beat "
                               "maxim-denoising by 3.7-4.4 dB on Gaussian noise (bench/quality/README.md)\n", kind,
                               a.noise_chroma_ratio);
        if (luma && net_usable("maxim-denoising", "denoise", ctx, mp, report)) {
            planned->denoise = 100;
            planned->denoise_method = ENH_METHOD_AI;
            enh_report_explain(report, "auto: noise sigma %.1f, luma noise (chroma/luma %.2f: a camera's or a JPEG's) "
                               "-> denoise ai (maxim-denoising: +1.2 dB over the filter on phone sensor noise, "
                               "bench/quality/README.md)\n", a.noise_sigma, a.noise_chroma_ratio);
        } else {
            planned->denoise = enh_denoise_strength(a.noise_sigma);
            planned->denoise_method = ENH_METHOD_FILTER;
            enh_report_explain(report, "auto: noise sigma %.1f -> denoise %d (DCT filter)\n", a.noise_sigma,
                               planned->denoise);
        }
        changed++;
    }
    /* blur measured on a noisy or blocky image is not trustworthy: fix those first. The
     * unsharp-mask deblur lowered the mean PSNR of motion-blurred sets below their input, so
     * auto uses the network or nothing. */
    if (a.blur_blocks < 4 && !planned->deblur)
        enh_report_explain(report, "auto: blur not judged: %d of the 64x64 blocks have edges, 4 needed (a flat crop "
                           "measured 'blurred' lost 5.8 dB in the deblurring network)\n", a.blur_blocks);
    /* nor on an under-exposed photo: the network runs before auto exposure, on pixels unlike its
     * training data. greenmeadow's crop darkened x0.25 (blurred like its clean crop, 0.369 / 0.372):
     * auto exposure alone 45.71 dB, maxim-deblurring then auto exposure 29.98 */
    if (s[ENH_DEG_BLUR] >= 0.5 && !planned->deblur && s[ENH_DEG_UNDEREXPOSED] >= 0.5)
        enh_report_explain(report, "auto: blur %.2f left as it is on an under-exposed photo (the deblurring network "
                           "on a darkened crop, then auto exposure: 15.7 dB below auto exposure alone)\n", a.blur);
    else if (s[ENH_DEG_BLUR] >= 0.5 && !planned->deblur && s[ENH_DEG_NOISE] < 0.5 && s[ENH_DEG_JPEG] < 0.5) {
        if (net_usable("maxim-deblurring", "deblur", ctx, mp, report)) {
            planned->deblur = 100;
            planned->deblur_method = ENH_METHOD_AI;
            enh_report_explain(report, "auto: blur %.2f -> deblur ai (maxim-deblurring raises PSNR on motion blur, "
                               "where the unsharp mask lowers it)\n", a.blur);
            changed++;
        } else {
            enh_report_explain(report, "auto: blur %.2f left as it is (the unsharp mask lowers PSNR on blurred "
                               "photos; the network is not available)\n", a.blur);
        }
    }
    if ((s[ENH_DEG_UNDEREXPOSED] >= 0.5 || s[ENH_DEG_OVEREXPOSED] >= 0.5) && !planned->auto_exposure) {
        planned->auto_exposure = 1;
        enh_report_explain(report, "auto: %s -> auto exposure %+.2f EV (the filter: 38.3 dB on darkened photos, the "
                           "low-light networks 24.5 at best)\n",
                s[ENH_DEG_UNDEREXPOSED] >= 0.5 ? "under-exposed" : "over-exposed", a.exposure_ev);
        changed++;
    }
    if (s[ENH_DEG_COLOUR_CAST] >= 0.5 && !planned->auto_color) {
        if (cast_trusted(&a)) {
            planned->auto_color = 1;
            enh_report_explain(report, "auto: colour cast (a* %+.1f, b* %+.1f%s) -> auto colour\n", a.cast_a, a.cast_b,
                               a.cast_clipped ? ", measured from clipped highlights" : "");
            changed++;
        } else {
            enh_report_explain(report, "auto: colour cast named (a* %+.1f, b* %+.1f: %.1f deg from neutral, %.1f from "
                               "the classical estimate) left as it is: it may be the scene's colour\n", a.cast_a,
                               a.cast_b, a.cast_angle, a.cast_disagree);
        }
    }
    if (s[ENH_DEG_LOW_RESOLUTION] >= 0.5 && planned->upscale == ENH_UPSCALE_NONE)
        enh_report_explain(report, "auto: low resolution (%.2f MP); add an upscale (e.g. --upscale photo) to enlarge it\n",
                a.megapixels);
    if (!changed)
        enh_report_explain(report, "auto: nothing to fix; the photo is left as it is\n");
    return ENH_OK;
}
