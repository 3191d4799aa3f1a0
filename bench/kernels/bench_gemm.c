/* bench_gemm.c - the fp32 GEMM of nn/gemm.h (Dense / 1x1 conv / im2col shapes of the TF.js
 * runtime) through each kernel path this CPU has: median and min time of R runs after a
 * warm-up, GFLOP/s (2*M*K*N per run) and the share of the FMA peak of the threads used; and
 * the median process CPU time, GFLOP per CPU-second and its share of one core's peak (steadier
 * than wall time while other processes share the cores; the pool's idle spin counts as CPU).
 *   bench_gemm [--m M] [--k K] [--n N] [--threads T] [--runs R] [--paths LIST] [--act NAME]
 *              [--res] [--peak GFLOPS] [--sweep]
 * LIST: comma-separated paths (ref,portable,avx2,avx512); default: the one gemm picks.
 * --act none|relu|gelu|sigmoid|leaky; --res adds a residual (a separate array).
 * --peak: the 1-core FMA peak in GFLOP/s; default: measured here, the best of 5 tries (12
 * independent AVX2 FMA chains, as /work/shared/peers/peak_flops.c does). % peak = GFLOP/s / (T * peak).
 * --sweep: M (default 65536) x the table of K, N in bench/README.md. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/pool.h"
#include "nn/gemm.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) /* CPU time of the whole process (all its threads) */
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

__attribute__((target("avx2,fma"))) static double peak_avx2(void)
{
    __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2), a3 = _mm256_set1_ps(3);
    __m256 a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5), a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7);
    __m256 a8 = _mm256_set1_ps(8), a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
    const long iters = 20000000;
    double t = now_s();
    for (long i = 0; i < iters; i++) {
        a0 = _mm256_fmadd_ps(a0, m, c), a1 = _mm256_fmadd_ps(a1, m, c), a2 = _mm256_fmadd_ps(a2, m, c);
        a3 = _mm256_fmadd_ps(a3, m, c), a4 = _mm256_fmadd_ps(a4, m, c), a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c), a7 = _mm256_fmadd_ps(a7, m, c), a8 = _mm256_fmadd_ps(a8, m, c);
        a9 = _mm256_fmadd_ps(a9, m, c), a10 = _mm256_fmadd_ps(a10, m, c), a11 = _mm256_fmadd_ps(a11, m, c);
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3));
    }
    t = now_s() - t;
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    if (out[0] == 12345.0f) /* keeps the sum alive */
        printf(" ");
    return 12.0 * 8 * 2 * iters / t / 1e9;
}

typedef struct {
    int threads, runs, res;
    enh_gemm_act act;
    double peak;
    const char *paths;
    enh_pool *pool;
} opts;

static void bench_shape(const opts *o, int m, int k, int n)
{
    float *a = enh_alloc((size_t)m * k * sizeof(float)), *b = enh_alloc((size_t)k * n * sizeof(float));
    float *c = enh_alloc((size_t)m * n * sizeof(float)), *bias = enh_alloc((size_t)n * sizeof(float));
    float *res = o->res ? enh_alloc((size_t)m * n * sizeof(float)) : NULL;
    if (!a || !b || !c || !bias || (o->res && !res)) {
        fprintf(stderr, "out of memory for m=%d k=%d n=%d\n", m, k, n);
        exit(1);
    }
    for (size_t i = 0; i < (size_t)m * k; i++)
        a[i] = (float)((i * 7919u) % 1000) * 1e-3f - 0.5f;
    for (size_t i = 0; i < (size_t)k * n; i++)
        b[i] = (float)((i * 104729u) % 1000) * 1e-3f - 0.5f;
    for (int i = 0; i < n; i++)
        bias[i] = 0.01f * i;
    memset(c, 0, (size_t)m * n * sizeof(float));
    if (res)
        memset(res, 0, (size_t)m * n * sizeof(float));
    enh_gemm_epi epi = {o->act, 0.2f, res, n};
    static const enh_isa isas[] = {ENH_ISA_REF, ENH_ISA_PORTABLE, ENH_ISA_AVX2, ENH_ISA_AVX512};
    for (int ii = 0; ii < 4; ii++) {
        enh_gemm_b *pb = NULL;
        enh_error err;
        const char *name = enh_isa_name(isas[ii]);
        if (o->paths ? !strstr(o->paths, name) : strcmp(name, enh_gemm_kernel_name()))
            continue;
        if (enh_gemm_pack_b_isa(b, k, n, n, bias, isas[ii], &pb, &err) != ENH_OK) {
            printf("%-9s %s\n", enh_isa_name(isas[ii]), err.msg);
            continue;
        }
        double *t = malloc(2 * (size_t)o->runs * sizeof *t), *cpu = t + o->runs;
        enh_gemm_run(pb, a, m, k, c, n, &epi, o->pool); /* warm-up */
        for (int r = 0; r < o->runs; r++) {
            double t0 = now_s(), c0 = cpu_s();
            enh_gemm_run(pb, a, m, k, c, n, &epi, o->pool);
            t[r] = now_s() - t0;
            cpu[r] = cpu_s() - c0;
        }
        qsort(t, (size_t)o->runs, sizeof *t, cmp_d);
        qsort(cpu, (size_t)o->runs, sizeof *cpu, cmp_d);
        const double flop = 2.0 * m * k * n, med = t[o->runs / 2], gf = flop / med / 1e9;
        printf("%-9s m=%-6d k=%-5d n=%-5d threads=%d  median %8.3f ms  min %8.3f ms  %6.1f GFLOP/s  %5.1f%% of peak"
               "  | CPU median %8.3f ms  %6.1f GFLOP/CPU-s  %5.1f%%\n",
               enh_gemm_b_kernel(pb), m, k, n, o->threads, med * 1e3, t[0] * 1e3, gf,
               100.0 * gf / (o->peak * o->threads), cpu[o->runs / 2] * 1e3, flop / cpu[o->runs / 2] / 1e9,
               100.0 * flop / cpu[o->runs / 2] / 1e9 / o->peak);
        fflush(stdout);
        free(t);
        enh_gemm_b_free(pb);
    }
    enh_free(a), enh_free(b), enh_free(c), enh_free(bias), enh_free(res);
}

