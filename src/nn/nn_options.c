/* nn_options.c - see nn_options.h. */
#include "nn/nn_options.h"

#include <stdio.h>
#include <string.h>

static enh_nn_options g_default; /* zeroed: the built-in defaults */

const enh_nn_options *enh_nn_options_default(void) { return &g_default; }

void enh_nn_options_set_default(const enh_nn_options *o)
{
    if (o)
        g_default = *o;
    else
        memset(&g_default, 0, sizeof g_default);
}

/* cpu.h: code without options of its own follows the process default's kernel path. */
int enh_cpu_requested_isa(enh_isa *out)
{
    *out = g_default.kernels;
    return 0;
}

enh_status enh_nn_options_check(const enh_nn_options *o, enh_error *err)
{
    o = enh_nn_options_or_default(o);
    if (o->wino_budget_kb < 0)
        return enh_fail(err, ENH_EINVAL, "the Winograd budget must be >= 0 KiB (0 = the default), got %d",
                        o->wino_budget_kb);
    if (!enh_cpu_isa_supported(o->kernels))
        return enh_fail(err, ENH_EUNSUPPORTED,
                        "kernel path '%s' is not supported by this CPU (use auto, or a path it has)",
                        enh_isa_name(o->kernels));
    enh_precision prec;
    enh_status st = enh_precision_resolve(o->precision, &prec, err);
    if (st != ENH_OK)
        return st;
    if (prec == ENH_PRECISION_BF16 && ((o->kernels != ENH_ISA_AUTO && o->kernels != ENH_ISA_AVX512) ||
                                       (o->conv_algo != ENH_ALGO_AUTO && o->conv_algo != ENH_ALGO_WINO)))
        return enh_fail(err, ENH_EINVAL,
                        "bf16 precision runs the avx512 Winograd kernels, not kernels=%s algo=%s: leave the "
                        "kernel path and algorithm on auto (or avx512 / wino), or use fp32",
                        enh_isa_name(o->kernels), enh_conv_algo_name(o->conv_algo));
    return ENH_OK;
}

void enh_nn_options_describe(const enh_nn_options *o, char *buf, size_t n)
{
    o = enh_nn_options_or_default(o);
    snprintf(buf, n, "%s kernels=%s algo=%s wino_kb=%d vcache=%s",
             enh_precision_name(o->precision == ENH_PRECISION_DEFAULT ? ENH_PRECISION_FP32 : o->precision),
             enh_isa_name(o->kernels), enh_conv_algo_name(o->conv_algo),
             o->wino_budget_kb > 0 ? o->wino_budget_kb : 512, o->no_vcache ? "off" : "on");
}

int enh_conv_algo_parse(const char *s, enh_conv_algo *out)
{
    static const struct { const char *name; enh_conv_algo a; } names[] = {
        {"", ENH_ALGO_AUTO}, {"auto", ENH_ALGO_AUTO}, {"wino", ENH_ALGO_WINO}, {"winograd", ENH_ALGO_WINO},
        {"gemm", ENH_ALGO_GEMM}, {"ref", ENH_ALGO_REF},
    };
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name)) {
            *out = names[i].a;
            return 0;
        }
    return -1;
}

const char *enh_conv_algo_name(enh_conv_algo a)
{
    switch (a) {
    case ENH_ALGO_AUTO: return "auto";
    case ENH_ALGO_REF: return "ref";
    case ENH_ALGO_WINO: return "wino";
    case ENH_ALGO_GEMM: return "gemm";
    }
    return "?";
}
