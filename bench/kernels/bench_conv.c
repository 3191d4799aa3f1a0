/* bench_conv.c - per-layer microbenchmark of the conv kernels: the 3x3 shapes of
 * realesrgan-x4fast (64->64, PReLU) and realesrgan-x4plus (64/96/128/160/192 -> 32/64, LeakyReLU)
 * through every path this CPU has: ref, {portable,avx2,avx512} x {winograd4x4, gemm}, and the
 * opt-in bf16 Winograd (avx512bf16-winograd4x4) where the CPU has AVX512_BF16.
 * Prints median/min ms of R runs after a warm-up and effective GFLOP/s (direct-convolution FLOPs,
 * 2*cout*cin*9 per output pixel).
 *   bench_conv [--threads N] [--runs R] [--size S] [--shape CINxCOUT] [--paths LIST] [--ref] [--chain N]
 *              [--batch B]
 * --batch B: B images of S x S per run (times are for all of them); with B = threads each
 * thread's lane is one whole image, so the threads share no rows.
 * LIST: comma-separated kernel names as printed (e.g. avx512-winograd4x4,avx512-gemm).
 * --chain N (shapes with cin == cout): a run is N plans of the shape with different weights,
 * run back to back with the activations ping-ponging between two buffers, as in a model;
 * times are per layer. Without it one plan runs repeatedly on the same buffers, so its
 * weights stay in cache, which flatters the multi-thread scaling. In a chain each plan is
 * given the next one, whose weights it prefetches as the model executor does (ENH_NO_NEXT=1:
 * not given, to measure what the prefetch buys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fsutil.h"
#include "core/pool.h"
#include "nn/conv.h"
#include "nn/conv_fast.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) * (1.0 / 8388608.0)) - 1.0f;
}

int main(int argc, char **argv)
{
    int threads = 1, runs = 5, size = 0, with_ref = 0, chain = 0, batch = 1;
    const char *only_shape = NULL, *paths = NULL;
    const char *budget = getenv("ENH_WINO_BUDGET_KB"); /* the plans' Winograd block budget (tuning) */
    if (budget) {
        enh_nn_options o = *enh_nn_options_default();
        o.wino_budget_kb = atoi(budget);
        enh_nn_options_set_default(&o);
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc) only_shape = argv[++i];
        else if (!strcmp(argv[i], "--paths") && i + 1 < argc) paths = argv[++i];
        else if (!strcmp(argv[i], "--ref")) with_ref = 1;
        else if (!strcmp(argv[i], "--chain") && i + 1 < argc) chain = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_conv [--threads N] [--runs R] [--size S] [--shape CINxCOUT] "
                            "[--paths avx512-winograd4x4,...] [--ref] [--chain N] [--batch B]\n");
            return 1;
        }
    }
    if (batch < 1 || batch > 64) {
        fprintf(stderr, "bench_conv: --batch must be 1..64\n");
        return 1;
    }
    if (runs < 1) runs = 1;
    static const struct { int cin, cout, size; enh_act act; const char *what; } shapes[] = {
        {64, 64, 256, ENH_ACT_PRELU, "x4fast body"},
        {3, 64, 256, ENH_ACT_PRELU, "x4fast first"},
        {64, 48, 256, ENH_ACT_NONE, "x4fast last"},
        {64, 32, 128, ENH_ACT_LEAKY, "x4plus rdb conv1"},
        {96, 32, 128, ENH_ACT_LEAKY, "x4plus rdb conv2"},
        {128, 32, 128, ENH_ACT_LEAKY, "x4plus rdb conv3"},
        {160, 32, 128, ENH_ACT_LEAKY, "x4plus rdb conv4"},
        {192, 64, 128, ENH_ACT_NONE, "x4plus rdb conv5"},
        {64, 64, 64, ENH_ACT_LEAKY, "x4plus 64x64 trunk"},
        {64, 3, 256, ENH_ACT_NONE, "x4plus last (at 4x)"},
    };
    enh_pool *pool = enh_pool_create(threads);
    if (!pool) return 2;
    printf("threads %d, runs %d (wall median/min ms; GFLOP/s = direct-conv FLOPs / wall median;\n"
           "cpu = median process CPU ms, cpuGF = FLOPs*threads/cpu: robust to preemption)\n", threads, runs);
    printf("%-22s %-9s %-24s %8s %8s %8s %9s %9s\n", "layer", "size", "kernel", "median", "min",
           "GFLOP/s", "cpu", "cpuGF");
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        char sh[32];
        snprintf(sh, sizeof sh, "%dx%d", shapes[si].cin, shapes[si].cout);
        if (only_shape && strcmp(only_shape, sh)) continue;
        int cin = shapes[si].cin, cout = shapes[si].cout, s = size ? size : shapes[si].size;
        if (chain > 0 && cin != cout) continue;
        int nplans = chain > 0 ? chain : 1;
        size_t nin = (size_t)batch * cin * s * s, nout = (size_t)batch * cout * s * s, nw = (size_t)cout * cin * 9;
        float *in = malloc(nin * 4), *out = malloc(nout * 4), *w = malloc(nw * 4 * nplans), *b = malloc(cout * 4 + 4);
        float *slopes = malloc(cout * 4 + 4);
        unsigned seed = 7;
        for (size_t i = 0; i < nin; i++) in[i] = frand(&seed);
        for (size_t i = 0; i < nw * nplans; i++) w[i] = frand(&seed) * 0.05f;
        for (int i = 0; i < cout; i++) b[i] = frand(&seed) * 0.1f, slopes[i] = 0.1f;
        enh_conv_params p = {.cin = cin, .cout = cout, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                             .dil_h = 1, .dil_w = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,
                             .pad_right = 1, .groups = 1, .act = shapes[si].act, .act_slope = 0.2f,
                             .prelu = slopes, .prelu_count = cout, .weight = w, .bias = b};
        double flops = 2.0 * cout * cin * 9 * (double)s * s * batch;
        const struct { enh_isa isa; enh_conv_algo algo; enh_precision prec; } cand[] = {
            {ENH_ISA_REF, ENH_ALGO_REF, ENH_PRECISION_FP32},
            {ENH_ISA_PORTABLE, ENH_ALGO_GEMM, ENH_PRECISION_FP32}, {ENH_ISA_PORTABLE, ENH_ALGO_WINO, ENH_PRECISION_FP32},
            {ENH_ISA_AVX2, ENH_ALGO_GEMM, ENH_PRECISION_FP32}, {ENH_ISA_AVX2, ENH_ALGO_WINO, ENH_PRECISION_FP32},
            {ENH_ISA_AVX512, ENH_ALGO_GEMM, ENH_PRECISION_FP32}, {ENH_ISA_AVX512, ENH_ALGO_WINO, ENH_PRECISION_FP32},
            {ENH_ISA_AVX512, ENH_ALGO_WINO, ENH_PRECISION_BF16},
            {ENH_ISA_AUTO, ENH_ALGO_AUTO, ENH_PRECISION_FP32},
        };
        for (size_t ci = 0; ci < sizeof cand / sizeof cand[0]; ci++) {
            if (cand[ci].isa == ENH_ISA_REF && !with_ref) continue;
            if (!enh_cpu_isa_supported(cand[ci].isa)) continue;
            if (cand[ci].prec == ENH_PRECISION_BF16 && !enh_cpu_has_bf16()) continue;
            enh_conv_plan *plans[64] = {NULL};
            enh_error err;
            if (nplans > 64) nplans = 64;
            int made = 0;
            for (; made < nplans; made++) {
                p.weight = w + nw * made;
                if (enh_conv_plan_create_forced_prec(&p, cand[ci].isa, cand[ci].algo, cand[ci].prec, &plans[made],
                                                     &err) != ENH_OK)
                    break;
            }
            p.weight = w;
            if (made < nplans) {
                for (int q = 0; q < made; q++) enh_conv_plan_free(plans[q]);
                continue;
            }
            const char *name = enh_conv_plan_kernel(plans[0]);
            char label[64];
            snprintf(label, sizeof label, "%s%s", cand[ci].algo == ENH_ALGO_AUTO ? "auto=" : "", name);
            if (paths && cand[ci].algo != ENH_ALGO_AUTO && !strstr(paths, name)) {
                for (int q = 0; q < nplans; q++) enh_conv_plan_free(plans[q]);
                continue;
            }
            int r = cand[ci].isa == ENH_ISA_REF ? 1 : runs;
            double *t = malloc(sizeof(double) * r), *tc = malloc(sizeof(double) * r);
            float *bufs[2] = {in, out};
            for (int k = -1; k < r; k++) { /* k = -1: warm-up */
                double t0 = enh_now(), c0 = enh_process_cpu_seconds();
                for (int q = 0; q < nplans; q++)
                    enh_conv_plan_run_ex(plans[q], bufs[q & 1 && chain ? 1 : 0], batch, s, s,
                                         bufs[q & 1 && chain ? 0 : 1], NULL, pool, NULL, NULL,
                                         chain && !getenv("ENH_NO_NEXT") ? plans[(q + 1) % nplans] : NULL, NULL, 0);
                if (k >= 0) {
                    t[k] = (enh_now() - t0) / nplans;
                    tc[k] = (enh_process_cpu_seconds() - c0) / nplans;
                }
            }
            qsort(t, r, sizeof *t, cmp_d);
            qsort(tc, r, sizeof *tc, cmp_d);
            printf("%-22s %-9s %-24s %8.2f %8.2f %8.1f %9.2f %9.1f\n", shapes[si].what, sh, label,
                   t[r / 2] * 1e3, t[0] * 1e3, flops / t[r / 2] * 1e-9, tc[r / 2] * 1e3,
                   flops / tc[r / 2] * 1e-9 * threads);
            fflush(stdout);
            free(t);
            free(tc);
            for (int q = 0; q < nplans; q++) enh_conv_plan_free(plans[q]);
        }
        free(in), free(out), free(w), free(b), free(slopes);
    }
    enh_pool_destroy(pool);
    return 0;
}
