/* stage_auto.c - one-click mode: assess the photo and turn on exactly what it needs.
 *
 * Each degradation whose severity (assess.h, 0..1) reaches 0.5 switches on its remedy with a
 * strength from the measurement (strength.h mappings): jpeg -> decompress with the estimated
 * quality's tables, noise -> denoise tuned to the measured sigma, blur -> deblur scaled by
 * severity, under/over-exposure -> auto_exposure, colour cast -> auto_color. Operations the
 * caller set explicitly are kept; auto only fills the ones left off. Low resolution is reported
 * but never triggers an upscale on its own (the output size is the caller's choice). Everything
 * measured and decided is appended to report->explain. Thread-safe (reentrant).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enhance/assess.h"
#include "enhance/stages.h"
#include "enhance/strength.h"


enh_status enh_stage_auto_plan(VipsImage *in, const enh_ops *ops, enh_ops *planned, enh_pipeline_report *report,
                               enh_error *err)
{
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
        planned->denoise = enh_denoise_strength(a.noise_sigma);
        enh_report_explain(report, "auto: noise sigma %.1f -> denoise %d\n", a.noise_sigma, planned->denoise);
        changed++;
    }
    /* blur measured on a noisy or blocky image is not trustworthy: fix those first */
    if (s[ENH_DEG_BLUR] >= 0.5 && !planned->deblur && s[ENH_DEG_NOISE] < 0.5 && s[ENH_DEG_JPEG] < 0.5) {
        planned->deblur = (int)(25 + 50 * (s[ENH_DEG_BLUR] - 0.5) / 0.5);
        enh_report_explain(report, "auto: blur %.2f -> deblur %d (unsharp mask on lightness)\n", a.blur, planned->deblur);
        changed++;
    }
    if ((s[ENH_DEG_UNDEREXPOSED] >= 0.5 || s[ENH_DEG_OVEREXPOSED] >= 0.5) && !planned->auto_exposure) {
        planned->auto_exposure = 1;
        enh_report_explain(report, "auto: %s -> auto exposure %+.2f EV\n",
                s[ENH_DEG_UNDEREXPOSED] >= 0.5 ? "under-exposed" : "over-exposed", a.exposure_ev);
        changed++;
    }
    if (s[ENH_DEG_COLOUR_CAST] >= 0.5 && !planned->auto_color) {
        planned->auto_color = 1;
        enh_report_explain(report, "auto: colour cast (a* %+.1f, b* %+.1f) -> auto colour\n", a.cast_a, a.cast_b);
        changed++;
    }
    if (s[ENH_DEG_LOW_RESOLUTION] >= 0.5 && planned->upscale == ENH_UPSCALE_NONE)
        enh_report_explain(report, "auto: low resolution (%.2f MP); add an upscale (e.g. --upscale photo) to enlarge it\n",
                a.megapixels);
    if (!changed)
        enh_report_explain(report, "auto: nothing to fix; the photo is left as it is\n");
    return ENH_OK;
}
