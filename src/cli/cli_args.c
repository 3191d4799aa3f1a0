/* cli_args.c - argv walking and value parsers for the CLI. */
#include "cli/cli_args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void cli_parser_init(cli_parser *p, int argc, char **argv, const cli_opt *opts)
{
    p->argc = argc;
    p->argv = argv;
    p->i = 1;
    p->only_positional = 0;
    p->opts = opts;
}

static const cli_opt *find_long(const cli_opt *opts, const char *name, size_t len)
{
    for (const cli_opt *o = opts; o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len))
            return o;
    return NULL;
}

int cli_next(cli_parser *p, const char **val, char *msg, size_t n)
{
    *val = NULL;
    if (p->i >= p->argc)
        return CLI_END;
    char *a = p->argv[p->i++];
    if (p->only_positional || a[0] != '-' || a[1] == '\0') {
        *val = a;
        return CLI_POSITIONAL;
    }
    if (!strcmp(a, "--")) {
        p->only_positional = 1;
        return cli_next(p, val, msg, n);
    }
    const cli_opt *o = NULL;
    const char *inline_val = NULL;
    if (a[1] == '-') {
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        o = find_long(p->opts, name, len);
        if (!o) {
            snprintf(msg, n, "unknown option '--%.*s' (see --help)", (int)len, name);
            return CLI_ERROR;
        }
        if (eq)
            inline_val = eq + 1;
    } else {
        for (const cli_opt *c = p->opts; c->name; c++)
            if (c->short_name && c->short_name == a[1])
                o = c;
        if (!o) {
            /* a negative number is a positional value, e.g. for a stray "--exposure -5" */
            snprintf(msg, n, "unknown option '%s' (see --help)", a);
            return CLI_ERROR;
        }
        if (a[2]) {
            snprintf(msg, n, "write '-%c %s' with a space (short options are not combined)", a[1], a + 2);
            return CLI_ERROR;
        }
    }
    switch (o->arg) {
    case CLI_ARG_NONE:
        if (inline_val) {
            snprintf(msg, n, "option --%s takes no value", o->name);
            return CLI_ERROR;
        }
        break;
    case CLI_ARG_OPTIONAL:
        *val = inline_val;
        break;
    default:
        if (inline_val) {
            *val = inline_val;
        } else if (p->i < p->argc) {
            *val = p->argv[p->i++];
        } else {
            snprintf(msg, n, "option --%s needs a value", o->name);
            return CLI_ERROR;
        }
    }
    return o->id;
}

int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out, char *msg, size_t n)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        snprintf(msg, n, "%s must be a whole number in %ld..%ld, got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_size(const char *opt, const char *s, size_t *out, char *msg, size_t n)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    double mult = 1;
    if (!errno && end != s && v >= 0) {
        char unit = (char)toupper((unsigned char)*end);
        if (unit == 'K' || unit == 'M' || unit == 'G' || unit == 'T') {
            mult = unit == 'K' ? 1024.0 : unit == 'M' ? 1048576.0 : unit == 'G' ? 1073741824.0 : 1099511627776.0;
            end++;
            if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
                end += strlen(end);
        } else if (!strcasecmp(end, "B")) {
            end++;
        }
        if (!*end && v * mult < 9.0e18) {
            *out = (size_t)(v * mult);
            return 0;
        }
    }
    snprintf(msg, n, "%s must be a size such as 512M, 2G or 1500000 (bytes), got '%s'", opt, s);
    return -1;
}

int cli_parse_pixels(const char *opt, const char *s, unsigned long long *out, char *msg, size_t n)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (!errno && end != s && v >= 0) {
        if (*end == 'x' || *end == 'X') {
            char *e2 = NULL;
            double h = strtod(end + 1, &e2);
            if (e2 != end + 1 && !*e2 && h >= 0) {
                *out = (unsigned long long)(v * h);
                return 0;
            }
        } else {
            if (!strcasecmp(end, "M") || !strcasecmp(end, "MP"))
                v *= 1e6, end += strlen(end);
            else if (!strcasecmp(end, "K") || !strcasecmp(end, "KP"))
                v *= 1e3, end += strlen(end);
            if (!*end && v < 1e15) {
                *out = (unsigned long long)v;
                return 0;
            }
        }
    }
    snprintf(msg, n, "%s must be a pixel count such as 50M, 100MP, 8000x8000 or 0 (no limit), got '%s'", opt, s);
    return -1;
}

int cli_stderr_is_tty(void)
{
    const char *term = getenv("TERM");
    return isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
}

const char *cli_human_bytes(long long bytes, char *buf, size_t n)
{
    if (bytes < 1024)
        snprintf(buf, n, "%lld B", bytes);
    else if (bytes < 1024 * 1024)
        snprintf(buf, n, "%.1f KB", bytes / 1024.0);
    else if (bytes < 1024LL * 1024 * 1024)
        snprintf(buf, n, "%.1f MB", bytes / 1048576.0);
    else
        snprintf(buf, n, "%.2f GB", bytes / 1073741824.0);
    return buf;
}
