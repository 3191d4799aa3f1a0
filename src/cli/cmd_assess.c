/* cmd_assess.c - `enhance assess IMAGE [--json]`: no-reference quality assessment (what is
 * wrong with a photo and how badly), the measurements auto mode decides from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "enhance/assess.h"
#include "image/image_decode.h"
#include "image/image_init.h"

static void usage(FILE *f)
{
    fputs("usage: enhance assess IMAGE [--json]\n"
          "\n"
          "Measures, without a reference image: sharpness/blur, JPEG blockiness and quality, noise\n"
          "level, exposure (lightness percentiles, clipping), colour cast, resolution; prints an\n"
          "overall score 0-100 and the main problem (blur, jpeg, noise, underexposed, overexposed,\n"
          "colour_cast, low_resolution or none). `enhance IN -o OUT --auto --explain` fixes what it finds.\n"
          "  --json   machine-readable output\n",
          f);
}

int cmd_assess(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "enhance assess: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 1;
        } else if (path) {
            fprintf(stderr, "enhance assess: one image at a time ('%s' and '%s')\n", path, argv[i]);
            return 1;
        } else
            path = argv[i];
    }
    if (!path) {
        usage(stderr);
        return 1;
    }
    enh_error err = {0};
    if (enh_image_init(&err)) {
        fprintf(stderr, "enhance assess: %s\n", err.msg);
        return 2;
    }
    VipsImage *img = NULL;
    enh_image_info info;
    enh_status st = enh_image_decode_file(path, ENH_IMAGE_DEFAULT_MAX_PIXELS, &img, &info, &err);
    if (st) {
        fprintf(stderr, "enhance assess: %s: %s\n", path, err.msg);
        return st == ENH_EINTERNAL || st == ENH_ENOMEM ? 2 : 1;
    }
    enh_assessment a;
    st = enh_assess_image_path(img, !strcmp(info.format, "jpeg") ? path : NULL, &a, &err);
    g_object_unref(img);
    if (st) {
        fprintf(stderr, "enhance assess: %s: %s\n", path, err.msg);
        return st == ENH_EINVAL ? 1 : 2;
    }
    if (json) {
        char *s = enh_assessment_to_json(&a);
        if (!s)
            return 2;
        puts(s);
        free(s);
    } else {
        char buf[2048];
        enh_assessment_format(&a, buf, sizeof buf);
        printf("%s\n%s", path, buf);
    }
    return 0;
}
