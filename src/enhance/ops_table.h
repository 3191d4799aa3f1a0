/* ops_table.h - the one declaration of every operation option, the way libvips declares
 * an operation's arguments: one row per option with its JSON path, query keys, CLI flags,
 * type, range or names, default, place in enh_ops and help sentence. The JSON parser and
 * writer (ops_json.c), the JSON Schema and the GET /v1/ops document (ops_schema.c), the
 * HTTP query keys (serve/request.c), the CLI flags and --help-enhance
 * (cli/cli_enhance_opts.c) and enh_ops_init/enh_ops_validate (ops.c) are loops over
 * enh_opts[]; tests/enhance/test_ops_drift.c sends every option and spelling through all
 * three parsers. Adding an option is one row here (plus its field in enh_ops).
 *
 * Values reach enh_opt_set() as an enh_opt_value: JSON gives typed values (STR, NUM, BOOL,
 * ARRAY), the CLI and the query give TEXT (read as a number or a name as the row's type
 * needs) or NONE (a flag or key without a value). One setter means one message: an error
 * names the JSON path, what is allowed, the value given, and the CLI flag and query key
 * of the option, whichever front end it came from.
 *
 * Thread-safety: the table is constant; enh_opt_set writes only the caller's enh_ops and
 * enh_ops_state. Errors: ENH_EINVAL with a message that says how to fix the value.
 */
#ifndef ENH_ENHANCE_OPS_TABLE_H
#define ENH_ENHANCE_OPS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "enhance/ops.h"
#include "image/image_format.h"

typedef enum {
    ENH_OPT_BOOL,     /* int field, 0/1 */
    ENH_OPT_INT,      /* int field in min..max (or one of choices) */
    ENH_OPT_DOUBLE,   /* double field in min..max */
    ENH_OPT_ENUM,     /* int-sized enum field, one of names (see enh_opt.names) */
    ENH_OPT_STRENGTH, /* int field: "off" (0), "auto" (-1), 0..100, named levels, true/false */
    ENH_OPT_SIZE,     /* int px field (min..max) and double percent field (0, max_pct] */
    ENH_OPT_COLOUR,   /* double[4] RGBA field, 0..255 */
    ENH_OPT_STRING    /* char[max + 1] field */
} enh_opt_type;

enum {
    ENH_OPT_OMIT_ZERO = 1,      /* 0 means "unset": the writer leaves it out, validation allows it */
    ENH_OPT_CLI_VALUE_OPTIONAL = 2 /* the CLI flag may come without a value (--deblur = auto) */
};

typedef struct enh_ops_state enh_ops_state;
typedef struct enh_opt_value enh_opt_value;
typedef struct enh_opt enh_opt;

/* Special semantics that do not fit a row's type, declared once in ops_table.c and named
 * by the rows that use them; it may call enh_opt_set_plain for the row's ordinary parse. */
typedef enh_status (*enh_opt_hook)(const enh_opt *o, const enh_opt_value *v, enh_ops *ops, enh_ops_state *st,
                                   enh_error *err);

struct enh_opt {
    const char *path;       /* JSON path: "restorations.upscale", "auto" */
    const char *json_alias; /* another JSON path for the same option, or NULL */
    const char *query;      /* query keys, space-separated, the first is the name used in messages */
    const char *cli;        /* CLI long flags without dashes, space-separated, the first in messages */
    const char *cli_switch; /* a CLI flag without a value that means true ("keep-metadata"), or NULL */
    char cli_short;         /* short CLI flag, or 0 */
    enh_opt_type type;
    unsigned flags;         /* ENH_OPT_* */
    double min, max;        /* INT, DOUBLE, SIZE (px); ENUM with a hook: the number range it takes */
    double max_pct;         /* SIZE: the largest percentage */
    const int *choices;     /* INT: the only values allowed, ending with -1; or NULL */
    const enh_named *names; /* ENUM: every name, the first for a value is the canonical one;
                             * "true"/"false" entries are what a boolean means. STRENGTH: the
                             * named levels beyond off/auto. */
    const char *def;        /* default as the CLI would write it, or NULL (all zero) */
    size_t offset;          /* offsetof(enh_ops, field) */
    size_t offset2;         /* SIZE: offsetof the percent field */
    enh_opt_hook hook;      /* NULL, or the row's special semantics */
    const char *metavar;    /* CLI help: the value's placeholder ("N", "KIND") */
    const char *help;       /* one sentence: what the option does */
};

