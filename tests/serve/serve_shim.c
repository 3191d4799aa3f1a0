/* serve_shim.c - runs cmd_serve() as a program: serve_shim [serve options]. */
#include "cli/commands.h"

int main(int argc, char **argv)
{
    argv[0] = "serve";
    return cmd_serve(argc, argv);
}
