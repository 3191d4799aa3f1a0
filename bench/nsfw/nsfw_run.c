/* nsfw_run.c - our nsfwjs classifiers on images or on prepared inputs, printed in the form of
 * the peer harness (peers/nsfwjs run_nsfw.mjs) so bench/nsfw/parity.sh can compare them.
 *
 *   nsfw_run --model NAME|PATH [--threads N] [--runs R] [--warmup W]
 *            [--in IMG ...] [--in-f32 F ...] [--dump-input PREFIX]
 *
 * NAME is a manifest model (verified), PATH a model.json / model.min.js. Per input one line:
 *   RESULT <file> p0 p1 p2 p3 p4        (float32 values printed with 9 significant digits)
 * and for images the median ms of --runs calls after --warmup: classify (preprocessing +
 * network + softmax), prepare, predict; with the process CPU seconds per classify. --in-f32
 * takes float32 NHWC [1,S,S,3] as `run_nsfw.mjs --dump-input` writes it; --dump-input writes
 * ours as PREFIX-K.f32 (K from 1, in --in order). Images are read by libvips as they are
 * (no colour conversion): the harness reads the same PNG with pngjs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <vips/vips.h>

#include "core/pool.h"
#include "enhance/moderate.h"
#include "image/image_init.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void print_probs(const char *file, const float *p)
{
    printf("RESULT %s", file);
    for (int k = 0; k < ENH_NSFW_NCLASSES; k++)
        printf(" %.9g", p[k]);
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *model = NULL, *dump = NULL;
    int threads = 2, runs = 3, warmup = 1;
    const char *imgs[256], *f32s[256];
    int nimg = 0, nf32 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "nsfw_run: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--model"))
            model = v;
        else if (!strcmp(a, "--threads"))
            threads = atoi(v);
        else if (!strcmp(a, "--runs"))
            runs = atoi(v);
        else if (!strcmp(a, "--warmup"))
            warmup = atoi(v);
        else if (!strcmp(a, "--in") && nimg < 256)
            imgs[nimg++] = v;
        else if (!strcmp(a, "--in-f32") && nf32 < 256)
            f32s[nf32++] = v;
        else if (!strcmp(a, "--dump-input"))
            dump = v;
        else {
            fprintf(stderr, "usage: nsfw_run --model NAME|PATH [--threads N] [--runs R] [--warmup W] [--in IMG ...] "
                            "[--in-f32 F ...] [--dump-input PREFIX]\n");
            return 2;
        }
        i++;
    }
    if (!model || runs < 1) {
        fprintf(stderr, "nsfw_run: --model is required (and --runs >= 1)\n");
        return 2;
    }
    enh_error err = {0};
    if (enh_image_init(&err) != ENH_OK) {
        fprintf(stderr, "nsfw_run: %s\n", err.msg);
        return 2;
    }
    enh_pool_default_set_threads(threads);
    enh_classifier *c;
    double t0 = now();
    int by_path = strchr(model, '/') || strstr(model, ".js") || strstr(model, ".json");
    enh_status st = by_path ? enh_classifier_load_path(model, NULL, &c, &err) : enh_classifier_load(model, NULL, NULL, &c, &err);
    if (st != ENH_OK) {
        fprintf(stderr, "nsfw_run: %s\n", err.msg);
        return 1;
    }
    int s = enh_classifier_input_size(c);
    printf("model %s input %dx%d threads %d load %.3f s\n", enh_classifier_name(c), s, s, threads, now() - t0);
    size_t n = (size_t)s * s * 3;
    float *x = malloc(n * sizeof *x), probs[ENH_NSFW_NCLASSES];
    double *tc = malloc(sizeof(double) * (size_t)runs), *tp = malloc(sizeof(double) * (size_t)runs),
           *tn = malloc(sizeof(double) * (size_t)runs);
    int rc = 0;
    for (int i = 0; i < nf32 && !rc; i++) {
        FILE *f = fopen(f32s[i], "rb");
        if (!f || fread(x, sizeof *x, n, f) != n) {
            fprintf(stderr, "nsfw_run: %s: cannot read %zu float32 values\n", f32s[i], n);
            rc = 1;
        } else if (enh_classify_input(c, x, probs, &err) != ENH_OK) {
            fprintf(stderr, "nsfw_run: %s: %s\n", f32s[i], err.msg);
            rc = 1;
        } else
            print_probs(f32s[i], probs);
        if (f)
            fclose(f);
    }
    for (int i = 0; i < nimg && !rc; i++) {
        VipsImage *im = vips_image_new_from_file(imgs[i], NULL);
        if (!im) {
            fprintf(stderr, "nsfw_run: %s: %s\n", imgs[i], vips_error_buffer());
            rc = 1;
            break;
        }
        for (int r = -warmup; r < runs && !rc; r++) {
            double a = now(), ca = cpu_now();
            if (enh_classify(c, im, probs, &err) != ENH_OK) {
                fprintf(stderr, "nsfw_run: %s: %s\n", imgs[i], err.msg);
                rc = 1;
                break;
            }
            double b = now(), cb = cpu_now();
            if (enh_classify_prepare(c, im, x, &err) != ENH_OK)
                rc = 1;
            double d = now();
            float p2[ENH_NSFW_NCLASSES];
            if (!rc && enh_classify_input(c, x, p2, &err) != ENH_OK)
                rc = 1;
            double e = now();
            if (rc)
                fprintf(stderr, "nsfw_run: %s: %s\n", imgs[i], err.msg);
            if (r >= 0) {
                tc[r] = (b - a) * 1e3;
                tp[r] = (d - b) * 1e3;
                tn[r] = (e - d) * 1e3;
            }
            if (r == 0) /* CPU of one classify call (all threads of the process) */
                printf("cpu_s %s %.4f\n", imgs[i], cb - ca);
        }
        if (rc) {
            g_object_unref(im);
            break;
        }
        print_probs(imgs[i], probs);
        printf("TIME %s classify_ms %.2f prepare_ms %.2f predict_ms %.2f (median of %d)\n", imgs[i], median(tc, runs),
               median(tp, runs), median(tn, runs), runs);
        if (dump) {
            char path[4096];
            snprintf(path, sizeof path, "%s-%d.f32", dump, i + 1);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(x, sizeof *x, n, f) != n) {
                fprintf(stderr, "nsfw_run: cannot write %s\n", path);
                rc = 1;
            }
            if (f)
                fclose(f);
        }
        g_object_unref(im);
    }
    free(x);
    free(tc);
    free(tp);
    free(tn);
    enh_classifier_free(c);
    return rc;
}
