/* gemm_portable.c - portable instance of the GEMM block kernel (gemm_tmpl.h), using GCC/Clang
 * vector extensions (4 floats: SSE2 on x86-64, NEON elsewhere): 4x8 micro-tiles.
 * Runs on any CPU. Thread-safe, never fails. */
#include <math.h>
#include <string.h>

#include "nn/gemm_internal.h"

#define VW 4
#define MR 4
#define NV 2
#define MC 96
#define KC 256
#define FN(x) x##_portable
#define KERN_NAME "portable"

typedef float vf __attribute__((vector_size(16)));
typedef int vi __attribute__((vector_size(16)));

static inline vf v_load(const float *p)
{
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v_store(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf v_set1(float x) { return (vf){x, x, x, x}; }
static inline vf v_bcast(const float *p) { return v_set1(*p); }
static inline vf v_zero(void) { return (vf){0, 0, 0, 0}; }
static inline vf v_add(vf a, vf b) { return a + b; }
static inline vf v_sub(vf a, vf b) { return a - b; }
static inline vf v_mul(vf a, vf b) { return a * b; }
static inline vf v_fma(vf a, vf b, vf c) { return a * b + c; }
static inline vf v_sel(vi m, vf a, vf b) { return (vf)(((vi)a & m) | ((vi)b & ~m)); }
static inline vf v_max(vf a, vf b) { return v_sel(a > b, a, b); }
static inline vf v_min(vf a, vf b) { return v_sel(a < b, a, b); }
static inline vf v_div(vf a, vf b) { return a / b; }
static inline vf v_exp(vf x) /* libm, lane by lane: this path is the fallback, not the fast one */
{
    return (vf){expf(x[0]), expf(x[1]), expf(x[2]), expf(x[3])};
}

#include "nn/gemm_tmpl.h"
