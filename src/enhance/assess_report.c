/* assess_report.c - text and JSON renderings of an enh_assessment. Thread-safe. The JSON is NULL
 * when memory ran out (never a document with members missing). */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/json_mem.h"
#include "enhance/assess.h"

static size_t add(char *buf, size_t size, size_t pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static size_t add(char *buf, size_t size, size_t pos, const char *fmt, ...)
{
    if (pos >= size)
        return pos;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + pos, size - pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return pos;
    return pos + (size_t)n < size ? pos + (size_t)n : size - 1;
}

const char *enh_noise_kind(const enh_assessment *a)
{
    return a->noise_chroma_ratio < 0 ? "unknown" : a->noise_chroma_ratio < ENH_NOISE_LUMA_RATIO ? "luma" : "per-channel";
}

size_t enh_assessment_format(const enh_assessment *a, char *buf, size_t size)
{
    if (!size)
        return 0;
    buf[0] = '\0';
    size_t p = 0;
    p = add(buf, size, p, "score        %.0f/100, main problem: %s\n", a->score, enh_degradation_name(a->dominant));
    p = add(buf, size, p, "resolution   %dx%d (%.2f MP)%s\n", a->width, a->height, a->megapixels,
            a->severity[ENH_DEG_LOW_RESOLUTION] >= 0.5 ? ", low" : "");
    p = add(buf, size, p, "sharpness    %.0f/100 (blur %.3f, sharpest region %.3f%s)\n", a->sharpness, a->blur,
            a->blur_sharpest, a->blur_blocks < 4 ? "; not judged: too few blocks with edges" : "");
    if (a->jpeg_quality > 0)
        p = add(buf, size, p, "jpeg         quality %d (%s), blockiness %.3f\n", a->jpeg_quality,
                a->jpeg_quality_from_file ? "from the file's tables" : "estimated from pixels", a->blockiness);
    else
        p = add(buf, size, p, "jpeg         no visible compression grid, blockiness %.3f\n", a->blockiness);
    if (a->noise_chroma_ratio >= 0)
        p = add(buf, size, p, "noise        sigma %.1f (of 255), %s (chroma/luma %.2f)\n", a->noise_sigma,
                enh_noise_kind(a), a->noise_chroma_ratio);
    else
        p = add(buf, size, p, "noise        sigma %.1f (of 255)\n", a->noise_sigma);
    p = add(buf, size, p,
            "exposure     mean L* %.1f, L* p1/p50/p99 %.1f/%.1f/%.1f, clipped dark %.1f%% bright %.1f%%, "
            "correction %+.2f EV\n",
            a->mean_lightness, a->l_p01, a->l_p50, a->l_p99, 100 * a->clip_dark, 100 * a->clip_bright,
            a->exposure_ev);
    p = add(buf, size, p,
            "colour cast  a* %+.1f b* %+.1f (chroma %.1f of a mid-grey, %.1f deg from neutral, estimators within "
            "%.1f deg, confidence %.2f%s)\n",
            a->cast_a, a->cast_b, a->cast_chroma, a->cast_angle, a->cast_spread, a->cast_confidence,
            a->cast_clipped ? ", gain measured on clipped highlights" : "");
    p = add(buf, size, p, "severity    ");
    for (int i = 1; i < ENH_DEG_COUNT; i++)
        p = add(buf, size, p, " %s %.2f", enh_degradation_name((enh_degradation)i), a->severity[i]);
    p = add(buf, size, p, "\n");
    return p;
}

char *enh_assessment_to_json(const enh_assessment *a)
{
    json_t *sev = json_object();
    json_t *root = json_pack(
        "{s:f, s:s, s:{s:i, s:i, s:f}, s:{s:f, s:f}, s:{s:o, s:b, s:f}, s:{s:f}, "
        "s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f, s:[f, f, f]}}",
        "score", a->score, "dominant", enh_degradation_name(a->dominant),
        "resolution", "width", a->width, "height", a->height, "megapixels", a->megapixels,
        "sharpness", "score", a->sharpness, "blur", a->blur,
        "jpeg", "quality", a->jpeg_quality > 0 ? json_integer(a->jpeg_quality) : json_null(),
        "quality_from_file", a->jpeg_quality_from_file, "blockiness", a->blockiness,
        "noise", "sigma", a->noise_sigma,
        "exposure", "mean_luminance", a->mean_luminance, "mean_lightness", a->mean_lightness, "lightness_p01",
        a->l_p01, "lightness_p50", a->l_p50, "lightness_p99", a->l_p99, "clipped_dark", a->clip_dark,
        "clipped_bright", a->clip_bright, "correction_ev", a->exposure_ev,
        "colour", "cast_a", a->cast_a, "cast_b", a->cast_b, "cast_chroma", a->cast_chroma, "illuminant",
        a->illuminant[0], a->illuminant[1], a->illuminant[2]);
    if (!root || !sev) {
        json_decref(root);
        json_decref(sev);
        return NULL;
    }
    /* out of memory: NULL rather than a document with members missing (json_object_set_new
     * returns -1 for a NULL value or a failed insert) */
    int bad = 0;
    for (int i = 1; i < ENH_DEG_COUNT; i++)
        bad |= json_object_set_new(sev, enh_degradation_name((enh_degradation)i), json_real(a->severity[i]));
    bad |= json_object_set_new(root, "severity", sev);
    json_t *col = json_object_get(root, "colour"), *exp = json_object_get(root, "exposure"),
           *noise = json_object_get(root, "noise"), *sharp = json_object_get(root, "sharpness");
    if (!col || !exp || !noise || !sharp) {
        json_decref(root);
        return NULL;
    }
    bad |= json_object_set_new(sharp, "blur_sharpest", json_real(a->blur_sharpest));
    bad |= json_object_set_new(sharp, "blocks", json_integer(a->blur_blocks));
    bad |= json_object_set_new(noise, "chroma_ratio",
                               a->noise_chroma_ratio >= 0 ? json_real(a->noise_chroma_ratio) : json_null());
    bad |= json_object_set_new(noise, "kind", json_string(enh_noise_kind(a)));
    bad |= json_object_set_new(col, "cast_angle_deg", json_real(a->cast_angle));
    bad |= json_object_set_new(col, "estimator_spread_deg", json_real(a->cast_spread));
    bad |= json_object_set_new(col, "classical_angle_deg", json_real(a->cast_classical_angle));
    bad |= json_object_set_new(col, "learned_classical_deg", json_real(a->cast_disagree));
    bad |= json_object_set_new(col, "confidence", json_real(a->cast_confidence));
    bad |= json_object_set_new(col, "from_clipped_highlights", json_boolean(a->cast_clipped));
    bad |= json_object_set_new(exp, "lightness_p999", json_real(a->l_p999));
    bad |= json_object_set_new(exp, "highlight_ev", json_real(a->highlight_ev));
    if (bad) {
        json_decref(root);
        return NULL;
    }
    char *s = enh_json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(root);
    return s;
}
