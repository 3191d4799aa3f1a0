/* ops_json.c - the operations document as JSON: strict parser, canonical writer, schema.
 *
 * Parsing is strict: an unknown key is ENH_EINVAL naming its path ("restorations.denoyse"),
 * a wrong type or an out-of-range value names the key and the allowed values. The parser
 * starts from enh_ops_init() defaults, fills what the document sets and finally runs
 * enh_ops_validate() for cross-field rules. enh_ops_to_json() writes every field, so
 * enh_ops_from_json(enh_ops_to_json(x)) == x. Thread-safe (no global state; the schema is a
 * constant string). Uses jansson.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "enhance/ops.h"

#define MAX_JSON_BYTES (1u << 20)

/* ---- value readers: each names the key path in its message ---- */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static enh_status read_bool(const json_t *v, const char *path, int *out, enh_error *err)
{
    if (!json_is_boolean(v))
        return enh_fail(err, ENH_EINVAL, "%s must be true or false, got %s", path, type_name(v));
    *out = json_is_true(v);
    return ENH_OK;
}

/* Number that must be integral. */
static enh_status read_int(const json_t *v, const char *path, int lo, int hi, int *out, enh_error *err)
{
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)))
        d = json_real_value(v);
    else
        return enh_fail(err, ENH_EINVAL, "%s must be an integer in %d..%d, got %s", path, lo, hi, type_name(v));
    if (d < lo || d > hi)
        return enh_fail(err, ENH_EINVAL, "%s must be in %d..%d, got %g", path, lo, hi, d);
    *out = (int)d;
    return ENH_OK;
}

static enh_status read_num(const json_t *v, const char *path, double lo, double hi, double *out, enh_error *err)
{
    if (!json_is_number(v))
        return enh_fail(err, ENH_EINVAL, "%s must be a number in %g..%g, got %s", path, lo, hi, type_name(v));
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return enh_fail(err, ENH_EINVAL, "%s must be in %g..%g, got %g", path, lo, hi, d);
    *out = d;
    return ENH_OK;
}

/* Strength: "off" | "auto" | 0..100 | true (auto) | false (off); decompress also takes
 * "moderate" (50) and "strong" (100). */
static enh_status read_strength(const json_t *v, const char *path, int named_levels, int *out, enh_error *err)
{
    const char *allowed = named_levels ? "\"off\", \"auto\", \"moderate\", \"strong\" or 0..100"
                                       : "\"off\", \"auto\" or 0..100";
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? ENH_AUTO : ENH_OFF;
        return ENH_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcasecmp(s, "off") || !strcasecmp(s, "none")) {
            *out = ENH_OFF;
            return ENH_OK;
        }
        if (!strcasecmp(s, "auto")) {
            *out = ENH_AUTO;
            return ENH_OK;
        }
        if (named_levels && !strcasecmp(s, "moderate")) {
            *out = 50;
            return ENH_OK;
        }
        if (named_levels && !strcasecmp(s, "strong")) {
            *out = 100;
            return ENH_OK;
        }
        return enh_fail(err, ENH_EINVAL, "%s must be %s, got \"%s\"", path, allowed, s);
    }
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if (d >= 0 && d <= 100) {
            *out = (int)lround(d);
            return ENH_OK;
        }
        return enh_fail(err, ENH_EINVAL, "%s must be %s, got %g", path, allowed, d);
    }
    return enh_fail(err, ENH_EINVAL, "%s must be %s, got %s", path, allowed, type_name(v));
}

