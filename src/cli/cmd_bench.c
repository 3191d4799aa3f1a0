/* cmd_bench.c - `enhance bench`: times a model on this CPU.
 *
 *   enhance bench --model NAME|--param P --bin B [--size S] [--threads N] [--runs R]
 *                 [--precision fp32|bf16] [--input-f32 F] [--out-f32 F] [--json]
 *
 * Per case: load (weights packed once), one warm-up run, R timed runs; prints median / min
 * wall time, GFLOP/s with FLOPs counted as direct convolution (enh_model_info.flops_per_pixel
 * x S x S), % of the FMA peak measured here (1 core, AVX-512 or AVX2, x threads), output
 * megapixels/s, peak RSS. Input: a deterministic synthetic image, or --input-f32 (raw float32
 * NCHW 1x3xSxS, e.g. the ORT harness input) for like-for-like comparisons; --out-f32 writes
 * the raw output. Exit codes as commands.h.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "core/fsutil.h"
#include "core/json_mem.h"
#include "core/mem.h"
#include "core/pool.h"
#include "nn/conv_fast.h"
#include "nn/cpu.h"
#include "nn/manifest.h"
#include "nn/nn.h"

static const char *bench_usage =
    "usage: enhance bench (--model NAME | --param FILE.param --bin FILE.bin) [options]\n"
    "  --model NAME        realesrgan-x4fast, realesrgan-x4plus, ... (`enhance models list`): the\n"
    "                      installed model, else NAME.param/.bin, in the models folder\n"
    "                      ($ENHANCE_MODELS_DIR, else ~/.cache/enhance/models)\n"
    "  --size S            input is S x S pixels (default 256)\n"
    "  --threads N         compute threads (default: all online CPUs)\n"
    "  --runs R            timed runs after one warm-up (default 5)\n"
    "  --precision P       fp32 (default, or $ENHANCE_PRECISION) or bf16: 3x3 layers with >= 16 in/out\n"
    "                      channels run the Winograd GEMM in bf16 (AVX512_BF16 CPUs only)\n"
    "  --input-f32 FILE    raw little-endian float32 NCHW input of 1 x in_channels x S x S\n"
    "  --out-f32 FILE      write the raw float32 output of the last run\n"
    "  --json              one JSON object instead of text\n"
    "Kernel paths: ENHANCE_KERNELS=ref|portable|avx2|avx512|auto, ENHANCE_CONV_ALGO=wino|gemm|auto,\n"
    "ENH_WINO_BUDGET_KB=N, ENHANCE_NO_VCACHE=1; ENHANCE_PRECISION=fp32|bf16 is the default of --precision.\n";

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- FMA peak of one core: 12 independent accumulators (2 FMA pipes x 4-5 cycles latency),
 * written once for both vector widths. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PEAK_FN(NAME, TARGET, VEC, SET1, FMADD, LANES)                                             \
    __attribute__((target(TARGET))) static double NAME(double secs)                              \
    {                                                                                            \
        VEC a[12];                                                                               \
        for (int k = 0; k < 12; k++)                                                             \
            a[k] = SET1(0.1f * (float)(k + 1));                                                  \
        const VEC m = SET1(0.999999f), c = SET1(1e-7f);                                          \
        long iters = 0;                                                                          \
        double t0 = enh_now(), t;                                                                \
        do {                                                                                     \
            for (int r = 0; r < 4096; r++) {                                                     \
                _Pragma("GCC unroll 12") for (int k = 0; k < 12; k++) a[k] = FMADD(a[k], m, c); \
            }                                                                                    \
            iters += 4096;                                                                       \
        } while ((t = enh_now() - t0) < secs);                                                   \
        float v[LANES], sum = 0;                                                                 \
        for (int k = 0; k < 12; k++) {                                                           \
            memcpy(v, &a[k], sizeof v);                                                          \
            sum += v[0];                                                                         \
        }                                                                                        \
        volatile float sink = sum;                                                               \
        (void)sink;                                                                              \
        return (double)iters * 12 * LANES * 2 / t;                                               \
    }
PEAK_FN(peak_avx512, "avx512f,fma", __m512, _mm512_set1_ps, _mm512_fmadd_ps, 16)
PEAK_FN(peak_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, 8)
#endif

static double measure_peak(const char **isa)
{
    *isa = "scalar";
#if defined(__x86_64__) && defined(__GNUC__)
    double best = 0;
    if (enh_cpu_isa_supported(ENH_ISA_AVX512)) {
        for (int i = 0; i < 3; i++) { /* best of 3: the machine may be shared */
            double p = peak_avx512(0.05);
            best = p > best ? p : best;
        }
        *isa = "avx512";
        return best;
    }
    if (enh_cpu_isa_supported(ENH_ISA_AVX2)) {
        for (int i = 0; i < 3; i++) {
            double p = peak_avx2(0.05);
            best = p > best ? p : best;
        }
        *isa = "avx2";
        return best;
    }
#endif
    return 0;
}

