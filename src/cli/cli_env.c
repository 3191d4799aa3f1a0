/* cli_env.c - see cli_env.h. */
#include "cli/cli_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/pool.h"
#include "nn/manifest.h"
#include "nn/nn_options.h"

/* A non-negative integer in [0, max], or -1. */
static long parse_count(const char *s, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v >= 0 && v <= max ? v : -1;
}

static int bad(char *msg, size_t n, const char *var, const char *v, const char *allowed)
{
    snprintf(msg, n, "%s must be %s, got '%s' (unset it for the default)", var, allowed, v);
    return 1;
}

int cli_env_apply(char *msg, size_t n)
{
    const char *v;
    char dir[4096];
    enh_models_dir_rule(getenv("ENHANCE_MODELS_DIR"), getenv("XDG_CACHE_HOME"), getenv("HOME"), dir, sizeof dir);
    enh_models_set_default_dir(dir);
    if ((v = getenv("ENHANCE_LOG"))) {
        static const char *const names[] = {"error", "warn", "info", "debug"};
        int l = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(v, names[i]))
                l = i;
        if (l < 0)
            return bad(msg, n, "ENHANCE_LOG", v, "error, warn, info or debug");
        enh_log_set_level((enh_log_level)l);
    }
    if ((v = getenv("ENHANCE_THREADS")) && *v) {
        long t = parse_count(v, 1024);
        if (t < 0)
            return bad(msg, n, "ENHANCE_THREADS", v, "a thread count in 0..1024 (0 = one per CPU)");
        enh_pool_default_set_threads((int)t);
    }
    if ((v = getenv("ENHANCE_POOL_SPIN_US")) && *v) {
        long us = parse_count(v, 10000000);
        if (us < 0)
            return bad(msg, n, "ENHANCE_POOL_SPIN_US", v, "microseconds, 0..10000000");
        enh_pool_set_spin_us((double)us);
    }
    enh_nn_options o = *enh_nn_options_default();
    if ((v = getenv("ENHANCE_PRECISION")) && enh_precision_parse(v, &o.precision) != 0)
        return bad(msg, n, "ENHANCE_PRECISION", v, "fp32, bf16 or auto");
    if ((v = getenv("ENHANCE_KERNELS")) && enh_isa_parse(v, &o.kernels) != 0)
        return bad(msg, n, "ENHANCE_KERNELS", v, "ref, portable, avx2, avx512 or auto");
    if ((v = getenv("ENHANCE_CONV_ALGO")) && enh_conv_algo_parse(v, &o.conv_algo) != 0)
        return bad(msg, n, "ENHANCE_CONV_ALGO", v, "wino, gemm, ref or auto");
    if ((v = getenv("ENH_WINO_BUDGET_KB")) && *v) {
        long kb = parse_count(v, 1 << 20);
        if (kb < 0)
            return bad(msg, n, "ENH_WINO_BUDGET_KB", v, "KiB, 0..1048576 (0 = the default 512)");
        o.wino_budget_kb = (int)kb;
    }
    if ((v = getenv("ENHANCE_NO_VCACHE")))
        o.no_vcache = *v && strcmp(v, "0") != 0;
    enh_nn_options_set_default(&o);
    return 0;
}
