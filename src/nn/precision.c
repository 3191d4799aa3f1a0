/* precision.c - see precision.h. */
#include "nn/precision.h"

#include <string.h>

#include "nn/cpu.h"

int enh_precision_parse(const char *s, enh_precision *out)
{
    if (!s || !*s || !strcmp(s, "auto") || !strcmp(s, "default"))
        *out = ENH_PRECISION_DEFAULT;
    else if (!strcmp(s, "fp32") || !strcmp(s, "f32") || !strcmp(s, "float32"))
        *out = ENH_PRECISION_FP32;
    else if (!strcmp(s, "bf16") || !strcmp(s, "bfloat16"))
        *out = ENH_PRECISION_BF16;
    else
        return -1;
    return 0;
}

const char *enh_precision_name(enh_precision p)
{
    switch (p) {
    case ENH_PRECISION_DEFAULT: return "default";
    case ENH_PRECISION_FP32: return "fp32";
    case ENH_PRECISION_BF16: return "bf16";
    }
    return "?";
}

enh_status enh_precision_resolve(enh_precision req, enh_precision *out, enh_error *err)
{
    *out = ENH_PRECISION_FP32;
    if (req == ENH_PRECISION_DEFAULT)
        req = ENH_PRECISION_FP32;
    if (req == ENH_PRECISION_BF16 && !enh_cpu_has_bf16())
        return enh_fail(err, ENH_EUNSUPPORTED,
                        "bf16 precision needs a CPU with AVX-512 and AVX512_BF16; this one lacks it: use fp32");
    *out = req;
    return ENH_OK;
}
