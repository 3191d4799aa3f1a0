/* pipeline_baseline.c - the server's work without the server: decode -> enh_pipeline_run ->
 * encode of one image, in-process, back to back, on a pool of --threads threads. Prints
 * images/s (median of --runs after one warm-up), the reference for the serve sweep's
 * "server adds almost nothing" target (throughput at 8 clients vs threads=1 x cores).
 *
 *   serve_pipeline_baseline --image in256.jpg --query 'upscale=photo&scale=2&format=jpeg' \
 *                           [--threads 1] [--runs 5] [--models-dir DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/pool.h"
#include "enhance/pipeline.h"
#include "serve/codec.h"
#include "serve/request.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *image = NULL, *query = "upscale=photo&scale=2&format=jpeg", *models_dir = NULL;
    int threads = 1, runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--image"))
            image = argv[i + 1];
        else if (!strcmp(argv[i], "--query"))
            query = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--models-dir"))
            models_dir = argv[i + 1];
    }
    if (!image || runs < 1 || runs > 1000 || threads < 1) {
        fprintf(stderr, "usage: serve_pipeline_baseline --image FILE [--query Q] [--threads N] [--runs R] "
                        "[--models-dir DIR]\n");
        return 2;
    }
    enh_error err;
    if (serve_codec_init(&err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    enh_pool_default_set_threads(threads);
    vips_concurrency_set(1);
    char *data = NULL;
    size_t len = 0;
    if (enh_read_file(image, 1 << 28, &data, &len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    enh_ops ops;
    serve_params params;
    enh_ops_init(&ops);
    serve_params_init(&params);
    char *q = strdup(query);
    for (char *kv = strtok(q, "&"); kv; kv = strtok(NULL, "&")) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq++ = 0;
        if (serve_query_apply(kv, eq, &ops, &params, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 2;
        }
    }
    free(q);
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.pool = enh_pool_default();
    ctx.models_dir = models_dir;
    double *t = calloc((size_t)runs + 1, sizeof *t);
    size_t out_bytes = 0;
    for (int r = 0; r <= runs; r++) {
        double t0 = enh_now();
        VipsImage *in = NULL, *out = NULL;
        enh_format fmt;
        void *buf = NULL;
        size_t blen = 0;
        const char *mime;
        if (serve_decode(data, len, 0, &in, &fmt, &err) || enh_pipeline_run(in, &ops, &ctx, &out, NULL, &err) ||
            serve_encode(out, &ops, fmt, &buf, &blen, &mime, NULL, &err)) {
            fprintf(stderr, "run %d: %s\n", r, err.msg);
            return 1;
        }
        t[r] = enh_now() - t0;
        out_bytes = blen;
        g_free(buf);
        g_object_unref(out);
        g_object_unref(in);
    }
    qsort(t + 1, (size_t)runs, sizeof *t, cmp_d); /* t[0] is the warm-up */
    double med = t[1 + runs / 2];
    printf("pipeline %s on %s: %d thread(s), median %.3f s (min %.3f, warm-up %.3f) = %.3f images/s, output %zu "
           "bytes\n",
           query, image, threads, med, t[1], t[0], 1.0 / med, out_bytes);
    free(t);
    free(data);
    return 0;
}