/* Size: integer px (1..65535) or "N%" (0 < N <= 800) or "Npx". */
static enh_status read_size(const json_t *v, const char *path, int *px, double *pct, enh_error *err)
{
    if (json_is_number(v))
        return read_int(v, path, 1, 65535, px, err);
    if (!json_is_string(v))
        return enh_fail(err, ENH_EINVAL, "%s must be pixels (1..65535) or a percentage string like \"50%%\", got %s",
                        path, type_name(v));
    const char *s = json_string_value(v);
    char *end = NULL;
    double d = strtod(s, &end);
    if (end == s)
        goto bad;
    while (*end == ' ')
        end++;
    if (!strcmp(end, "%")) {
        if (!(d > 0 && d <= 800))
            return enh_fail(err, ENH_EINVAL, "%s percentage must be in (0, 800], got \"%s\"", path, s);
        *pct = d;
        return ENH_OK;
    }
    if (!strcmp(end, "px") || !*end) {
        if (!(d >= 1 && d <= 65535) || d != floor(d))
            return enh_fail(err, ENH_EINVAL, "%s must be 1..65535 px, got \"%s\"", path, s);
        *px = (int)d;
        return ENH_OK;
    }
bad:
    return enh_fail(err, ENH_EINVAL, "%s must be pixels (1..65535) or a percentage like \"50%%\", got \"%s\"", path, s);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Background: "#rgb", "#rrggbb", "#rrggbbaa" or [r,g,b] / [r,g,b,a] with 0..255. */
static enh_status read_colour(const json_t *v, const char *path, double rgba[4], enh_error *err)
{
    static const char *allowed = "\"#rrggbb\", \"#rrggbbaa\", \"#rgb\" or [r, g, b(, a)] with 0..255";
    double c[4] = {0, 0, 0, 255};
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = strlen(s);
        if (s[0] != '#' || (n != 4 && n != 7 && n != 9))
            return enh_fail(err, ENH_EINVAL, "%s must be %s, got \"%s\"", path, allowed, s);
        for (size_t i = 1; i < n; i++)
            if (hexval((unsigned char)s[i]) < 0)
                return enh_fail(err, ENH_EINVAL, "%s must be %s, got \"%s\"", path, allowed, s);
        if (n == 4) {
            for (int i = 0; i < 3; i++)
                c[i] = hexval((unsigned char)s[1 + i]) * 17;
        } else {
            for (size_t i = 0; i < (n - 1) / 2; i++)
                c[i] = hexval((unsigned char)s[1 + 2 * i]) * 16 + hexval((unsigned char)s[2 + 2 * i]);
        }
    } else if (json_is_array(v)) {
        size_t n = json_array_size(v);
        if (n != 3 && n != 4)
            return enh_fail(err, ENH_EINVAL, "%s must be %s, got an array of %zu", path, allowed, n);
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            if (!json_is_number(e) || json_number_value(e) < 0 || json_number_value(e) > 255)
                return enh_fail(err, ENH_EINVAL, "%s[%zu] must be a number in 0..255", path, i);
            c[i] = json_number_value(e);
        }
    } else {
        return enh_fail(err, ENH_EINVAL, "%s must be %s, got %s", path, allowed, type_name(v));
    }
    memcpy(rgba, c, sizeof c);
    return ENH_OK;
}

