/* conv_plan_internal.h - what the conv plan files share (conv_plan.c creates plans,
 * conv_run.c runs them, conv_scratch.c holds their scratch). Not a public interface.
 * Thread-safety: plans are immutable after creation; the scratch functions are mutex-protected. */
#ifndef ENH_NN_CONV_PLAN_INTERNAL_H
#define ENH_NN_CONV_PLAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/conv.h"
#include "nn/conv_fast.h"
#include "nn/dwconv.h"

struct enh_conv_plan {
    enh_conv_params p; /* ref plans: owned copies of weight/bias/prelu; fast plans: NULLs */
    float *weight, *bias, *prelu;
    enh_conv_algo algo;
    const enh_fast_isa *isa;
    enh_fast_conv fc;
    float *wpack, *fbias, *fslope;
    uint32_t *wbf;      /* bf16 Winograd plans: packed bf16 weight pairs (wpack is NULL) */
    enh_precision prec; /* FP32 or BF16 */
    int ng_max;
    size_t npack; /* floats in wpack */
    const enh_dw_isa *dwisa; /* depthwise plans (dwconv.c: wpack = [c][kh*kw], p points at the
                                plan's copies), else NULL */
    enh_dw_conv dwc;
    char name[48];
};

/* dwconv.c: 1 when the depthwise kernel takes this shape (groups == cin == cout > 1); plan init
 * (pl->p set, weights borrowed; 0 when out of memory) and run (enh_conv_plan_run's contract). */
int enh_dw_applies(const enh_conv_params *p);
int enh_dw_plan_init(enh_conv_plan *pl, enh_isa isa);
void enh_dw_plan_run(const enh_conv_plan *pl, const float *in, int n, int h, int w, float *out,
                     const float *residual, enh_pool *pool);

/* conv_scratch.c: per-slot scratch buffers, recycled across calls (NULL when out of memory) */
float *enh_conv_scratch_acquire(size_t n);
void enh_conv_scratch_release(float *p, size_t n);
/* A run's scratch: one buffer of `floats` floats per pool slot, all or none. A local of the
 * run (it points into itself: never copy it). */
#define ENH_CONV_SLOTS_ON_STACK 17
typedef struct enh_conv_slots {
    float **bufs; /* [slot]; valid between a successful acquire and the release */
    float *stack[ENH_CONV_SLOTS_ON_STACK];
    int n;
    size_t floats;
} enh_conv_slots;
/* 1 with nslots buffers held, or 0 with none (out of memory: the caller's fallback runs). */
int enh_conv_slots_acquire(enh_conv_slots *s, int nslots, size_t floats);
void enh_conv_slots_release(enh_conv_slots *s);
/* The reserve: one process-wide buffer of at least n floats that a run without scratch waits
 * for, so runs never fail. ensure returns 0 when it cannot be grown. */
int enh_conv_reserve_ensure(size_t n);
float *enh_conv_reserve_take(void);
void enh_conv_reserve_give(void);

#endif
