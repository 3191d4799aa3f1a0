/* resample_kernel.c - names of the resampling kernels (see resample_kernel.h). */
#include "image/resample_kernel.h"

#include <strings.h>

const char *enh_kernel_name(enh_kernel k)
{
    switch (k) {
    case ENH_KERNEL_LANCZOS3: return "lanczos3";
    case ENH_KERNEL_CUBIC: return "cubic";
    case ENH_KERNEL_LINEAR: return "linear";
    case ENH_KERNEL_NEAREST: return "nearest";
    }
    return "unknown";
}

enh_status enh_kernel_from_name(const char *name, enh_kernel *k, enh_error *err)
{
    static const struct {
        const char *name;
        enh_kernel k;
    } names[] = {{"lanczos3", ENH_KERNEL_LANCZOS3}, {"lanczos", ENH_KERNEL_LANCZOS3}, {"cubic", ENH_KERNEL_CUBIC},
                 {"bicubic", ENH_KERNEL_CUBIC},     {"linear", ENH_KERNEL_LINEAR},    {"bilinear", ENH_KERNEL_LINEAR},
                 {"nearest", ENH_KERNEL_NEAREST}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
        if (!strcasecmp(name, names[i].name)) {
            *k = names[i].k;
            return ENH_OK;
        }
    }
    return enh_fail(err, ENH_EINVAL, "unknown resampling kernel '%s' (use lanczos3, cubic, linear or nearest)",
                    name ? name : "");
}
