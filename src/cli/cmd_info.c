/* cmd_info.c - `enhance info IMAGE... [--json]`: header facts without decoding pixels. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_job.h"
#include "cli/commands.h"
#include "core/json_mem.h"
#include "image/image_probe.h"

static const char *orientation_text(int o)
{
    /* what a viewer does to the stored pixels to show them upright */
    static const char *const t[] = {"?",
                                    "upright",
                                    "shown mirrored left-right",
                                    "shown rotated 180",
                                    "shown mirrored top-bottom",
                                    "shown mirrored left-right, then rotated 90 CCW",
                                    "shown rotated 90 CW",
                                    "shown mirrored left-right, then rotated 90 CW",
                                    "shown rotated 90 CCW"};
    return o >= 1 && o <= 8 ? t[o] : t[0];
}

static void help(FILE *f)
{
    fprintf(f, "usage: enhance info IMAGE... [--json]\n"
               "\n"
               "Prints what an image is, reading only its header (huge images are fine):\n"
               "format, size (and the size once EXIF orientation is applied), bands, bit depth,\n"
               "colour space, alpha, ICC profile, orientation, pages/frames, file size.\n"
               "\n"
               "  --json      one JSON object per image (an array for several images)\n"
               "  -h, --help  this help\n"
               "\n"
               "Exit codes: 0 ok, 1 a file is missing or not an accepted image, 2 internal error.\n");
}

static json_t *to_json(const char *path, const enh_image_info *in)
{
    int uw, uh;
    enh_image_info_upright_size(in, &uw, &uh);
    /* JSON holds UTF-8 only: a file name that is not is shown with '?' for its other bytes */
    char *file = strdup(path);
    if (!file)
        return NULL;
    enh_utf8_clean(file);
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:b, s:b, s:i, s:i, s:I}", "file", file,
                     "format", in->format, "width", in->width, "height", in->height, "upright_width", uw,
                     "upright_height", uh, "bands", in->bands, "bit_depth", in->bit_depth, "colourspace",
                     in->colourspace, "alpha", in->has_alpha, "icc", in->has_icc, "orientation", in->orientation,
                     "pages", in->pages, "file_size", (json_int_t)in->file_size);
    free(file);
    return o;
}

static void print_text(const char *path, const enh_image_info *in, int many)
{
    int uw, uh;
    enh_image_info_upright_size(in, &uw, &uh);
    char sz[32];
    if (many)
        printf("%s\n", path);
    printf("  format:       %s\n", in->format);
    printf("  size:         %dx%d (%.1f MP)", in->width, in->height, (double)in->width * in->height / 1e6);
    if (uw != in->width)
        printf(", shown as %dx%d", uw, uh);
    printf("\n  bands:        %d%s\n", in->bands, in->has_alpha ? " (with alpha)" : "");
    printf("  bit depth:    %d\n", in->bit_depth);
    printf("  colourspace:  %s\n", in->colourspace);
    printf("  alpha:        %s\n", in->has_alpha ? "yes" : "no");
    printf("  icc profile:  %s\n", in->has_icc ? "yes" : "no");
    printf("  orientation:  %d (%s)\n", in->orientation, orientation_text(in->orientation));
    printf("  pages:        %d\n", in->pages);
    printf("  file size:    %s (%lld bytes)\n", cli_human_bytes(in->file_size, sz, sizeof sz), in->file_size);
}

int cmd_info(int argc, char **argv)
{
    static const cli_opt opts[] = {{"json", 0, CLI_ARG_NONE, 1}, {"help", 'h', CLI_ARG_NONE, 2}, {NULL, 0, 0, 0}};
    cli_parser p;
    cli_parser_init(&p, argc, argv, opts);
    int json = 0, id;
    const char *v;
    char msg[512];
    const char *files[256];
    int nfiles = 0;
    while ((id = cli_next(&p, &v, msg, sizeof msg)) != CLI_END) {
        if (id == CLI_ERROR) {
            fprintf(stderr, "enhance info: %s\n", msg);
            return 1;
        }
        if (id == 1)
            json = 1;
        else if (id == 2) {
            help(stdout);
            return 0;
        } else if (nfiles < 256)
            files[nfiles++] = v;
        else {
            fprintf(stderr, "enhance info: at most 256 images per call\n");
            return 1;
        }
    }
    if (!nfiles) {
        fprintf(stderr, "enhance info: missing IMAGE (usage: enhance info IMAGE [--json])\n");
        return 1;
    }
    int rc = 0;
    json_t *arr = json ? json_array() : NULL;
    int oom = json && !arr; /* a file's object or the array could not be made */
    for (int i = 0; i < nfiles; i++) {
        enh_image_info info;
        enh_error err = {0};
        enh_status st = enh_image_probe_file(files[i], 0, &info, &err);
        if (st) {
            fprintf(stderr, "enhance info: %s\n", err.msg);
            int c = cli_exit_code(st);
            if (c > rc)
                rc = c;
            continue;
        }
        if (json)
            oom |= json_array_append_new(arr, to_json(files[i], &info)) != 0;
        else
            print_text(files[i], &info, nfiles > 1);
    }
    if (json) {
        /* out of memory: said, never a document with a file or a member missing */
        json_t *out = nfiles == 1 ? json_incref(json_array_get(arr, 0)) : json_incref(arr);
        char *s = out && !oom ? enh_json_dumps(out, JSON_INDENT(2)) : NULL;
        if (s) {
            printf("%s\n", s);
            free(s);
        } else if (oom || out) {
            fputs("enhance info: out of memory\n", stderr);
            rc = cli_exit_code(ENH_ENOMEM);
        }
        json_decref(out);
        json_decref(arr);
    }
    return rc;
}
