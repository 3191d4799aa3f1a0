/* cli_args.h - command-line parsing helpers for the `enhance` subcommands.
 *
 * cli_next() walks argv GNU-style: "--name value", "--name=value", "-x value", bundled
 * short flags are not supported; "--" ends the options. Value parsers return 0 on success
 * and -1 with a message in msg (what was wrong and what is accepted). No global state;
 * not thread-safe per parser (one parser per thread). */
#ifndef ENH_CLI_ARGS_H
#define ENH_CLI_ARGS_H

#include <stddef.h>

enum { CLI_ARG_NONE = 0, CLI_ARG_REQUIRED = 1, CLI_ARG_OPTIONAL = 2 /* only as --name=value */ };

typedef struct cli_opt {
    const char *name; /* long name without dashes */
    char short_name;  /* 0 = none */
    int arg;          /* CLI_ARG_* */
    int id;           /* > 0 */
} cli_opt;

typedef struct cli_parser {
    int argc;
    char **argv;
    int i;
    int only_positional;
    const cli_opt *opts; /* terminated by an entry with name == NULL */
} cli_parser;

#define CLI_END (-1)
#define CLI_ERROR (-2)
#define CLI_POSITIONAL 0

void cli_parser_init(cli_parser *p, int argc, char **argv, const cli_opt *opts);
/* Returns an option id, CLI_POSITIONAL (with *val = the argument), CLI_END, or CLI_ERROR
 * (message in msg). *val is NULL for options without a value. */
int cli_next(cli_parser *p, const char **val, char *msg, size_t msg_size);

int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out, char *msg, size_t n);
/* "512M", "2G", "1.5GiB", "800k", "123456" (bytes) */
int cli_parse_size(const char *opt, const char *s, size_t *out, char *msg, size_t n);
/* "50M", "50MP", "8000x8000", "120000000", "0" (no limit) */
int cli_parse_pixels(const char *opt, const char *s, unsigned long long *out, char *msg, size_t n);
/* 1 if stderr is an interactive terminal that can draw a progress bar. */
int cli_stderr_is_tty(void);

/* Human-readable byte count ("1.2 MB"). */
const char *cli_human_bytes(long long bytes, char *buf, size_t n);

#endif
