/* main.c - the `enhance` command: dispatches to the subcommands of commands.h; a first
 * argument that is not a subcommand means `enhance INPUT -o OUTPUT` (cmd_enhance.c). */
#include <stdio.h>
#include <string.h>
#include <vips/vips.h>

#include "cli/cli_env.h"
#include "cli/commands.h"
#include "image/image_init.h"

#ifndef ENH_VERSION
#define ENH_VERSION "0.1.0"
#endif

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} subcommand;

static const subcommand g_cmds[] = {
    {"info", cmd_info, "print format, size, depth, orientation, ICC of images (header only)"},
    {"assess", cmd_assess, "measure a photo's quality problems (blur, noise, JPEG artifacts, ...)"},
    {"check", cmd_check, "moderation decision, BRISQUE and assessment of images (marketplace uploads)"},
    {"models", cmd_models, "list or fetch the AI models"},
    {"ops", cmd_ops, "the operations JSON schema"},
    {"serve", cmd_serve, "run the HTTP enhancement server"},
    {"bench", cmd_bench, "benchmark the kernels and models"},
};

static void usage(FILE *f)
{
    fprintf(f, "enhance %s - AI photo enhancement\n"
               "\n"
               "usage: enhance INPUT -o OUTPUT [options]     enhance one photo\n"
               "       enhance DIR -o OUTDIR [-r] [options]  enhance every image in a folder\n"
               "       enhance COMMAND [args]                 (COMMAND --help for details)\n"
               "\n"
               "commands:\n",
            ENH_VERSION);
    for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
        fprintf(f, "  %-8s %s\n", g_cmds[i].name, g_cmds[i].summary);
    fprintf(f, "\n"
               "common options of `enhance INPUT -o OUTPUT` (all: enhance --help-enhance):\n"
               "  --upscale F         AI upscaling by F (1..8)\n"
               "  --auto              fix what the photo needs (--explain says why)\n"
               "  --scale F           lanczos resize by F (0.1..8)\n"
               "  --width/--height    px or N%%, with --fit inside|cover|fill|pad\n"
               "  --format F          jpeg|png|webp|avif|tiff     --quality N    1..100\n"
               "\n"
               "  -h, --help          this help          --version   version\n"
               "\n"
               "Exit codes: 0 ok, 1 bad input or usage, 2 internal error, 130 interrupted.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    char msg[512];
    if (cli_env_apply(msg, sizeof msg) != 0) {
        fprintf(stderr, "enhance: %s\n", msg);
        return 1;
    }
    const char *a = argv[1];
    if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help")) {
        if (argc > 2 && strcmp(a, "help") == 0) {
            for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
                if (!strcmp(argv[2], g_cmds[i].name)) {
                    char *sub[] = {argv[2], "--help", NULL};
                    return g_cmds[i].fn(2, sub);
                }
            if (!strcmp(argv[2], "enhance")) {
                char *sub[] = {"enhance", "--help", NULL};
                return cmd_enhance(2, sub);
            }
        }
        usage(stdout);
        return 0;
    }
    if (!strcmp(a, "--help-enhance")) {
        char *sub[] = {"enhance", "--help", NULL};
        return cmd_enhance(2, sub);
    }
    if (!strcmp(a, "--version") || !strcmp(a, "-V") || !strcmp(a, "version")) {
        enh_image_init(NULL);
        printf("enhance %s (libvips %s)\n", ENH_VERSION, vips_version_string());
        return 0;
    }
    for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
        if (!strcmp(a, g_cmds[i].name))
            return g_cmds[i].fn(argc - 1, argv + 1);
    return cmd_enhance(argc, argv);
}
