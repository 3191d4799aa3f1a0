/* ops_schema.c - the JSON Schema (draft 2020-12) of the operations document and the
 * GET /v1/ops description, both made from the operations table (ops_table.h), so they
 * cannot disagree with the parsers. The schema is built once (pthread_once) and kept for
 * the process; enh_ops_describe_json returns a new string each call (NULL when memory ran out).
 * Thread-safe. */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_mem.h"
#include "enhance/ops.h"
#include "enhance/ops_internal.h"
#include "enhance/ops_table.h"

static const char *const g_type_names[] = {"bool", "int", "double", "enum", "strength", "size", "colour", "string"};

static int is_bool_name(const char *s) { return !strcmp(s, "true") || !strcmp(s, "false"); }

static json_t *names_array(const enh_named *names, int canonical_only)
{
    json_t *a = json_array();
    for (const enh_named *e = names; a && e && e->name; e++) {
        int keep = !is_bool_name(e->name);
        for (const enh_named *f = names; keep && canonical_only && f < e; f++)
            keep = f->value != e->value;
        if (keep)
            json_array_append_new(a, json_string(e->name));
    }
    return a;
}

static json_t *number_schema(const char *type, double lo, double hi)
{
    return json_pack("{s:s, s:f, s:f}", "type", type, "minimum", lo, "maximum", hi);
}

/* The schema of one option's value. */
static json_t *option_schema(const enh_opt *r)
{
    json_t *s = NULL, *one = NULL;
    switch (r->type) {
    case ENH_OPT_BOOL: s = json_pack("{s:s}", "type", "boolean"); break;
    case ENH_OPT_INT:
        if (r->choices) {
            json_t *e = json_array();
            for (const int *c = r->choices; e && *c >= 0; c++)
                json_array_append_new(e, json_integer(*c));
            s = json_pack("{s:s, s:o}", "type", "integer", "enum", e);
        } else {
            s = number_schema("integer", r->min, r->max);
        }
        break;
    case ENH_OPT_DOUBLE: s = number_schema("number", r->min, r->max); break;
    case ENH_OPT_ENUM: {
        int has_bool = 0;
        for (const enh_named *e = r->names; e->name; e++)
            has_bool |= is_bool_name(e->name);
        json_t *str = json_pack("{s:s, s:o}", "type", "string", "enum", names_array(r->names, 0));
        if (!has_bool && !(r->max > r->min)) {
            s = str;
            break;
        }
        one = json_array();
        json_array_append_new(one, str);
        if (has_bool)
            json_array_append_new(one, json_pack("{s:s}", "type", "boolean"));
        if (r->max > r->min)
            json_array_append_new(one, number_schema("number", r->min, r->max));
        break;
    }
    case ENH_OPT_STRENGTH: {
        json_t *e = json_pack("[s, s, s]", "off", "none", "auto");
        for (const enh_named *l = r->names; e && l && l->name; l++)
            json_array_append_new(e, json_string(l->name));
        one = json_pack("[{s:s, s:o}, {s:s}, o]", "type", "string", "enum", e, "type", "boolean",
                        number_schema("number", 0, 100));
        break;
    }
    case ENH_OPT_SIZE:
        one = json_pack("[o, {s:s, s:s}]", number_schema("integer", r->min, r->max), "type", "string", "pattern",
                        "^[0-9]+(\\.[0-9]+)?(%|px)?$");
        break;
    case ENH_OPT_COLOUR:
        one = json_pack("[{s:s, s:s}, {s:s, s:i, s:i, s:o}]", "type", "string", "description",
                        "#rgb, #rrggbb, #rrggbbaa, r,g,b[,a], white, black, grey or transparent", "type", "array",
                        "minItems", 3, "maxItems", 4, "items", number_schema("number", 0, 255));
        break;
    case ENH_OPT_STRING: s = json_pack("{s:s, s:i}", "type", "string", "maxLength", (int)r->max); break;
    }
    if (one)
        s = json_pack("{s:o}", "oneOf", one);
    if (!s)
        return NULL;
    json_object_set_new(s, "description", json_string(r->help));
    enh_ops d;
    enh_ops_init(&d);
    json_t *def = enh_opt_json_value(r, &d);
    if (def)
        json_object_set_new(s, "default", def);
    return s;
}

static json_t *object_schema(void)
{
    return json_pack("{s:s, s:b, s:{}}", "type", "object", "additionalProperties", 0, "properties");
}

