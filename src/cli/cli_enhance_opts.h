/* cli_enhance_opts.h - the options of `enhance INPUT -o OUTPUT`: parsing argv into
 * cli_settings (flags mapped onto enh_ops; --ops-json first, flags on top) and the help
 * text. Not thread-safe (called once from main). */
#ifndef ENH_CLI_ENHANCE_OPTS_H
#define ENH_CLI_ENHANCE_OPTS_H

#include <stdio.h>

#include "cli/cli_job.h"

typedef struct cli_enhance_args {
    cli_settings s;
    const char *input;
    const char *output;
    int help;
    int format_given;
} cli_enhance_args;

/* 0 ok, 1 usage error (message in msg). */
int cli_enhance_parse(int argc, char **argv, cli_enhance_args *a, char *msg, size_t n);
void cli_enhance_help(FILE *f);

#endif
