/* cmd_bench.c - PLACEHOLDER: `enhance bench` is not built yet. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "enhance bench: not available in this build yet\n");
    return 2;
}
