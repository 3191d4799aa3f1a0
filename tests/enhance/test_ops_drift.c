/* test_ops_drift.c - the three front ends of the operations model cannot drift apart: every
 * option of the operations table (enhance/ops_table.h), under every spelling (JSON path and
 * alias, every query key, every CLI flag, the short flag and the switch), goes through the
 * JSON parser (enh_ops_from_json), the query parser (serve_query_apply) and the CLI parser
 * (cli_enhance_parse, compiled into this test from src/cli) and must give the same enh_ops;
 * every value the JSON Schema allows is accepted by all three; values outside the range are
 * refused by all three with one message that names the full JSON path and what to write.
 * The help, the schema and the GET /v1/ops document list every option. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "cli/cli_enhance_opts.h"
#include "enhance/ops.h"
#include "enhance/ops_table.h"
#include "serve/request.h"

typedef struct outcome {
    enh_status st;
    enh_ops ops;
    char msg[ENH_ERROR_MSG_MAX];
} outcome;

/* Options some values need to be valid as a whole (fit=cover needs a width and a height). */
static const char *base_of(const enh_opt *r)
{
    return !strcmp(r->path, "resizing.fit") ? "width=10 height=10" : "";
}

/* A JSON document setting path = value (JSON text) plus the row's base options. */
static char *json_doc(const enh_opt *r, const char *path, const char *value)
{
    json_t *root = json_object();
    char base[64];
    snprintf(base, sizeof base, "%s", base_of(r));
    char *bsave = NULL;
    for (char *kv = strtok_r(base, " ", &bsave); kv; kv = strtok_r(NULL, " ", &bsave)) {
        char *eq = strchr(kv, '=');
        *eq = 0;
        const enh_opt *b = enh_opt_by_query(kv);
        json_t *sec = json_object_get(root, "resizing");
        if (!sec)
            json_object_set_new(root, "resizing", sec = json_object());
        json_object_set_new(sec, strchr(b->path, '.') + 1, json_integer(atoi(eq + 1)));
    }
    json_error_t je;
    json_t *v = json_loads(value, JSON_DECODE_ANY, &je);
    if (!v) {
        json_decref(root);
        return NULL;
    }
    json_t *obj = root;
    char p[160];
    snprintf(p, sizeof p, "%s", path);
    char *s = p;
    for (char *dot; (dot = strchr(s, '.')); s = dot + 1) {
        *dot = 0;
        json_t *next = json_object_get(obj, s);
        if (!next)
            json_object_set_new(obj, s, next = json_object());
        obj = next;
    }
    json_object_set_new(obj, s, v);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

static outcome via_json(const enh_opt *r, const char *path, const char *value)
{
    outcome o = {0};
    enh_error e = {0};
    char *doc = json_doc(r, path, value);
    o.st = doc ? enh_ops_from_json(doc, strlen(doc), &o.ops, &e) : ENH_EINTERNAL;
    snprintf(o.msg, sizeof o.msg, "%s", doc ? e.msg : "test: value is not JSON");
    free(doc);
    return o;
}

static outcome via_query(const enh_opt *r, const char *key, const char *text)
{
    outcome o = {0};
    enh_error e = {0};
    serve_params p;
    enh_ops_init(&o.ops);
    serve_params_init(&p);
    char base[64];
    snprintf(base, sizeof base, "%s", base_of(r));
    char *bsave = NULL;
    for (char *kv = strtok_r(base, " ", &bsave); kv; kv = strtok_r(NULL, " ", &bsave)) {
        char *eq = strchr(kv, '=');
        *eq = 0;
        CHECK(serve_query_apply(kv, eq + 1, &o.ops, &p, &e) == ENH_OK);
    }
    o.st = serve_query_apply(key, text, &o.ops, &p, &e);
    if (!o.st)
        o.st = enh_ops_validate(&o.ops, &e); /* as the server does before running */
    snprintf(o.msg, sizeof o.msg, "%s", e.msg);
    return o;
}

/* flag: "--name", "-w" or "--switch"; text NULL = no value. */
static outcome via_cli(const enh_opt *r, const char *flag, const char *text)
{
    outcome o = {0};
    char *argv[16];
    int argc = 0;
    char base[64], arg[512], bases[4][64];
    argv[argc++] = "enhance";
    argv[argc++] = "in.jpg";
    argv[argc++] = "-o";
    argv[argc++] = "out.png";
    snprintf(base, sizeof base, "%s", base_of(r));
    int nb = 0;
    char *bsave = NULL;
    for (char *kv = strtok_r(base, " ", &bsave); kv; kv = strtok_r(NULL, " ", &bsave)) {
        snprintf(bases[nb], sizeof bases[nb], "--%s", kv);
        argv[argc++] = bases[nb++];
    }
    if (flag[1] != '-') { /* short flag: value as the next argument */
        argv[argc++] = (char *)flag;
        argv[argc++] = (char *)text;
    } else {
        snprintf(arg, sizeof arg, text ? "%s=%s" : "%s", flag, text);
        argv[argc++] = arg;
    }
    argv[argc] = NULL;
    cli_enhance_args a;
    o.st = cli_enhance_parse(argc, argv, &a, o.msg, sizeof o.msg) ? ENH_EINVAL : ENH_OK;
    o.ops = a.s.ops;
    return o;
}

static void expect_same(const outcome *ref, const outcome *got, const char *what)
{
    CHECK_MSG(ref->st == ENH_OK, "%s: refused by JSON: %s", what, ref->msg);
    CHECK_MSG(got->st == ENH_OK, "%s: refused: %s", what, got->msg);
    if (ref->st || got->st)
        return;
    char *a = enh_ops_to_json(&ref->ops), *b = enh_ops_to_json(&got->ops);
    CHECK_MSG(a && b && !strcmp(a, b), "%s: differs from JSON:\n  json %s\n  this %s", what, a, b);
    CHECK_MSG(!memcmp(&ref->ops, &got->ops, sizeof ref->ops), "%s: enh_ops bytes differ from JSON's", what);
    free(a);
    free(b);
}

static void expect_refused(const enh_opt *r, const outcome *ref, const outcome *got, const char *what)
{
    CHECK_MSG(got->st != ENH_OK, "%s: accepted", what);
    if (got->st == ENH_OK || ref->st == ENH_OK)
        return;
    CHECK_MSG(!strcmp(ref->msg, got->msg), "%s: message differs:\n  json '%s'\n  this '%s'", what, ref->msg, got->msg);
    CHECK_MSG(strstr(got->msg, r->path) && strstr(got->msg, "must be"), "%s: message does not name %s: '%s'", what,
              r->path, got->msg);
}

/* json: the value as JSON text; text: as the CLI and the query write it (NULL: JSON only). */
static int g_values;
static void check_value(const enh_opt *r, const char *json, const char *text, int valid)
{
    char what[700];
    outcome ref = via_json(r, r->path, json);
    if (valid) {
        snprintf(what, sizeof what, "%s = %s", r->path, json);
        CHECK_MSG(ref.st == ENH_OK, "%s: refused by JSON: %s", what, ref.msg);
    } else {
        snprintf(what, sizeof what, "%s = %s (out of range)", r->path, json);
        CHECK_MSG(ref.st == ENH_EINVAL, "%s: accepted by JSON", what);
    }
    g_values++;
    if (r->json_alias) {
        outcome al = via_json(r, r->json_alias, json);
        snprintf(what, sizeof what, "JSON %s = %s", r->json_alias, json);
        if (valid)
            expect_same(&ref, &al, what);
        else
            CHECK_MSG(al.st == ENH_EINVAL && strstr(al.msg, r->json_alias), "%s: '%s'", what, al.msg);
    }
    if (!text)
        return;
    char names[200];
    snprintf(names, sizeof names, "%s", r->query);
    char *qsave = NULL;
    for (char *k = strtok_r(names, " ", &qsave); k; k = strtok_r(NULL, " ", &qsave)) {
        char key[64];
        snprintf(key, sizeof key, "%s", k);
        outcome q = via_query(r, key, text);
        snprintf(what, sizeof what, "query %s=%s", key, text);
        valid ? expect_same(&ref, &q, what) : expect_refused(r, &ref, &q, what);
    }
    char cli[200];
    snprintf(cli, sizeof cli, "%s", r->cli);
    char *save = NULL;
    for (char *k = strtok_r(cli, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", k);
        outcome c = via_cli(r, flag, text);
        snprintf(what, sizeof what, "CLI %s=%s", flag, text);
        valid ? expect_same(&ref, &c, what) : expect_refused(r, &ref, &c, what);
    }
    if (r->cli_short) {
        char flag[4] = {'-', r->cli_short, 0, 0};
        outcome c = via_cli(r, flag, text);
        snprintf(what, sizeof what, "CLI %s %s", flag, text);
        valid ? expect_same(&ref, &c, what) : expect_refused(r, &ref, &c, what);
    }
}

/* Runs a value of a schema alternative through everything. */
static void check_schema_value(const enh_opt *r, json_t *v)
{
    char *json = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    char text[128];
    const char *t = text;
    if (json_is_string(v))
        t = json_string_value(v);
    else if (json_is_number(v))
        snprintf(text, sizeof text, "%g", json_number_value(v));
    else if (json_is_boolean(v))
        snprintf(text, sizeof text, "%s", json_is_true(v) ? "true" : "false");
    else
        t = NULL; /* arrays: JSON only */
    check_value(r, json, t, 1);
    free(json);
}

/* Every value a schema node allows at its edges: enum entries, booleans, number bounds. */
static void schema_values(const enh_opt *r, json_t *node)
{
    json_t *one = json_object_get(node, "oneOf");
    if (one) {
        size_t i;
        json_t *alt;
        json_array_foreach(one, i, alt) schema_values(r, alt);
        return;
    }
    json_t *e = json_object_get(node, "enum");
    if (e) {
        size_t i;
        json_t *v;
        json_array_foreach(e, i, v) check_schema_value(r, v);
        return;
    }
    const char *type = json_string_value(json_object_get(node, "type"));
    if (!type)
        return;
    if (!strcmp(type, "boolean")) {
        check_schema_value(r, json_true());
        check_schema_value(r, json_false());
    } else if (!strcmp(type, "integer") || !strcmp(type, "number")) {
        double lo = json_number_value(json_object_get(node, "minimum"));
        double hi = json_number_value(json_object_get(node, "maximum"));
        json_t *a = !strcmp(type, "integer") ? json_integer((json_int_t)lo) : json_real(lo);
        json_t *b = !strcmp(type, "integer") ? json_integer((json_int_t)hi) : json_real(hi);
        json_t *m = json_integer((json_int_t)((lo + hi) / 2));
        check_schema_value(r, a);
        check_schema_value(r, b);
        check_schema_value(r, m);
        json_decref(a);
        json_decref(b);
        json_decref(m);
    } else if (!strcmp(type, "array")) {
        json_t *a = json_pack("[i, i, i]", 0, 128, 255), *b = json_pack("[i, i, i, i]", 1, 2, 3, 4);
        check_schema_value(r, a);
        check_schema_value(r, b);
        json_decref(a);
        json_decref(b);
    } else if (!strcmp(type, "string")) {
        json_t *s = json_string(json_object_get(node, "pattern") ? "50%" : r->type == ENH_OPT_COLOUR ? "#ff8000" : "x");
        check_schema_value(r, s);
        json_decref(s);
    }
}

static json_t *schema_node(json_t *schema, const char *path)
{
    char p[160];
    snprintf(p, sizeof p, "%s", path);
    json_t *node = schema;
    char *save = NULL;
    for (char *k = strtok_r(p, ".", &save); k && node; k = strtok_r(NULL, ".", &save))
        node = json_object_get(json_object_get(node, "properties"), k);
    return node;
}

/* Spellings and forms the schema does not spell out. */
static void extra_values(const enh_opt *r)
{
    switch (r->type) {
    case ENH_OPT_SIZE:
        check_value(r, "\"640px\"", "640px", 1);
        check_value(r, "\"12.5%\"", "12.5%", 1);
        check_value(r, "\"800%\"", "800%", 1);
        check_value(r, "0", "0", 0);
        check_value(r, "65536", "65536", 0);
        check_value(r, "\"900%\"", "900%", 0);
        check_value(r, "\"0%\"", "0%", 0);
        check_value(r, "\"50 percent\"", "50 percent", 0);
        break;
    case ENH_OPT_COLOUR:
        check_value(r, "\"#abc\"", "#abc", 1);
        check_value(r, "\"#aabbccdd\"", "#aabbccdd", 1);
        check_value(r, "\"10,20,30\"", "10,20,30", 1);
        check_value(r, "\"10,20,30,40\"", "10,20,30,40", 1);
        check_value(r, "\"transparent\"", "transparent", 1);
        check_value(r, "\"pink\"", "pink", 0);
        check_value(r, "\"#12\"", "#12", 0);
        check_value(r, "\"1,2\"", "1,2", 0);
        check_value(r, "\"1,2,300\"", "1,2,300", 0);
        break;
    case ENH_OPT_STRENGTH:
        for (const enh_named *e = r->names; e && e->name; e++) {
            char j[64];
            snprintf(j, sizeof j, "\"%s\"", e->name);
            check_value(r, j, e->name, 1);
        }
        check_value(r, "101", "101", 0);
        check_value(r, "-1", "-1", 0);
        check_value(r, "\"lots\"", "lots", 0);
        break;
    case ENH_OPT_ENUM:
        check_value(r, "\"bogus\"", "bogus", 0);
        if (r->max > r->min) {
            char j[32];
            snprintf(j, sizeof j, "%g", r->max + 1);
            check_value(r, j, j, 0);
        }
        break;
    case ENH_OPT_INT:
    case ENH_OPT_DOUBLE: {
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, "%g", r->min - 1);
        snprintf(hi, sizeof hi, "%g", r->max + 1);
        check_value(r, lo, lo, 0);
        check_value(r, hi, hi, 0);
        check_value(r, "\"many\"", "many", 0);
        if (r->type == ENH_OPT_INT && !r->choices)
            check_value(r, "1.5", "1.5", 0);
        if (r->choices)
            check_value(r, "12", "12", 0);
        break;
    }
    case ENH_OPT_BOOL:
        check_value(r, "\"maybe\"", "maybe", 0);
        break;
    case ENH_OPT_STRING: {
        char j[260], t[200];
        size_t len = (size_t)r->max + 1 < sizeof t ? (size_t)r->max + 1 : sizeof t - 1;
        memset(t, 'm', len);
        t[len] = 0;
        snprintf(j, sizeof j, "\"%s\"", t);
        check_value(r, j, t, 0);
        break;
    }
    }
}

/* A flag or key without a value means true: the same as JSON true where the row takes it. */
static void check_no_value(const enh_opt *r)
{
    int takes_true = r->type == ENH_OPT_BOOL || r->type == ENH_OPT_STRENGTH;
    for (const enh_named *e = r->type == ENH_OPT_ENUM ? r->names : NULL; e && e->name; e++)
        takes_true |= !strcmp(e->name, "true");
    if (!takes_true)
        return;
    outcome ref = via_json(r, r->path, "true");
    char key[64], what[200];
    outcome q = via_query(r, enh_opt_first(r->query, key, sizeof key), NULL);
    snprintf(what, sizeof what, "query key %s without a value", key);
    expect_same(&ref, &q, what);
    if (r->type == ENH_OPT_BOOL || (r->flags & ENH_OPT_CLI_VALUE_OPTIONAL)) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", enh_opt_first(r->cli, key, sizeof key));
        outcome c = via_cli(r, flag, NULL);
        snprintf(what, sizeof what, "CLI %s without a value", flag);
        expect_same(&ref, &c, what);
    }
    if (r->cli_switch) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", r->cli_switch);
        outcome c = via_cli(r, flag, NULL);
        snprintf(what, sizeof what, "CLI switch %s", flag);
        expect_same(&ref, &c, what);
    }
}