static int find_model(const char *name, char *param, char *bin, size_t cap)
{
    const enh_model_entry *e = enh_manifest_find(name);
    if (e && enh_model_installed(e, NULL) && enh_model_files(e, NULL, param, bin, cap, NULL) == ENH_OK)
        return 0;
    /* else NAME.param + NAME.bin in the models folder (a model not in the manifest) */
    snprintf(param, cap, "%s/%s.param", enh_models_default_dir(), name);
    snprintf(bin, cap, "%s/%s.bin", enh_models_default_dir(), name);
    return access(param, R_OK) == 0 && access(bin, R_OK) == 0 ? 0 : -1;
}

static int read_f32(const char *path, float *dst, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t got = fread(dst, sizeof(float), n, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    return got == n && !extra ? 0 : -1;
}

static int write_f32(const char *path, const float *src, size_t n)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    int ok = fwrite(src, sizeof(float), n, f) == n;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    const char *model = NULL, *param = NULL, *bin = NULL, *in_f32 = NULL, *out_f32 = NULL;
    const char *precision = NULL;
    int size = 256, threads = 0, runs = 5, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(bench_usage, stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (more && !strcmp(a, "--model")) {
            model = argv[++i];
        } else if (more && !strcmp(a, "--param")) {
            param = argv[++i];
        } else if (more && !strcmp(a, "--bin")) {
            bin = argv[++i];
        } else if (more && !strcmp(a, "--size")) {
            size = atoi(argv[++i]);
        } else if (more && !strcmp(a, "--threads")) {
            threads = atoi(argv[++i]);
        } else if (more && !strcmp(a, "--runs")) {
            runs = atoi(argv[++i]);
        } else if (more && !strcmp(a, "--precision")) {
            precision = argv[++i];
        } else if (more && !strcmp(a, "--input-f32")) {
            in_f32 = argv[++i];
        } else if (more && !strcmp(a, "--out-f32")) {
            out_f32 = argv[++i];
        } else {
            fprintf(stderr, "enhance bench: unknown or incomplete option '%s'\n%s", a, bench_usage);
            return 1;
        }
    }
    if (size < 1 || size > 8192 || runs < 1 || runs > 1000 || threads < 0 || threads > 1024) {
        fprintf(stderr, "enhance bench: --size must be 1..8192, --runs 1..1000, --threads 0..1024\n");
        return 1;
    }
    enh_nn_options nn = *enh_nn_options_default(); /* ENHANCE_* (cli_env.h), --precision on top */
    if (precision && (enh_precision_parse(precision, &nn.precision) != 0 || nn.precision == ENH_PRECISION_DEFAULT)) {
        fprintf(stderr, "enhance bench: --precision must be fp32 or bf16\n");
        return 1;
    }
    {
        enh_error perr = {0};
        enh_precision prec;
        if (enh_nn_options_check(&nn, &perr) != ENH_OK || enh_precision_resolve(nn.precision, &prec, &perr)) {
            fprintf(stderr, "enhance bench: %s\n", perr.msg);
            return 1;
        }
        precision = enh_precision_name(prec);
    }
    char pbuf[4096], bbuf[4096];
    if (model && !param && !bin) {
        if (find_model(model, pbuf, bbuf, sizeof pbuf) != 0) {
            fprintf(stderr, "enhance bench: model '%s' not found (not installed in %s, no %s.param/.bin "
                            "there; ENHANCE_MODELS_DIR names another folder); fetch it with `enhance models "
                            "fetch %s` or pass --param/--bin\n", model, enh_models_default_dir(), model, model);
            return 1;
        }
        param = pbuf, bin = bbuf;
    }
    if (!param || !bin) {
        fprintf(stderr, "enhance bench: give --model NAME or both --param and --bin\n%s", bench_usage);
        return 1;
    }
    if (!model)
        model = param;

    enh_pool *pool = enh_pool_create(threads);
    if (!pool) {
        fprintf(stderr, "enhance bench: cannot start %d threads\n", threads);
        return 2;
    }
    threads = enh_pool_threads(pool);
    enh_error err = {0};
    enh_model *m = NULL;
    double tl = enh_now();
    if (enh_model_load_ncnn_ex(param, bin, &nn, &m, &err) != ENH_OK) {
        fprintf(stderr, "enhance bench: %s\n", err.msg);
        enh_pool_destroy(pool);
        return err.code == ENH_ENOMEM || err.code == ENH_EINTERNAL ? 2 : 1;
    }
    tl = enh_now() - tl;
    const enh_model_info *info = enh_model_get_info(m);
    int rc = 2;
    size_t nin = (size_t)info->in_channels * size * size;
    size_t nout = (size_t)info->out_channels * size * info->scale * size * info->scale;
    float *in = enh_alloc(nin * sizeof *in), *out = enh_alloc(nout * sizeof *out);
    double *t = calloc((size_t)runs, sizeof *t), *tc = calloc((size_t)runs, sizeof *tc);
    if (!in || !out || !t || !tc) {
        fprintf(stderr, "enhance bench: out of memory for a %dx%d input\n", size, size);
        goto done;
    }
    if (in_f32) {
        if (read_f32(in_f32, in, nin) != 0) {
            fprintf(stderr, "enhance bench: %s is not %zu float32 values (1 x %d x %d x %d)\n", in_f32, nin,
                    info->in_channels, size, size);
            rc = 1;
            goto done;
        }
    } else {
        unsigned s = 1;
        for (size_t i = 0; i < nin; i++) { /* smooth image + a little noise, in [0,1] */
            size_t x = i % size, y = (i / size) % size, c = i / ((size_t)size * size);
            s = s * 1664525u + 1013904223u;
            in[i] = 0.5f + 0.3f * (float)((x * (c + 1) + y * 3) % 97) / 97.0f + 0.05f * (float)(s >> 24) / 256.0f;
        }
    }
    const char *pisa;
    double peak1 = measure_peak(&pisa);
    if (enh_model_run(m, in, 1, size, size, out, pool, &err) != ENH_OK) { /* warm-up */
        fprintf(stderr, "enhance bench: %s\n", err.msg);
        rc = err.code == ENH_ENOMEM || err.code == ENH_EINTERNAL ? 2 : 1;
        goto done;
    }
    for (int r = 0; r < runs; r++) {
        double t0 = enh_now(), c0 = enh_process_cpu_seconds();
        enh_model_run(m, in, 1, size, size, out, pool, &err);
        t[r] = enh_now() - t0;
        tc[r] = enh_process_cpu_seconds() - c0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    qsort(tc, (size_t)runs, sizeof *tc, cmp_d);
    double med = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
    double medc = runs % 2 ? tc[runs / 2] : 0.5 * (tc[runs / 2 - 1] + tc[runs / 2]);
    double gflop = info->flops_per_pixel * size * size * 1e-9;
    double gfs = gflop / med, pct = peak1 > 0 ? 100.0 * gfs / (peak1 * 1e-9 * threads) : 0;
    double mpix = (double)size * info->scale * size * info->scale / med * 1e-6;
    double rss = (double)enh_peak_rss_bytes() / (1 << 20);
    if (out_f32 && write_f32(out_f32, out, nout) != 0) {
        fprintf(stderr, "enhance bench: cannot write %s\n", out_f32);
        goto done;
    }
    enh_isa isa = nn.kernels;
    if (json) {
        json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, s:i, s:i, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
                              "s:f, s:f, s:s, s:i, s:i}",
                              "model", model, "size", size, "out_size", size * info->scale, "threads", threads,
                              "runs", runs, "precision", precision, "bf16_convs", info->bf16_convs,
                              "convs", info->convs,
                              "isa", enh_isa_name(isa == ENH_ISA_AUTO ? enh_cpu_best_isa() : isa),
                              "median_ms", med * 1e3, "min_ms", t[0] * 1e3, "median_cpu_ms", medc * 1e3,
                              "gflop", gflop, "gflops", gfs,
                              "peak_gflops_per_core", peak1 * 1e-9, "pct_peak", pct, "out_mpix_s", mpix,
                              "peak_rss_mib", rss, "load_ms", tl * 1e3, "flops_per_pixel", info->flops_per_pixel,
                              "peak_isa", pisa, "fused_tails", info->ps_tails, "fused_sums", info->elt_tails);
        char *s = o ? enh_json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s) {
            fputs("enhance bench: out of memory\n", stderr);
            rc = cli_exit_code(ENH_ENOMEM);
            goto done;
        }
        puts(s);
        free(s);
    } else {
        printf("model %s, %dx%d -> %dx%d, %d thread%s, %s (%d of %d convolutions in bf16), kernels %s\n", model,
               size, size, size * info->scale, size * info->scale, threads, threads == 1 ? "" : "s", precision,
               info->bf16_convs, info->convs, enh_isa_name(isa == ENH_ISA_AUTO ? enh_cpu_best_isa() : isa));
        if (info->ps_tails || info->elt_tails)
            printf("  in conv epilogues: %d pixel-shuffle tail%s, %d weighted sum%s\n", info->ps_tails,
                   info->ps_tails == 1 ? "" : "s", info->elt_tails, info->elt_tails == 1 ? "" : "s");
        printf("  load %.0f ms; %d runs after 1 warm-up: median %.1f ms, min %.1f ms (process CPU: median %.1f ms)\n",
               tl * 1e3, runs, med * 1e3, t[0] * 1e3, medc * 1e3);
        printf("  %.1f GFLOP (direct conv) -> %.1f GFLOP/s = %.0f %% of the %s FMA peak (%.1f GFLOP/s/core x %d)\n",
               gflop, gfs, pct, pisa, peak1 * 1e-9, threads);
        printf("  %.3f output Mpix/s, peak RSS %.0f MiB\n", mpix, rss);
    }
    rc = 0;
done:
    enh_free(in);
    enh_free(out);
    free(t);
    free(tc);
    enh_model_free(m);
    enh_pool_destroy(pool);
    return rc;
}
