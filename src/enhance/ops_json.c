/* ops_json.c - the operations document as JSON: strict parser and canonical writer, both
 * loops over the operations table (ops_table.h).
 *
 * Parsing is strict: an unknown key is ENH_EINVAL naming its path ("restorations.denoyse")
 * and the keys known there; a wrong type or an out-of-range value is refused by the
 * table's setter, whose message names the path and the allowed values. The parser starts
 * from enh_ops_init() defaults, fills what the document sets and finally runs
 * enh_ops_validate() for cross-field rules. enh_ops_to_json() writes every option (those
 * unset, such as a width, are left out), so enh_ops_from_json(enh_ops_to_json(x)) == x.
 * Thread-safe (no global state). Uses jansson.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_mem.h"
#include "enhance/ops.h"
#include "enhance/ops_internal.h"
#include "enhance/ops_table.h"

#define MAX_JSON_BYTES (1u << 20)

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

static enh_opt_value value_of(const json_t *j)
{
    enh_opt_value v = {.kind = ENH_VAL_OTHER, .other = type_name(j)};
    if (json_is_boolean(j)) {
        v.kind = ENH_VAL_BOOL;
        v.b = json_is_true(j);
    } else if (json_is_number(j)) {
        v.kind = ENH_VAL_NUM;
        v.num = json_number_value(j);
    } else if (json_is_string(j)) {
        v.kind = ENH_VAL_STR;
        v.str = json_string_value(j);
    } else if (json_is_array(j)) {
        v.kind = ENH_VAL_ARRAY;
        v.n = json_array_size(j);
        for (size_t i = 0; i < v.n; i++) {
            json_t *e = json_array_get(j, i);
            if (!json_is_number(e))
                v.bad = 1;
            else if (i < 4)
                v.arr[i] = json_number_value(e);
        }
    }
    return v;
}

/* 1 when some option's path (or alias) continues below prefix ("restorations" -> yes). */
static int is_section(const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < enh_opts_count; i++) {
        const char *p[2] = {enh_opts[i].path, enh_opts[i].json_alias};
        for (int k = 0; k < 2; k++)
            if (p[k] && !strncmp(p[k], prefix, n) && p[k][n] == '.')
                return 1;
    }
    return 0;
}

/* The keys known directly under prefix ("" = top level), comma-separated, each once. */
static void known_keys(const char *prefix, char *buf, size_t size)
{
    size_t n = strlen(prefix), len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < enh_opts_count; i++) {
        const char *p[2] = {enh_opts[i].path, enh_opts[i].json_alias};
        for (int k = 0; k < 2; k++) {
            if (!p[k] || (n && (strncmp(p[k], prefix, n) || p[k][n] != '.')))
                continue;
            const char *key = p[k] + (n ? n + 1 : 0);
            size_t kl = strcspn(key, ".");
            int seen = 0;
            for (const char *q = buf; *q && !seen;) { /* already listed? */
                size_t l = strcspn(q, ",");
                seen = l == kl && !strncmp(q, key, kl);
                q += l;
                q += strspn(q, ", ");
            }
            if (!seen && len < size)
                len += (size_t)snprintf(buf + len, size - len, "%s%.*s", len ? ", " : "", (int)kl, key);
        }
    }
}