/* The table itself: unique names, defaults that parse, every option in help/schema/describe. */
static void check_table(json_t *schema)
{
    enh_ops d, z;
    enh_ops_init(&d);
    char *help = NULL;
    size_t help_len = 0;
    FILE *f = open_memstream(&help, &help_len);
    cli_enhance_help(f);
    fclose(f);
    char *doc = enh_ops_describe_json();
    CHECK(doc != NULL);
    for (size_t i = 0; i < enh_opts_count; i++) {
        const enh_opt *r = &enh_opts[i];
        CHECK_MSG(*r->query && *r->cli && r->help && *r->help, "%s lacks a query key, CLI flag or help", r->path);
        for (size_t j = 0; j < i; j++) {
            const enh_opt *s = &enh_opts[j];
            CHECK_MSG(strcmp(r->path, s->path), "%s declared twice", r->path);
            char names[200];
            snprintf(names, sizeof names, "%s", r->query);
            for (char *k = strtok(names, " "); k; k = strtok(NULL, " "))
                CHECK_MSG(!enh_opt_list_has(s->query, k), "query key %s of %s is also %s's", k, r->path, s->path);
            snprintf(names, sizeof names, "%s", r->cli);
            for (char *k = strtok(names, " "); k; k = strtok(NULL, " "))
                CHECK_MSG(!enh_opt_list_has(s->cli, k), "CLI flag --%s of %s is also %s's", k, r->path, s->path);
        }
        if (r->def) {
            enh_ops_state st = {0};
            enh_opt_value v = enh_opt_text(r->def);
            enh_error e = {0};
            enh_ops_init(&z);
            CHECK_MSG(enh_opt_set(r, &v, &z, &st, &e) == ENH_OK, "default of %s: %s", r->path, e.msg);
        }
        char flag[80], name[64];
        snprintf(flag, sizeof flag, "--%s", enh_opt_first(r->cli, name, sizeof name));
        CHECK_MSG(help && strstr(help, flag), "--help-enhance lacks %s", flag);
        CHECK_MSG(schema_node(schema, r->path) != NULL, "schema lacks %s", r->path);
        if (r->json_alias)
            CHECK_MSG(schema_node(schema, r->json_alias) != NULL, "schema lacks %s", r->json_alias);
        char quoted[200];
        snprintf(quoted, sizeof quoted, "\"path\":\"%s\"", r->path);
        CHECK_MSG(doc && strstr(doc, quoted), "GET /v1/ops document lacks %s", r->path);
    }
    /* defaults: "{}" is enh_ops_init */
    outcome o = {0};
    enh_error e = {0};
    CHECK(enh_ops_from_json("{}", 2, &o.ops, &e) == ENH_OK && !memcmp(&o.ops, &d, sizeof d));
    free(help);
    free(doc);
}

int main(void)
{
    json_error_t je;
    json_t *schema = json_loads(enh_ops_schema_json(), 0, &je);
    CHECK_MSG(schema != NULL, "schema does not parse: %s", je.text);
    if (!schema)
        CHECK_MAIN_END();
    check_table(schema);
    for (size_t i = 0; i < enh_opts_count; i++) {
        const enh_opt *r = &enh_opts[i];
        json_t *node = schema_node(schema, r->path);
        if (node)
            schema_values(r, node);
        extra_values(r);
        check_no_value(r);
    }
    printf("%zu options, %d values through every parser\n", enh_opts_count, g_values);
    json_decref(schema);
    CHECK_MAIN_END();
}
