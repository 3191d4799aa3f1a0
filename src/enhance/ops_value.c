/* ops_value.c - reading one option's value into enh_ops, by the row's type (see ops_table.h).
 * Every front end ends here, so a value means the same and is refused with the same
 * message whether it came from JSON, a query key or a CLI flag. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "enhance/ops_table.h"

#define FIELD(ops, off, type) ((type *)((char *)(ops) + (off)))
#define CFIELD(ops, off, type) ((const type *)((const char *)(ops) + (off)))

enh_opt_value enh_opt_text(const char *text)
{
    enh_opt_value v = {.kind = text ? ENH_VAL_TEXT : ENH_VAL_NONE, .str = text};
    return v;
}

/* A whole-string finite number. */
static int text_number(const char *s, double *d)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return 0;
    char *end = NULL;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || errno || !isfinite(x))
        return 0;
    *d = x;
    return 1;
}

/* The number in v (a JSON number, or text that is a number). */
static int value_number(const enh_opt_value *v, double *d)
{
    if (v->kind == ENH_VAL_NUM) {
        *d = v->num;
        return 1;
    }
    return v->kind == ENH_VAL_TEXT && text_number(v->str, d);
}

static int is_name(const enh_opt_value *v) { return v->kind == ENH_VAL_STR || v->kind == ENH_VAL_TEXT; }

/* 1 when every byte of s is printable ASCII (a name with a 0xff byte could not be written as
 * JSON: enh_ops_to_json gave NULL for a query's model=...) */
static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* A value as the message quotes it: the same text for the same value from every front end. */
static void describe(const enh_opt_value *v, char *buf, size_t n)
{
    double d;
    switch (v->kind) {
    case ENH_VAL_NONE: snprintf(buf, n, "no value"); return;
    case ENH_VAL_BOOL: snprintf(buf, n, "%s", v->b ? "true" : "false"); return;
    case ENH_VAL_NUM: snprintf(buf, n, "%g", v->num); return;
    case ENH_VAL_TEXT:
        if (text_number(v->str, &d)) {
            snprintf(buf, n, "%g", d);
            return;
        }
        /* fall through */
    case ENH_VAL_STR: snprintf(buf, n, "\"%.200s\"", v->str ? v->str : ""); return;
    case ENH_VAL_ARRAY: snprintf(buf, n, "an array of %zu", v->n); return;
    case ENH_VAL_OTHER: snprintf(buf, n, "%s", v->other ? v->other : "another type"); return;
    }
    snprintf(buf, n, "?");
}

static void where(const enh_opt *o, char *buf, size_t n)
{
    char cli[48], query[48];
    snprintf(buf, n, "CLI flag --%s, query key %s", enh_opt_first(o->cli, cli, sizeof cli),
             enh_opt_first(o->query, query, sizeof query));
}

static enh_status refuse(const enh_opt *o, const enh_opt_value *v, enh_error *err)
{
    char got[256], allowed[400], w[120];
    describe(v, got, sizeof got);
    enh_opt_allowed(o, allowed, sizeof allowed);
    where(o, w, sizeof w);
    return enh_fail(err, ENH_EINVAL, "%s must be %s, got %s (%s)", v->path ? v->path : o->path, allowed, got, w);
}

static int has_bool_names(const enh_named *names)
{
    for (const enh_named *e = names; e && e->name; e++)
        if (!strcmp(e->name, "true"))
            return 1;
    return 0;
}

static int is_bool_name(const char *s) { return !strcmp(s, "true") || !strcmp(s, "false"); }

/* 1 (true), 0 (false) or -1 for the words a flag value may use. */
static int text_bool(const char *s)
{
    static const char *const yes[] = {"true", "1", "yes", "on"}, *const no[] = {"false", "0", "no", "off"};
    for (int i = 0; s && i < 4; i++) {
        if (!strcasecmp(s, yes[i]))
            return 1;
        if (!strcasecmp(s, no[i]))
            return 0;
    }
    return -1;
}