static enh_status parse_object(json_t *obj, const char *prefix, enh_ops *o, enh_ops_state *st, enh_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        char path[160];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
        const enh_opt *opt = enh_opt_by_path(path);
        enh_status s;
        if (opt) {
            enh_opt_value val = value_of(v);
            val.path = path;
            s = enh_opt_set(opt, &val, o, st, err);
        } else if (is_section(path)) {
            if (!json_is_object(v)) {
                char known[400];
                known_keys(path, known, sizeof known);
                return enh_fail(err, ENH_EINVAL, "%s must be an object {%s}, got %s", path, known, type_name(v));
            }
            s = parse_object(v, path, o, st, err);
        } else if (!*prefix && !strcmp(key, "$schema")) {
            s = ENH_OK; /* tolerated: lets a document point at enh_ops_schema_json() */
        } else {
            char known[400];
            known_keys(prefix, known, sizeof known);
            return enh_fail(err, ENH_EINVAL, "unknown key \"%s\" (known keys%s%s: %s)", path, *prefix ? " in " : "",
                            prefix, known);
        }
        if (s)
            return s;
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
    json_t *root;
    enh_status st = enh_json_parse(json, len, JSON_REJECT_DUPLICATES, "the operations JSON", &root, &jerr, err);
    if (st)
        return st;
    if (!root)
        return enh_fail(err, ENH_EINVAL, "operations JSON does not parse: %s (line %d, column %d)", jerr.text,
                        jerr.line, jerr.column);
    enh_ops o;
    enh_ops_init(&o);
    enh_ops_state state = {.strict_repeat = 1};
    if (!json_is_object(root))
        st = enh_fail(err, ENH_EINVAL, "operations JSON must be an object, got %s", type_name(root));
    else if (!(st = parse_object(root, "", &o, &state, err)) && !(st = enh_ops_validate(&o, err)))
        *ops = o;
    json_decref(root);
    return st;
}

/* ---- writer ---- */

/* The option's value as canonical JSON, or NULL when it is unset (left out). */
json_t *enh_opt_json_value(const enh_opt *r, const enh_ops *o)
{
    if (enh_opt_is_unset(r, o))
        return NULL;
    const char *base = (const char *)o + r->offset;
    int i = *(const int *)base;
    char text[160];
    switch (r->type) {
    case ENH_OPT_BOOL: return json_boolean(i);
    case ENH_OPT_INT: return json_integer(i);
    case ENH_OPT_DOUBLE: return json_real(*(const double *)base);
    case ENH_OPT_STRENGTH:
        if (i != ENH_AUTO && i != ENH_OFF)
            return json_integer(i);
        /* fall through */
    case ENH_OPT_ENUM:
    case ENH_OPT_STRING: enh_opt_format(r, o, text, sizeof text); return json_string(text);
    case ENH_OPT_SIZE:
        if (*(const double *)((const char *)o + r->offset2) > 0) {
            enh_opt_format(r, o, text, sizeof text);
            return json_string(text);
        }
        return json_integer(i);
    case ENH_OPT_COLOUR: {
        const double *c = (const double *)base;
        json_t *a = json_array();
        for (int k = 0; a && k < 4; k++)
            if (json_array_append_new(a, c[k] == floor(c[k]) ? json_integer((json_int_t)c[k]) : json_real(c[k]))) {
                json_decref(a); /* out of memory: no value rather than a colour short of a channel */
                a = NULL;
            }
        return a;
    }
    }
    return NULL;
}

/* Sets root[path] = v, making the objects on the way; takes v. */
static int set_path(json_t *root, const char *path, json_t *v)
{
    json_t *obj = root;
    const char *p = path;
    for (const char *dot; (dot = strchr(p, '.')); p = dot + 1) {
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(dot - p), p);
        json_t *next = json_object_get(obj, key);
        if (!next) {
            next = json_object();
            if (!next || json_object_set_new(obj, key, next)) {
                json_decref(v);
                return -1;
            }
        }
        obj = next;
    }
    return json_object_set_new(obj, p, v);
}

char *enh_ops_to_json(const enh_ops *o)
{
    json_t *root = json_object();
    for (size_t i = 0; root && i < enh_opts_count; i++) {
        if (enh_opt_is_unset(&enh_opts[i], o))
            continue;
        json_t *v = enh_opt_json_value(&enh_opts[i], o);
        if (!v || set_path(root, enh_opts[i].path, v)) {
            json_decref(root);
            return NULL;
        }
    }
    char *s = root ? enh_json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(root);
    return s;
}