extern const enh_opt enh_opts[];
extern const size_t enh_opts_count;

/* The value of one option as a front end read it. */
typedef enum {
    ENH_VAL_NONE,  /* flag or key without a value: means true */
    ENH_VAL_BOOL,  /* JSON true/false */
    ENH_VAL_NUM,   /* JSON number */
    ENH_VAL_STR,   /* JSON string (never read as a number or boolean) */
    ENH_VAL_TEXT,  /* CLI or query text: read as the row's type needs */
    ENH_VAL_ARRAY, /* JSON array: n entries, num[] the first 4, bad = an entry is not a number */
    ENH_VAL_OTHER  /* JSON object or null: other = its type in words */
} enh_val_kind;

struct enh_opt_value {
    enh_val_kind kind;
    int b;
    double num;
    const char *str;
    double arr[4];
    size_t n;
    int bad;
    const char *other;
    const char *path; /* JSON: the path the document used (an alias, say), for messages; else NULL */
};

/* What a series of enh_opt_set calls has set so far (for rules that span options: a model
 * or a factor turns upscaling on unless an upscaler was named; an option given twice in
 * one JSON document must agree). Zero it to start. */
struct enh_ops_state {
    uint64_t given;      /* bit i: enh_opts[i] was set */
    int upscale_named;   /* restorations.upscale was given a name or a boolean */
    int strict_repeat;   /* 1: setting an option twice to different values is an error (JSON) */
};

/* Applies v to the option's field of ops. */
enh_status enh_opt_set(const enh_opt *o, const enh_opt_value *v, enh_ops *ops, enh_ops_state *st, enh_error *err);
/* The row's type's own parse, without its hook. */
enh_status enh_opt_set_plain(const enh_opt *o, const enh_opt_value *v, enh_ops *ops, enh_error *err);
/* Text value (NULL = no value), as the CLI and the query give it. */
enh_opt_value enh_opt_text(const char *text);

const enh_opt *enh_opt_by_path(const char *path);   /* path or json_alias */
const enh_opt *enh_opt_by_query(const char *key);   /* any of the query keys */
size_t enh_opt_index(const enh_opt *o);
/* 1 when name (space-separated list membership, exact) is in list. */
int enh_opt_list_has(const char *list, const char *name);
/* Copies the first word of a space-separated list. */
const char *enh_opt_first(const char *list, char *buf, size_t n);

/* "an integer in -100..100", "\"off\", \"auto\" or 0..100": what the option accepts. */
void enh_opt_allowed(const enh_opt *o, char *buf, size_t n);
/* Short form for help: "-100..100", "off|auto|0..100", "bounds|cover|fill|canvas". */
void enh_opt_summary(const enh_opt *o, char *buf, size_t n);
/* Canonical text of the option's current value in ops ("auto", "12", "50%", "#ff8000ff",
 * "" when unset); writes at most n bytes. */
void enh_opt_format(const enh_opt *o, const enh_ops *ops, char *buf, size_t n);
/* 1 when the option's field is unset (0 with ENH_OPT_OMIT_ZERO, "" string, no size). */
int enh_opt_is_unset(const enh_opt *o, const enh_ops *ops);

/* The query keys of every option, separated by sep, into buf (truncated to n). */
void enh_ops_query_keys(char *buf, size_t n, const char *sep);

#endif
