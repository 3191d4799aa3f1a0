/* commands.h - the `enhance` subcommands. Each takes argv after the subcommand name
 * (argv[0] is the subcommand) and returns the process exit code:
 * 0 ok, 1 bad input or usage (the message says what and how to fix), 2 internal error. */
#ifndef ENH_CLI_COMMANDS_H
#define ENH_CLI_COMMANDS_H

int cmd_enhance(int argc, char **argv); /* enhance INPUT -o OUTPUT [options] (cmd_enhance.c) */
int cmd_info(int argc, char **argv);    /* enhance info IMAGE [--json] */
int cmd_models(int argc, char **argv);  /* enhance models list|fetch [NAME] (cmd_models.c) */
int cmd_assess(int argc, char **argv);  /* enhance assess IMAGE [--json] (cmd_assess.c) */
int cmd_ops(int argc, char **argv);     /* enhance ops --schema (cmd_ops.c) */
int cmd_serve(int argc, char **argv);   /* enhance serve [options] (cmd_serve.c) */
int cmd_bench(int argc, char **argv);   /* enhance bench [options] (cmd_bench.c) */
/* enhance check IMAGE... [--json] [--policy SPEC] (cmd_check.c); exit 3 review, 4 block, 5 unchecked */
int cmd_check(int argc, char **argv);

#endif
