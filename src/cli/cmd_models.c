/* cmd_models.c - PLACEHOLDER: `enhance models` is not built yet. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_models(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "enhance models: not available in this build yet\n");
    return 2;
}
