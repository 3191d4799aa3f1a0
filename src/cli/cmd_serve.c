/* cmd_serve.c - PLACEHOLDER: `enhance serve` is not built yet. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "enhance serve: not available in this build yet\n");
    return 2;
}
