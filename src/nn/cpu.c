/* cpu.c - see cpu.h. */
#include "nn/cpu.h"

#include <pthread.h>
#include <string.h>

static enh_cpu_features g_feat;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void detect(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    g_feat.avx2 = __builtin_cpu_supports("avx2") != 0;
    g_feat.fma = __builtin_cpu_supports("fma") != 0;
    g_feat.avx512f = __builtin_cpu_supports("avx512f") != 0;
    g_feat.avx512bw = __builtin_cpu_supports("avx512bw") != 0;
    g_feat.avx512vl = __builtin_cpu_supports("avx512vl") != 0;
    g_feat.avx512dq = __builtin_cpu_supports("avx512dq") != 0;
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
    g_feat.avx512bf16 = __builtin_cpu_supports("avx512bf16") != 0;
#endif
    /* f16c is not a __builtin_cpu_supports name on every compiler: AVX2 CPUs have it. */
    g_feat.f16c = g_feat.avx2;
#endif
}

const enh_cpu_features *enh_cpu_get(void)
{
    pthread_once(&g_once, detect);
    return &g_feat;
}

int enh_cpu_isa_supported(enh_isa isa)
{
    const enh_cpu_features *f = enh_cpu_get();
    switch (isa) {
    case ENH_ISA_REF:
    case ENH_ISA_PORTABLE:
    case ENH_ISA_AUTO: return 1;
    case ENH_ISA_AVX2: return f->avx2 && f->fma;
    case ENH_ISA_AVX512: return f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq && f->fma;
    }
    return 0;
}

enh_isa enh_cpu_best_isa(void)
{
    if (enh_cpu_isa_supported(ENH_ISA_AVX512))
        return ENH_ISA_AVX512;
    if (enh_cpu_isa_supported(ENH_ISA_AVX2))
        return ENH_ISA_AVX2;
    return ENH_ISA_PORTABLE;
}

int enh_cpu_has_bf16(void)
{
    return enh_cpu_isa_supported(ENH_ISA_AVX512) && enh_cpu_get()->avx512bf16;
}

int enh_isa_parse(const char *s, enh_isa *out)
{
    static const struct { const char *name; enh_isa isa; } names[] = {
        {"ref", ENH_ISA_REF},       {"portable", ENH_ISA_PORTABLE}, {"avx2", ENH_ISA_AVX2},
        {"avx512", ENH_ISA_AVX512}, {"auto", ENH_ISA_AUTO},         {"", ENH_ISA_AUTO},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(s, names[i].name)) {
            *out = names[i].isa;
            return 0;
        }
    }
    return -1;
}

const char *enh_isa_name(enh_isa isa)
{
    switch (isa) {
    case ENH_ISA_REF: return "ref";
    case ENH_ISA_PORTABLE: return "portable";
    case ENH_ISA_AVX2: return "avx2";
    case ENH_ISA_AVX512: return "avx512";
    case ENH_ISA_AUTO: return "auto";
    }
    return "?";
}