static int named_value(const enh_named *names, const char *s, int skip_bool, int *out)
{
    for (const enh_named *e = names; e && e->name; e++)
        if (!(skip_bool && is_bool_name(e->name)) && !strcasecmp(e->name, s)) {
            *out = e->value;
            return 1;
        }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "#rgb", "#rrggbb", "#rrggbbaa", "r,g,b[,a]" or a colour name. */
static int text_colour(const char *s, double rgba[4])
{
    static const struct {
        const char *name;
        double v[4];
    } named[] = {{"white", {255, 255, 255, 255}}, {"black", {0, 0, 0, 255}},        {"grey", {128, 128, 128, 255}},
                 {"gray", {128, 128, 128, 255}},  {"transparent", {0, 0, 0, 0}}};
    double c[4] = {0, 0, 0, 255};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (!strcasecmp(s, named[i].name)) {
            memcpy(rgba, named[i].v, sizeof c);
            return 1;
        }
    size_t n = strlen(s);
    if (s[0] == '#') {
        if (n != 4 && n != 7 && n != 9)
            return 0;
        for (size_t i = 1; i < n; i++)
            if (hexval((unsigned char)s[i]) < 0)
                return 0;
        if (n == 4)
            for (int i = 0; i < 3; i++)
                c[i] = hexval((unsigned char)s[1 + i]) * 17;
        else
            for (size_t i = 0; i < (n - 1) / 2; i++)
                c[i] = hexval((unsigned char)s[1 + 2 * i]) * 16 + hexval((unsigned char)s[2 + 2 * i]);
        memcpy(rgba, c, sizeof c);
        return 1;
    }
    int k = 0;
    const char *p = s;
    while (k < 4) {
        char *end = NULL;
        double x = strtod(p, &end);
        if (end == p || isspace((unsigned char)*p) || !(x >= 0 && x <= 255))
            return 0;
        c[k++] = x;
        if (*end == ',' && k < 4) {
            p = end + 1;
            continue;
        }
        if (*end || k < 3)
            return 0;
        memcpy(rgba, c, sizeof c);
        return 1;
    }
    return 0;
}

enh_status enh_opt_set_plain(const enh_opt *o, const enh_opt_value *v, enh_ops *ops, enh_error *err)
{
    double d = 0;
    int e = 0;
    switch (o->type) {
    case ENH_OPT_BOOL: {
        int b = v->kind == ENH_VAL_NONE   ? 1
                : v->kind == ENH_VAL_BOOL ? v->b
                : v->kind == ENH_VAL_TEXT ? text_bool(v->str)
                                          : -1;
        if (b < 0)
            return refuse(o, v, err);
        *FIELD(ops, o->offset, int) = b;
        return ENH_OK;
    }
    case ENH_OPT_INT:
        if (!value_number(v, &d) || d != floor(d) || d < o->min || d > o->max)
            return refuse(o, v, err);
        for (const int *c = o->choices; c && *c >= 0 && (int)d != *c; c++)
            if (c[1] < 0)
                return refuse(o, v, err);
        *FIELD(ops, o->offset, int) = (int)d;
        return ENH_OK;
    case ENH_OPT_DOUBLE:
        if (!value_number(v, &d) || d < o->min || d > o->max)
            return refuse(o, v, err);
        *FIELD(ops, o->offset, double) = d;
        return ENH_OK;
    case ENH_OPT_ENUM: {
        /* a name (a JSON string never reads as a boolean); else, where the row has "true" and
         * "false" entries, a boolean in any front end's spelling */
        int found = is_name(v) && v->str && named_value(o->names, v->str, v->kind == ENH_VAL_STR, &e);
        if (!found && has_bool_names(o->names)) {
            int b = v->kind == ENH_VAL_NONE   ? 1
                    : v->kind == ENH_VAL_BOOL ? v->b
                    : v->kind == ENH_VAL_TEXT ? text_bool(v->str)
                                              : -1;
            found = b >= 0 && named_value(o->names, b ? "true" : "false", 0, &e);
        }
        if (!found)
            return refuse(o, v, err);
        *FIELD(ops, o->offset, int) = e;
        return ENH_OK;
    }
    case ENH_OPT_STRENGTH:
        if (v->kind == ENH_VAL_NONE || v->kind == ENH_VAL_BOOL) {
            e = v->kind == ENH_VAL_NONE || v->b ? ENH_AUTO : ENH_OFF;
        } else if (value_number(v, &d)) {
            if (!(d >= 0 && d <= 100))
                return refuse(o, v, err);
            e = (int)lround(d);
        } else if (is_name(v) && (!strcasecmp(v->str, "off") || !strcasecmp(v->str, "none"))) {
            e = ENH_OFF;
        } else if (is_name(v) && !strcasecmp(v->str, "auto")) {
            e = ENH_AUTO;
        } else if (v->kind == ENH_VAL_TEXT && text_bool(v->str) >= 0) { /* as JSON true/false */
            e = text_bool(v->str) ? ENH_AUTO : ENH_OFF;
        } else if (!(is_name(v) && named_value(o->names, v->str, 1, &e))) { /* a named level */
            return refuse(o, v, err);
        }
        *FIELD(ops, o->offset, int) = e;
        return ENH_OK;
    case ENH_OPT_SIZE: {
        int px = 0;
        double pct = 0;
        if (value_number(v, &d)) {
            if (d != floor(d) || d < o->min || d > o->max)
                return refuse(o, v, err);
            px = (int)d;
        } else if (is_name(v)) {
            char *end = NULL;
            d = strtod(v->str, &end);
            if (end == v->str || isspace((unsigned char)*v->str) || !isfinite(d))
                return refuse(o, v, err);
            while (*end == ' ')
                end++;
            if (!strcmp(end, "%") && d > 0 && d <= o->max_pct)
                pct = d;
            else if (!strcmp(end, "px") && d == floor(d) && d >= o->min && d <= o->max)
                px = (int)d;
            else
                return refuse(o, v, err);
        } else {
            return refuse(o, v, err);
        }
        *FIELD(ops, o->offset, int) = px;
        *FIELD(ops, o->offset2, double) = pct;
        return ENH_OK;
    }
    case ENH_OPT_COLOUR: {
        double c[4] = {0, 0, 0, 255};
        if (v->kind == ENH_VAL_ARRAY) {
            if (v->bad || (v->n != 3 && v->n != 4))
                return refuse(o, v, err);
            for (size_t i = 0; i < v->n; i++) {
                if (!(v->arr[i] >= 0 && v->arr[i] <= 255))
                    return refuse(o, v, err);
                c[i] = v->arr[i];
            }
        } else if (!(is_name(v) && v->str && text_colour(v->str, c))) {
            return refuse(o, v, err);
        }
        for (int i = 0; i < 4; i++)
            c[i] += 0.0; /* -0 is 0: written as 0, it would read back as another value (bytes) */
        memcpy(FIELD(ops, o->offset, double), c, sizeof c);
        return ENH_OK;
    }
    case ENH_OPT_STRING:
        if (!is_name(v) || !v->str || strlen(v->str) > (size_t)o->max || !printable(v->str))
            return refuse(o, v, err);
        /* the whole field: a shorter name given after a longer one left the old tail behind its
         * NUL, and enh_ops values are compared as bytes */
        memset(FIELD(ops, o->offset, char), 0, (size_t)o->max + 1);
        memcpy(FIELD(ops, o->offset, char), v->str, strlen(v->str));
        return ENH_OK;
    }
    return enh_fail(err, ENH_EINTERNAL, "%s: unknown option type %d", o->path, (int)o->type);
}

const char *enh_opt_first(const char *list, char *buf, size_t n)
{
    size_t l = list ? strcspn(list, " ") : 0;
    snprintf(buf, n, "%.*s", (int)l, list ? list : "");
    return buf;
}

/* ---- descriptions ---- */

static size_t put(char *buf, size_t n, size_t len, const char *fmt, const char *s)
{
    if (len < n)
        len += (size_t)snprintf(buf + len, n - len, fmt, s);
    return len;
}

void enh_opt_allowed(const enh_opt *o, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    switch (o->type) {
    case ENH_OPT_BOOL: snprintf(buf, n, "true or false"); return;
    case ENH_OPT_INT:
        if (o->choices) {
            len = put(buf, n, len, "%s", "one of ");
            for (const int *c = o->choices; *c >= 0; c++) {
                char num[16];
                snprintf(num, sizeof num, "%d", *c);
                len = put(buf, n, len, c == o->choices ? "%s" : c[1] < 0 ? " or %s" : ", %s", num);
            }
            return;
        }
        snprintf(buf, n, "an integer in %g..%g", o->min, o->max);
        return;
    case ENH_OPT_DOUBLE: snprintf(buf, n, "a number in %g..%g", o->min, o->max); return;
    case ENH_OPT_ENUM: {
        len = put(buf, n, len, "%s", "one of ");
        int first = 1;
        for (const enh_named *e = o->names; e->name; e++) {
            if (is_bool_name(e->name))
                continue;
            len = put(buf, n, len, first ? "\"%s\"" : ", \"%s\"", e->name);
            first = 0;
        }
        if (has_bool_names(o->names))
            len = put(buf, n, len, "%s", ", true, false");
        if (o->max > o->min && len < n)
            snprintf(buf + len, n - len, " or a number in %g..%g", o->min, o->max);
        return;
    }
    case ENH_OPT_STRENGTH:
        len = put(buf, n, len, "%s", "\"off\", \"auto\"");
        for (const enh_named *e = o->names; e && e->name; e++)
            len = put(buf, n, len, ", \"%s\"", e->name);
        put(buf, n, len, "%s", " or 0..100");
        return;
    case ENH_OPT_SIZE:
        snprintf(buf, n, "pixels in %g..%g or a percentage in (0, %g] like \"50%%\"", o->min, o->max, o->max_pct);
        return;
    case ENH_OPT_COLOUR:
        snprintf(buf, n, "a colour: \"#rrggbb\", \"#rrggbbaa\", \"#rgb\", \"r,g,b[,a]\", [r, g, b(, a)] with "
                         "0..255, or white, black, grey or transparent");
        return;
    case ENH_OPT_STRING: snprintf(buf, n, "a name of at most %g printable ASCII characters", o->max); return;
    }
}

void enh_opt_summary(const enh_opt *o, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    switch (o->type) {
    case ENH_OPT_BOOL: return;
    case ENH_OPT_INT:
        if (o->choices) {
            for (const int *c = o->choices; *c >= 0; c++) {
                char num[16];
                snprintf(num, sizeof num, "%d", *c);
                len = put(buf, n, len, c == o->choices ? "%s" : "|%s", num);
            }
            return;
        }
        /* fall through */
    case ENH_OPT_DOUBLE: snprintf(buf, n, "%g..%g", o->min, o->max); return;
    case ENH_OPT_ENUM:
        for (const enh_named *e = o->names; e->name; e++) {
            int canonical = !is_bool_name(e->name);
            for (const enh_named *f = o->names; canonical && f < e; f++)
                canonical = f->value != e->value;
            if (canonical)
                len = put(buf, n, len, len ? "|%s" : "%s", e->name);
        }
        if (o->max > o->min && len < n)
            snprintf(buf + len, n - len, "|%g..%g", o->min, o->max);
        return;
    case ENH_OPT_STRENGTH:
        len = put(buf, n, len, "%s", "off|auto");
        for (const enh_named *e = o->names; e && e->name; e++)
            len = put(buf, n, len, "|%s", e->name);
        put(buf, n, len, "%s", "|0..100");
        return;
    case ENH_OPT_SIZE: snprintf(buf, n, "px or N%%"); return;
    case ENH_OPT_COLOUR: snprintf(buf, n, "#rrggbb[aa]|r,g,b[,a]|white|black|transparent"); return;
    case ENH_OPT_STRING: return;
    }
}

/* Canonical name of an ENUM value: the first entry with it. */
static const char *enum_name(const enh_opt *o, int v)
{
    for (const enh_named *e = o->names; e->name; e++)
        if (e->value == v && !is_bool_name(e->name))
            return e->name;
    return NULL;
}

int enh_opt_is_unset(const enh_opt *o, const enh_ops *ops)
{
    switch (o->type) {
    case ENH_OPT_INT: return (o->flags & ENH_OPT_OMIT_ZERO) && *CFIELD(ops, o->offset, int) == 0;
    case ENH_OPT_DOUBLE: return (o->flags & ENH_OPT_OMIT_ZERO) && *CFIELD(ops, o->offset, double) == 0;
    case ENH_OPT_ENUM: return (o->flags & ENH_OPT_OMIT_ZERO) && *CFIELD(ops, o->offset, int) == 0;
    case ENH_OPT_SIZE: return *CFIELD(ops, o->offset, int) <= 0 && *CFIELD(ops, o->offset2, double) <= 0;
    case ENH_OPT_STRING: return !*CFIELD(ops, o->offset, char);
    default: return 0;
    }
}

void enh_opt_format(const enh_opt *o, const enh_ops *ops, char *buf, size_t n)
{
    buf[0] = 0;
    if (enh_opt_is_unset(o, ops))
        return;
    int i = *CFIELD(ops, o->offset, int);
    switch (o->type) {
    case ENH_OPT_BOOL: snprintf(buf, n, "%s", i ? "true" : "false"); return;
    case ENH_OPT_INT: snprintf(buf, n, "%d", i); return;
    case ENH_OPT_DOUBLE: snprintf(buf, n, "%.17g", *CFIELD(ops, o->offset, double)); return;
    case ENH_OPT_ENUM: {
        const char *name = enum_name(o, i);
        snprintf(buf, n, "%s", name ? name : "?");
        return;
    }
    case ENH_OPT_STRENGTH:
        if (i == ENH_AUTO || i == ENH_OFF)
            snprintf(buf, n, "%s", i == ENH_AUTO ? "auto" : "off");
        else
            snprintf(buf, n, "%d", i);
        return;
    case ENH_OPT_SIZE: {
        double pct = *CFIELD(ops, o->offset2, double);
        if (pct > 0)
            snprintf(buf, n, "%.17g%%", pct);
        else
            snprintf(buf, n, "%d", i);
        return;
    }
    case ENH_OPT_COLOUR: {
        const double *c = CFIELD(ops, o->offset, double);
        snprintf(buf, n, "%.17g,%.17g,%.17g,%.17g", c[0], c[1], c[2], c[3]);
        return;
    }
    case ENH_OPT_STRING: snprintf(buf, n, "%s", CFIELD(ops, o->offset, char)); return;
    }
}
