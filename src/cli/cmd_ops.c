/* cmd_ops.c - PLACEHOLDER: `enhance ops` is not built yet. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_ops(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "enhance ops: not available in this build yet\n");
    return 2;
}