static enh_status read_enum(const json_t *v, const char *path, const char *const *names, const int *values,
                            int *out, enh_error *err)
{
    char allowed[256] = "";
    for (int i = 0; names[i]; i++) {
        if (json_is_string(v) && !strcasecmp(json_string_value(v), names[i])) {
            *out = values[i];
            return ENH_OK;
        }
        size_t l = strlen(allowed);
        snprintf(allowed + l, sizeof allowed - l, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    if (json_is_string(v))
        return enh_fail(err, ENH_EINVAL, "%s must be one of %s, got \"%s\"", path, allowed, json_string_value(v));
    return enh_fail(err, ENH_EINVAL, "%s must be one of %s, got %s", path, allowed, type_name(v));
}

/* ---- sections ---- */

static enh_status unknown_key(const char *section, const char *key, const char *known, enh_error *err)
{
    return enh_fail(err, ENH_EINVAL, "unknown key \"%s%s%s\" (known keys%s%s: %s)", section, *section ? "." : "", key,
                    *section ? " in " : "", section, known);
}

#define PATH(buf, sec, key) (snprintf(buf, sizeof buf, "%s.%s", sec, key), buf)

/* restorations.resample_kernel, or its alias resizing.kernel (the same field; a document that
 * gives both must agree, checked in enh_ops_from_json). */
static enh_status read_kernel(json_t *v, const char *path, enh_kernel *k, enh_error *err)
{
    if (!json_is_string(v))
        return enh_fail(err, ENH_EINVAL, "%s must be \"lanczos3\", \"cubic\", \"linear\" or \"nearest\", got %s", path,
                        type_name(v));
    enh_error e2 = {0};
    if (enh_kernel_from_name(json_string_value(v), k, &e2))
        return enh_fail(err, ENH_EINVAL, "%s: %s", path, e2.msg);
    return ENH_OK;
}

static enh_status check_kernel_alias(json_t *root, enh_error *err)
{
    json_t *a = json_object_get(json_object_get(root, "restorations"), "resample_kernel");
    json_t *b = json_object_get(json_object_get(root, "resizing"), "kernel");
    enh_kernel ka, kb;
    if (a && b && !read_kernel(a, "restorations.resample_kernel", &ka, err) &&
        !read_kernel(b, "resizing.kernel", &kb, err) && ka != kb)
        return enh_fail(err, ENH_EINVAL, "restorations.resample_kernel (%s) and resizing.kernel (%s) disagree: they "
                        "set the same kernel", enh_kernel_name(ka), enh_kernel_name(kb));
    return ENH_OK;
}

static enh_status parse_restorations(json_t *obj, enh_ops *o, enh_error *err)
{
    static const char *const up_names[] = {"off", "none", "photo", "art", "quality", "resample", NULL};
    static const int up_vals[] = {ENH_UPSCALE_NONE,    ENH_UPSCALE_NONE,    ENH_UPSCALE_PHOTO,
                                  ENH_UPSCALE_ART,     ENH_UPSCALE_QUALITY, ENH_UPSCALE_RESAMPLE};
    const char *key;
    json_t *v;
    char p[128];
    enh_status st = ENH_OK;
    json_object_foreach(obj, key, v) {
        PATH(p, "restorations", key);
        if (!strcmp(key, "upscale")) {
            int k;
            if (json_is_boolean(v))
                k = json_is_true(v) ? ENH_UPSCALE_PHOTO : ENH_UPSCALE_NONE;
            else if ((st = read_enum(v, p, up_names, up_vals, &k, err)))
                return st;
            o->upscale = (enh_upscale_kind)k;
        } else if (!strcmp(key, "scale")) {
            st = read_num(v, p, 1, 8, &o->scale, err);
        } else if (!strcmp(key, "model")) {
            if (!json_is_string(v) || json_string_length(v) >= sizeof o->model)
                return enh_fail(err, ENH_EINVAL, "%s must be a model name string (under %zu characters)", p,
                                sizeof o->model);
            snprintf(o->model, sizeof o->model, "%s", json_string_value(v));
        } else if (!strcmp(key, "decompress")) {
            st = read_strength(v, p, 1, &o->decompress, err);
        } else if (!strcmp(key, "denoise")) {
            st = read_strength(v, p, 0, &o->denoise, err);
        } else if (!strcmp(key, "deblur")) {
            st = read_strength(v, p, 0, &o->deblur, err);
        } else if (!strcmp(key, "sharpen")) {
            st = read_strength(v, p, 0, &o->sharpen, err);
        } else if (!strcmp(key, "resample_kernel")) {
            st = read_kernel(v, p, &o->resample_kernel, err);
        } else {
            return unknown_key("restorations", key,
                               "upscale, scale, model, decompress, denoise, deblur, sharpen, resample_kernel", err);
        }
        if (st)
            return st;
    }
    return ENH_OK;
}

static enh_status parse_adjustments(json_t *obj, enh_ops *o, enh_error *err)
{
    const char *key;
    json_t *v;
    char p[128];
    enh_status st = ENH_OK;
    json_object_foreach(obj, key, v) {
        PATH(p, "adjustments", key);
        if (!strcmp(key, "auto_color") || !strcmp(key, "auto_colour"))
            st = read_bool(v, p, &o->auto_color, err);
        else if (!strcmp(key, "auto_exposure"))
            st = read_bool(v, p, &o->auto_exposure, err);
        else if (!strcmp(key, "hdr"))
            st = read_int(v, p, 0, 100, &o->hdr, err);
        else if (!strcmp(key, "exposure"))
            st = read_int(v, p, -100, 100, &o->exposure, err);
        else if (!strcmp(key, "contrast"))
            st = read_int(v, p, -100, 100, &o->contrast, err);
        else if (!strcmp(key, "saturation"))
            st = read_int(v, p, -100, 100, &o->saturation, err);
        else if (!strcmp(key, "sharpness"))
            st = read_int(v, p, -100, 100, &o->sharpness, err);
        else if (!strcmp(key, "white_balance")) {
            if (!json_is_object(v))
                return enh_fail(err, ENH_EINVAL, "%s must be an object {\"temperature\", \"tint\"}, got %s", p,
                                type_name(v));
            const char *k2;
            json_t *v2;
            char p2[160];
            json_object_foreach(v, k2, v2) {
                snprintf(p2, sizeof p2, "adjustments.white_balance.%s", k2);
                if (!strcmp(k2, "temperature"))
                    st = read_int(v2, p2, -100, 100, &o->temperature, err);
                else if (!strcmp(k2, "tint"))
                    st = read_int(v2, p2, -100, 100, &o->tint, err);
                else
                    return unknown_key("adjustments.white_balance", k2, "temperature, tint", err);
                if (st)
                    return st;
            }
        } else
            return unknown_key("adjustments", key,
                               "auto_color, auto_exposure, hdr, exposure, contrast, saturation, sharpness, "
                               "white_balance",
                               err);
        if (st)
            return st;
    }
    return ENH_OK;
}

static enh_status parse_resizing(json_t *obj, enh_ops *o, enh_error *err)
{
    static const char *const fit_names[] = {"bounds", "inside", "contain", "cover", "crop", "fill", "canvas", "pad", NULL};
    static const int fit_vals[] = {ENH_FIT_INSIDE, ENH_FIT_INSIDE, ENH_FIT_INSIDE, ENH_FIT_COVER,
                                   ENH_FIT_COVER,  ENH_FIT_FILL,   ENH_FIT_PAD,    ENH_FIT_PAD};
    static const char *const grav_names[] = {"centre", "center", "smart", NULL};
    static const int grav_vals[] = {ENH_GRAVITY_CENTRE, ENH_GRAVITY_CENTRE, ENH_GRAVITY_SMART};
    const char *key;
    json_t *v;
    char p[128];
    enh_status st = ENH_OK;
    json_object_foreach(obj, key, v) {
        PATH(p, "resizing", key);
        int e;
        if (!strcmp(key, "width"))
            st = read_size(v, p, &o->width, &o->width_pct, err);
        else if (!strcmp(key, "height"))
            st = read_size(v, p, &o->height, &o->height_pct, err);
        else if (!strcmp(key, "scale"))
            st = read_num(v, p, 0.1, 8, &o->resize_scale, err);
        else if (!strcmp(key, "fit")) {
            if (!(st = read_enum(v, p, fit_names, fit_vals, &e, err)))
                o->fit = (enh_fit)e;
        } else if (!strcmp(key, "gravity")) {
            if (!(st = read_enum(v, p, grav_names, grav_vals, &e, err)))
                o->gravity = (enh_gravity)e;
        } else if (!strcmp(key, "padding"))
            st = read_int(v, p, 0, 4096, &o->padding, err);
        else if (!strcmp(key, "background"))
            st = read_colour(v, p, o->background, err);
        else if (!strcmp(key, "kernel"))
            st = read_kernel(v, p, &o->resample_kernel, err);
        else
            return unknown_key("resizing", key, "width, height, scale, fit, gravity, padding, background, kernel", err);
        if (st)
            return st;
    }
    return ENH_OK;
}

static enh_status parse_output(json_t *obj, enh_ops *o, enh_error *err)
{
    static const char *const fmt_names[] = {"same", "jpeg", "jpg", "png", "webp", "avif", "tiff", "tif", NULL};
    static const int fmt_vals[] = {ENH_FORMAT_SAME, ENH_FORMAT_JPEG, ENH_FORMAT_JPEG, ENH_FORMAT_PNG,
                                   ENH_FORMAT_WEBP, ENH_FORMAT_AVIF, ENH_FORMAT_TIFF, ENH_FORMAT_TIFF};
    static const char *const meta_names[] = {"keep", "strip", NULL};
    static const int meta_vals[] = {1, 0};
    const char *key;
    json_t *v;
    char p[128];
    enh_status st = ENH_OK;
    json_object_foreach(obj, key, v) {
        PATH(p, "output", key);
        int e;
        if (!strcmp(key, "format")) {
            if (!(st = read_enum(v, p, fmt_names, fmt_vals, &e, err)))
                o->format = (enh_format)e;
        } else if (!strcmp(key, "quality"))
            st = read_int(v, p, 1, 100, &o->quality, err);
        else if (!strcmp(key, "metadata")) {
            if (json_is_boolean(v))
                o->keep_metadata = json_is_true(v);
            else
                st = read_enum(v, p, meta_names, meta_vals, &o->keep_metadata, err);
        } else if (!strcmp(key, "bit_depth")) {
            if ((st = read_int(v, p, 0, 16, &e, err)))
                return st;
            if (e != 0 && e != 8 && e != 16)
                return enh_fail(err, ENH_EINVAL, "%s must be 8 or 16 (or 0 = as input), got %d", p, e);
            o->bit_depth = e;
        } else if (!strcmp(key, "progressive"))
            st = read_bool(v, p, &o->progressive, err);
        else if (!strcmp(key, "lossless"))
            st = read_bool(v, p, &o->lossless, err);
        else
            return unknown_key("output", key, "format, quality, metadata, bit_depth, progressive, lossless", err);
        if (st)
            return st;
    }
    return ENH_OK;
}

enh_status enh_ops_from_json(const char *json, size_t len, enh_ops *ops, enh_error *err)
{
    enh_ops_init(ops);
    if (!json)
        return enh_fail(err, ENH_EINVAL, "operations JSON is missing");
    if (len > MAX_JSON_BYTES)
        return enh_fail(err, ENH_ETOOBIG, "operations JSON is %zu bytes; the limit is %u", len, MAX_JSON_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return enh_fail(err, ENH_EINVAL, "operations JSON does not parse: %s (line %d, column %d)", jerr.text,
                        jerr.line, jerr.column);
    enh_status st = ENH_OK;
    enh_ops o;
    enh_ops_init(&o);
    if (!json_is_object(root)) {
        st = enh_fail(err, ENH_EINVAL, "operations JSON must be an object, got %s", type_name(root));
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (!strcmp(key, "auto")) {
            st = read_bool(v, "auto", &o.auto_mode, err);
        } else if (!strcmp(key, "restorations") || !strcmp(key, "adjustments") || !strcmp(key, "resizing") ||
                   !strcmp(key, "output")) {
            if (!json_is_object(v)) {
                st = enh_fail(err, ENH_EINVAL, "%s must be an object, got %s", key, type_name(v));
            } else if (key[0] == 'r' && key[2] == 's' && key[3] == 't') {
                st = parse_restorations(v, &o, err);
            } else if (key[0] == 'a') {
                st = parse_adjustments(v, &o, err);
            } else if (key[0] == 'r') {
                st = parse_resizing(v, &o, err);
            } else {
                st = parse_output(v, &o, err);
            }
        } else if (!strcmp(key, "$schema")) {
            /* tolerated: lets a document point at enh_ops_schema_json() */
        } else {
            st = unknown_key("", key, "restorations, adjustments, resizing, output, auto", err);
        }
        if (st)
            goto done;
    }
    if ((st = check_kernel_alias(root, err)))
        goto done;
    if ((st = enh_ops_validate(&o, err)))
        goto done;
    *ops = o;
done:
    json_decref(root);
    return st;
}

/* ---- writer ---- */

static json_t *strength_json(int v)
{
    if (v == ENH_AUTO)
        return json_string("auto");
    if (v == ENH_OFF)
        return json_string("off");
    return json_integer(v);
}

static json_t *size_json(int px, double pct)
{
    if (pct > 0) {
        char b[48];
        snprintf(b, sizeof b, "%.17g%%", pct);
        return json_string(b);
    }
    if (px > 0)
        return json_integer(px);
    return json_null();
}

static const char *fit_name(enh_fit f)
{
    switch (f) {
    case ENH_FIT_INSIDE: return "bounds";
    case ENH_FIT_COVER: return "cover";
    case ENH_FIT_FILL: return "fill";
    case ENH_FIT_PAD: return "canvas";
    }
    return "bounds";
}

char *enh_ops_to_json(const enh_ops *o)
{
    json_t *root = json_object();
    json_t *r = json_object(), *a = json_object(), *z = json_object(), *out = json_object(), *wb = json_object();
    json_t *bg = json_array();
    if (!root || !r || !a || !z || !out || !wb || !bg) {
        json_decref(root), json_decref(r), json_decref(a), json_decref(z), json_decref(out), json_decref(wb),
            json_decref(bg);
        return NULL;
    }
    json_object_set_new(r, "upscale", json_string(enh_upscale_kind_name(o->upscale)));
    if (o->scale > 0)
        json_object_set_new(r, "scale", json_real(o->scale));
    if (o->model[0])
        json_object_set_new(r, "model", json_string(o->model));
    json_object_set_new(r, "decompress", strength_json(o->decompress));
    json_object_set_new(r, "denoise", strength_json(o->denoise));
    json_object_set_new(r, "deblur", strength_json(o->deblur));
    json_object_set_new(r, "sharpen", strength_json(o->sharpen));
    json_object_set_new(r, "resample_kernel", json_string(enh_kernel_name(o->resample_kernel)));

    json_object_set_new(a, "auto_color", json_boolean(o->auto_color));
    json_object_set_new(a, "auto_exposure", json_boolean(o->auto_exposure));
    json_object_set_new(a, "hdr", json_integer(o->hdr));
    json_object_set_new(a, "exposure", json_integer(o->exposure));
    json_object_set_new(a, "contrast", json_integer(o->contrast));
    json_object_set_new(a, "saturation", json_integer(o->saturation));
    json_object_set_new(a, "sharpness", json_integer(o->sharpness));
    json_object_set_new(wb, "temperature", json_integer(o->temperature));
    json_object_set_new(wb, "tint", json_integer(o->tint));
    json_object_set_new(a, "white_balance", wb);

    json_t *w = size_json(o->width, o->width_pct), *h = size_json(o->height, o->height_pct);
    if (json_is_null(w))
        json_decref(w);
    else
        json_object_set_new(z, "width", w);
    if (json_is_null(h))
        json_decref(h);
    else
        json_object_set_new(z, "height", h);
    if (o->resize_scale > 0)
        json_object_set_new(z, "scale", json_real(o->resize_scale));
    json_object_set_new(z, "fit", json_string(fit_name(o->fit)));
    json_object_set_new(z, "gravity", json_string(o->gravity == ENH_GRAVITY_SMART ? "smart" : "centre"));
    json_object_set_new(z, "padding", json_integer(o->padding));
    for (int i = 0; i < 4; i++)
        json_array_append_new(bg, o->background[i] == floor(o->background[i]) ? json_integer((json_int_t)o->background[i])
                                                                               : json_real(o->background[i]));
    json_object_set_new(z, "background", bg);

    json_object_set_new(out, "format", json_string(enh_format_name(o->format)));
    if (o->quality > 0)
        json_object_set_new(out, "quality", json_integer(o->quality));
    json_object_set_new(out, "metadata", json_string(o->keep_metadata ? "keep" : "strip"));
    json_object_set_new(out, "bit_depth", json_integer(o->bit_depth));
    json_object_set_new(out, "progressive", json_boolean(o->progressive));
    json_object_set_new(out, "lossless", json_boolean(o->lossless));

    json_object_set_new(root, "restorations", r);
    json_object_set_new(root, "adjustments", a);
    json_object_set_new(root, "resizing", z);
    json_object_set_new(root, "output", out);
    json_object_set_new(root, "auto", json_boolean(o->auto_mode));
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    return s;
}