/* Puts leaf at path under the schema root, making the object schemas on the way. */
static int put(json_t *root, const char *path, json_t *leaf)
{
    json_t *obj = root;
    const char *p = path;
    for (const char *dot; (dot = strchr(p, '.')); p = dot + 1) {
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(dot - p), p);
        json_t *props = json_object_get(obj, "properties");
        json_t *next = json_object_get(props, key);
        if (!next && (!(next = object_schema()) || json_object_set_new(props, key, next))) {
            json_decref(leaf);
            return -1;
        }
        obj = next;
    }
    return json_object_set_new(json_object_get(obj, "properties"), p, leaf);
}

static char *g_schema;

static void build_schema(void)
{
    /* made once for the process: a schema missing an option for lack of memory would be served
     * until a restart, so any failed allocation leaves no schema ("{}") instead */
    enh_json_build_begin();
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:{s:s}}}", "$schema", "https://json-schema.org/draft/2020-12/schema", "$id",
        "https://enhance.local/schemas/ops.json", "title", "enhance operations", "description",
        "What to do to a photo. Stages run in order: restorations, upscale, adjustments, resizing, output. Unknown "
        "keys are rejected.",
        "type", "object", "additionalProperties", 0, "properties", "$schema", "type", "string");
    for (int pass = 0; root && pass < 2; pass++) { /* aliases after every option: the sections keep their order */
        for (size_t i = 0; i < enh_opts_count; i++) {
            const enh_opt *r = &enh_opts[i];
            const char *path = pass ? r->json_alias : r->path;
            if (!path)
                continue;
            json_t *leaf = option_schema(r);
            if (leaf && pass) {
                char d[160];
                snprintf(d, sizeof d, "alias of %s (the same option)", r->path);
                json_object_set_new(leaf, "description", json_string(d));
            }
            if (!leaf || put(root, path, leaf)) {
                json_decref(root);
                return;
            }
        }
    }
    g_schema = root && !enh_json_build_end() ? enh_json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
}

const char *enh_ops_schema_json(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_schema);
    return g_schema ? g_schema : "{}";
}

static json_t *words(const char *list)
{
    json_t *a = json_array();
    for (const char *p = list; a && p && *p;) {
        size_t l = strcspn(p, " ");
        json_array_append_new(a, json_stringn(p, l));
        p += l;
        p += strspn(p, " ");
    }
    return a;
}

char *enh_ops_describe_json(void)
{
    enh_json_build_begin(); /* NULL rather than a description with an option's member missing */
    json_t *opts = json_array();
    enh_ops d;
    enh_ops_init(&d);
    for (size_t i = 0; opts && i < enh_opts_count; i++) {
        const enh_opt *r = &enh_opts[i];
        char allowed[400], summary[200], group[32];
        enh_opt_allowed(r, allowed, sizeof allowed);
        enh_opt_summary(r, summary, sizeof summary);
        snprintf(group, sizeof group, "%.*s", (int)strcspn(r->path, "."), r->path);
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s}", "path", r->path, "group",
                              strchr(r->path, '.') ? group : "auto", "query", words(r->query), "cli", words(r->cli),
                              "type", g_type_names[r->type], "allowed", allowed, "summary", summary, "help", r->help);
        if (!o) {
            json_decref(opts);
            return NULL;
        }
        if (r->json_alias)
            json_object_set_new(o, "json_alias", json_string(r->json_alias));
        if (r->cli_switch)
            json_object_set_new(o, "cli_switch", json_string(r->cli_switch));
        if (r->type == ENH_OPT_ENUM)
            json_object_set_new(o, "values", names_array(r->names, 1));
        if (r->type == ENH_OPT_STRENGTH) {
            json_t *v = json_pack("[s, s]", "off", "auto");
            for (const enh_named *l = r->names; v && l && l->name; l++)
                json_array_append_new(v, json_string(l->name));
            json_object_set_new(o, "values", v);
        }
        if (r->type == ENH_OPT_INT && r->choices) {
            json_t *v = json_array();
            for (const int *c = r->choices; v && *c >= 0; c++)
                json_array_append_new(v, json_integer(*c));
            json_object_set_new(o, "choices", v);
        }
        if (r->type == ENH_OPT_INT || r->type == ENH_OPT_DOUBLE || r->type == ENH_OPT_SIZE ||
            (r->type == ENH_OPT_ENUM && r->max > r->min)) {
            json_object_set_new(o, "minimum", json_real(r->min));
            json_object_set_new(o, "maximum", json_real(r->max));
        }
        json_t *def = enh_opt_json_value(r, &d);
        if (def)
            json_object_set_new(o, "default", def);
        json_array_append_new(opts, o);
    }
    json_t *root = opts ? json_pack("{s:o}", "options", opts) : NULL;
    char *s = root && !enh_json_build_end() ? enh_json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    return s;
}
