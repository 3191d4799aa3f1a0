/* resample_kernel.h - the interpolation kernels the resampler offers (no libvips dependency,
 * so the operations model can name them).
 *
 *   lanczos3  default: a = 3, 6 taps when enlarging (edge pixels replicated); reduction by
 *             libvips' lanczos3 reducer.
 *   cubic     MATLAB imresize 'bicubic' exactly: Keys cubic convolution a = -0.5, pixel
 *             centres aligned (x_src = (x_dst + 0.5)/s - 0.5), antialiased when reducing
 *             (kernel stretched by 1/s), borders mirrored symmetrically, the axis with the
 *             smaller scale first (rows first when equal), 8-bit images rounded half away
 *             from zero after each 1-D pass. This is the "bicubic" of SR papers' baselines.
 *   linear    MATLAB 'bilinear' (triangle, antialiased when reducing), same conventions.
 *   nearest   MATLAB 'nearest' (box, no antialiasing), same conventions.
 * Thread-safe (constant tables). Errors: ENH_EINVAL naming
 * the allowed kernels. */
#ifndef ENH_IMAGE_RESAMPLE_KERNEL_H
#define ENH_IMAGE_RESAMPLE_KERNEL_H

#include "core/error.h"

typedef enum {
    ENH_KERNEL_LANCZOS3 = 0,
    ENH_KERNEL_CUBIC,
    ENH_KERNEL_LINEAR,
    ENH_KERNEL_NEAREST
} enh_kernel;

/* "lanczos3", "cubic", "linear", "nearest" ("unknown" for an invalid value). */
const char *enh_kernel_name(enh_kernel k);
/* Parses a kernel name (case-insensitive; also "lanczos", "bicubic", "bilinear"). */
enh_status enh_kernel_from_name(const char *name, enh_kernel *k, enh_error *err);

#endif
