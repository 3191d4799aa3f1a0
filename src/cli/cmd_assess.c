/* cmd_assess.c - `enhance assess IMAGE [--json]`: no-reference quality assessment (what is
 * wrong with a photo and how badly), the measurements auto mode decides from, and the BRISQUE
 * score beside it (cli_assess_brisque.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_assess_brisque.h"
#include "cli/commands.h"
#include "enhance/brisque.h"
#include "enhance/assess.h"
#include "image/image_decode.h"
#include "image/image_init.h"

static void usage(FILE *f)
{
    fputs("usage: enhance assess IMAGE [--json] [--brisque-model FILE --brisque-range FILE]\n"
          "\n"
          "Measures, without a reference image: sharpness/blur, JPEG blockiness and quality, noise\n"
          "level, exposure (lightness percentiles, clipping), colour cast, resolution; prints an\n"
          "overall score 0-100 and the main problem (blur, jpeg, noise, underexposed, overexposed,\n"
          "colour_cast, low_resolution or none). `enhance IN -o OUT --auto --explain` fixes what it finds.\n"
          "Also the BRISQUE score (0 best .. 100 worst; OpenCV's LIVE-trained model, as `enhance check`),\n"
          "which needs OpenCV's model files (Debian: apt-get install opencv-data); without them the\n"
          "line says so and the rest is printed as usual.\n"
          "  --json                machine-readable output (BRISQUE under \"brisque\")\n"
          "  --brisque-model FILE  OpenCV's brisque_model_live.yml (default " ENH_BRISQUE_MODEL_DEFAULT ")\n"
          "  --brisque-range FILE  OpenCV's brisque_range_live.yml (default " ENH_BRISQUE_RANGE_DEFAULT ")\n",
          f);
}

int cmd_assess(int argc, char **argv)
{
    const char *path = NULL, *bmodel = NULL, *brange = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--brisque-model") || !strcmp(argv[i], "--brisque-range")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "enhance assess: %s needs a file\n", argv[i]);
                return 1;
            }
            if (!strcmp(argv[i], "--brisque-model"))
                bmodel = argv[++i];
            else
                brange = argv[++i];
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
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
    cli_brisque bq = {0};
    if (!st)
        cli_assess_brisque(img, bmodel, brange, &bq); /* never fatal: a note when it cannot run */
    g_object_unref(img);
    if (st) {
        fprintf(stderr, "enhance assess: %s: %s\n", path, err.msg);
        return st == ENH_EINVAL ? 1 : 2;
    }
    if (json) {
        char *s = enh_assessment_to_json(&a);
        char *t = s ? cli_assess_brisque_json(s, &bq) : NULL;
        free(s);
        if (!t)
            return 2;
        puts(t);
        free(t);
    } else {
        char buf[2048], line[1200];
        enh_assessment_format(&a, buf, sizeof buf);
        cli_assess_brisque_line(&bq, line, sizeof line);
        printf("%s\n%s%s", path, buf, line);
    }
    return 0;
}
