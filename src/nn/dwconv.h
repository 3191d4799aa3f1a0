/* dwconv.h - internal interface of the depthwise convolution (groups == cin == cout): the plan
 * side (conv_plan.c makes such plans, conv_run.c runs them through dwconv.c) and the per-ISA
 * kernels (dwconv_portable.c, dwconv_avx2.c, both generated from dwconv_tmpl.h). Not a public
 * API: the executor only sees conv.h; the reference twin is enh_conv2d_ref (conv_ref.c).
 *
 * Layout: planar NCHW in and out, as every conv. One "unit" of work is one output plane
 * (image, channel) restricted to one band of output rows; unit u is
 *   ((img * nbands) + band) * C + channel,
 * so consecutive units walk the channels of one band and a thread's contiguous lane of units
 * (pool.h) is the same band of the image in every layer (DESIGN.md: locality across layers).
 * Wide stride-1 rows are read in place (masked loads at the left/right edges); otherwise the
 * input rows a band needs are first split into stride phases (row[j*s + p]; stride 1: a copy)
 * with zero margins, so every tap becomes a plain contiguous load (on 14- and 7-wide maps
 * nearly every vector touches an edge).
 * Thread-safety: the packed weights are read-only; each call works in the scratch it is given.
 * Kernels never fail and never allocate. */
#ifndef ENH_NN_DWCONV_H
#define ENH_NN_DWCONV_H

#include <stddef.h>

#include "core/pool.h"

#define ENH_DW_MAX_KW 64 /* wider kernels take the grouped im2col+GEMM path */

typedef struct enh_dw_conv {
    int c, kh, kw, sh, sw, dh, dw, pt, pl;
    int act;            /* 0: none, 1: v < 0 ? v * slope[ch] : v, 2: clip to [lo, hi] */
    float lo, hi;
    const float *w;     /* [c][kh * kw] */
    const float *bias;  /* [c] (zeros when the conv has none) */
    const float *slope; /* [c] */
} enh_dw_conv;

typedef struct enh_dw_job {
    const enh_dw_conv *c;
    const float *in;
    float *out;
    const float *res;   /* NULL or the output's shape: added after the activation */
    int n, h, w, oh, ow;
    int nbands, band;   /* bands per plane, output rows per band (the last may be shorter) */
    int direct;         /* 1: stride 1 read in place; 0: phase-split rows */
    int sub;            /* split rows: output rows per split pass (bounds the scratch) */
    float *const *scratch; /* one per pool slot */
} enh_dw_job;

typedef void (*enh_dw_fn)(const enh_dw_job *j, size_t u0, size_t u1, float *scratch);

typedef struct enh_dw_isa {
    const char *name; /* "portable", "avx2" */
    int vw;           /* floats per vector */
    enh_dw_fn units;
} enh_dw_isa;

extern const enh_dw_isa enh_dw_isa_portable;
extern const enh_dw_isa enh_dw_isa_avx2;

static inline int enh_dw_floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Stride >= 2: one phase of a split input row holds row[j*s + p] at ml + j for j in
 * [-ml, len - ml) (zero outside the row), so output x, tap offset t = kx*dw - pl, reads phase
 * t mod s at ml + x + floor(t / s) for x up to the last vector's end. A split row is s * len
 * floats. */
static inline void enh_dw_phase_geom(const enh_dw_conv *c, int ow, int vw, int *ml, int *len)
{
    int smin = enh_dw_floor_div(-c->pl, c->sw), smax = enh_dw_floor_div((c->kw - 1) * c->dw - c->pl, c->sw);
    *ml = smin < 0 ? -smin : 0;
    *len = *ml + smax + (ow + vw - 1) / vw * vw;
}

#endif
