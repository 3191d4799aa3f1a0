/* enh_quality.c - benchmark driver for restorations and auto mode (bench/quality/run.py).
 *
 *   enh_quality assess IMAGE...                 one JSON line per image (file, dominant, measures)
 *   enh_quality run IN OUT.png OPS_JSON         runs the pipeline with the operations document
 *                                               (inline JSON or @file) and writes a PNG;
 *                                               prints report->explain to stderr
 * Inputs are trusted benchmark files, loaded with libvips directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/fsutil.h"
#include "enhance/assess.h"
#include "enhance/ops.h"
#include "enhance/pipeline.h"

static VipsImage *load(const char *path)
{
    VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_RANDOM, NULL);
    if (!im)
        fprintf(stderr, "cannot load %s: %s\n", path, vips_error_buffer());
    return im;
}

static int do_assess(int argc, char **argv)
{
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        VipsImage *im = load(argv[i]);
        if (!im) {
            rc = 1;
            continue;
        }
        enh_assessment a;
        enh_error err = {0};
        double t0 = enh_now();
        if (enh_assess_image(im, &a, &err)) {
            fprintf(stderr, "%s: %s\n", argv[i], err.msg);
            rc = 1;
        } else {
            printf("{\"file\":\"%s\",\"seconds\":%.3f,\"dominant\":\"%s\",\"score\":%.1f,\"blur\":%.4f,"
                   "\"blockiness\":%.4f,\"jpeg_quality\":%d,\"noise\":%.2f,\"ev\":%.2f,\"l_p50\":%.1f,"
                   "\"l_p99\":%.1f,\"cast_a\":%.2f,\"cast_b\":%.2f,\"cast_chroma\":%.2f,\"cast_angle\":%.2f,"
                   "\"cast_spread\":%.2f,\"cast_clipped\":%d,\"cast_severity\":%.3f,\"mp\":%.2f}\n",
                   argv[i], enh_now() - t0, enh_degradation_name(a.dominant), a.score, a.blur, a.blockiness,
                   a.jpeg_quality, a.noise_sigma, a.exposure_ev, a.l_p50, a.l_p99, a.cast_a, a.cast_b,
                   a.cast_chroma, a.cast_angle, a.cast_spread, a.cast_clipped, a.severity[ENH_DEG_COLOUR_CAST],
                   a.megapixels);
        }
        g_object_unref(im);
    }
    return rc;
}

static int do_run(const char *in, const char *outp, const char *ops_arg)
{
    char *json = NULL;
    size_t len = 0;
    enh_error err = {0};
    if (ops_arg[0] == '@') {
        if (enh_read_file(ops_arg + 1, 1 << 20, &json, &len, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    } else {
        json = strdup(ops_arg);
        len = strlen(json);
    }
    enh_ops ops;
    enh_status st = enh_ops_from_json(json, len, &ops, &err);
    free(json);
    if (st) {
        fprintf(stderr, "ops: %s\n", err.msg);
        return 1;
    }
    VipsImage *im = load(in);
    if (!im)
        return 1;
    VipsImage *out = NULL;
    enh_pipeline_report rep;
    double t0 = enh_now();
    st = enh_pipeline_run(im, &ops, NULL, &out, &rep, &err);
    g_object_unref(im);
    if (st) {
        fprintf(stderr, "pipeline: %s\n", err.msg);
        return 1;
    }
    if (vips_image_write_to_file(out, outp, NULL)) {
        fprintf(stderr, "write %s: %s\n", outp, vips_error_buffer());
        g_object_unref(out);
        return 1;
    }
    g_object_unref(out);
    if (rep.explain[0])
        fprintf(stderr, "%s", rep.explain);
    fprintf(stderr, "seconds %.3f (restore %.3f adjust %.3f)\n", enh_now() - t0, rep.seconds_restore,
            rep.seconds_adjust);
    return 0;
}

int main(int argc, char **argv)
{
    if (VIPS_INIT(argv[0]))
        return 2;
    int rc = 2;
    if (argc >= 3 && !strcmp(argv[1], "assess"))
        rc = do_assess(argc - 2, argv + 2);
    else if (argc == 5 && !strcmp(argv[1], "run"))
        rc = do_run(argv[2], argv[3], argv[4]);
    else
        fprintf(stderr, "usage: enh_quality assess IMAGE... | run IN OUT OPS_JSON\n");
    vips_shutdown();
    return rc;
}
