/* cmd_assess.c - PLACEHOLDER: `enhance assess` is not built yet. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_assess(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "enhance assess: not available in this build yet\n");
    return 2;
}