int main(int argc, char **argv)
{
    opts o = {.threads = 1, .runs = 5, .act = ENH_GEMM_ACT_NONE};
    int m = 65536, k = 256, n = 256, sweep = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--m")) m = atoi(v), i++;
        else if (!strcmp(argv[i], "--k")) k = atoi(v), i++;
        else if (!strcmp(argv[i], "--n")) n = atoi(v), i++;
        else if (!strcmp(argv[i], "--threads")) o.threads = atoi(v), i++;
        else if (!strcmp(argv[i], "--runs")) o.runs = atoi(v), i++;
        else if (!strcmp(argv[i], "--paths")) o.paths = v, i++;
        else if (!strcmp(argv[i], "--peak")) o.peak = atof(v), i++;
        else if (!strcmp(argv[i], "--res")) o.res = 1;
        else if (!strcmp(argv[i], "--sweep")) sweep = 1;
        else if (!strcmp(argv[i], "--act")) {
            static const char *names[] = {"none", "relu", "gelu", "sigmoid", "leaky"};
            int found = 0;
            for (int j = 0; j < 5; j++)
                if (!strcmp(v, names[j]))
                    o.act = (enh_gemm_act)j, found = 1;
            if (!found) {
                fprintf(stderr, "--act: none, relu, gelu, sigmoid or leaky\n");
                return 1;
            }
            i++;
        } else {
            fprintf(stderr, "usage: bench_gemm [--m M] [--k K] [--n N] [--threads T] [--runs R] [--paths LIST] "
                            "[--act NAME] [--res] [--peak GFLOPS] [--sweep]\n");
            return 1;
        }
    }
    if (m < 1 || k < 1 || n < 1 || o.threads < 1 || o.runs < 1) {
        fprintf(stderr, "--m, --k, --n, --threads and --runs must be >= 1\n");
        return 1;
    }
    if (o.peak <= 0) {
        o.peak = 1.0;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            for (int i = 0; i < 5; i++) { /* the best of 5: other processes only slow it down */
                double p = peak_avx2();
                o.peak = p > o.peak ? p : o.peak;
            }
        printf("FMA peak, 1 core, AVX2 (measured, best of 5): %.1f GFLOP/s\n", o.peak);
    }
    o.pool = o.threads > 1 ? enh_pool_create(o.threads) : NULL;
    if (!sweep) {
        bench_shape(&o, m, k, n);
    } else {
        static const int kn[][2] = {{32, 32}, {64, 64}, {128, 128}, {256, 256}, {512, 512}, {32, 128},
                                    {128, 32}, {64, 256}, {256, 64}, {512, 128}, {128, 512}, {576, 64},
                                    {288, 32}, {1152, 128}, {2304, 256}, {64, 3}, {576, 3}, {64, 8},
                                    {16, 16}, {3, 64}};
        for (size_t i = 0; i < sizeof kn / sizeof kn[0]; i++)
            bench_shape(&o, m, kn[i][0], kn[i][1]);
    }
    enh_pool_destroy(o.pool);
    return 0;
}
