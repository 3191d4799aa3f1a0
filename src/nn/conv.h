/* conv.h - 2-D convolution: the contract shared by the reference kernel (the oracle,
 * conv_ref.c) and the fast kernels (conv_fast*.c, chosen at run time by CPU features).
 *
 * Data: float32 NCHW. Weights OIHW (cout x cin/groups x kh x kw). The output element is
 *   act(bias[o] + sum_{i,ky,kx} w[o][i][ky][kx] * in[i][y*sh - pad_top + ky*dh][x*sw - pad_left + kx*dw])
 * with zero padding, then `+ residual[o][y][x]` when a residual tensor is given
 * (residual is added after the activation, as in x + f(x) blocks).
 * Depthwise convs (groups == cin == cout) get a kernel of their own (dwconv.h).
 * enh_conv_params only borrows its arrays; plans copy what they need.
 * Thread-safety: a plan is immutable after creation; run it from any number of threads.
 */
#ifndef ENH_NN_CONV_H
#define ENH_NN_CONV_H

#include <stddef.h>

#include "core/error.h"
#include "core/pool.h"
#include "nn/nn_options.h"
#include "nn/precision.h"

typedef enum { ENH_ACT_NONE = 0, ENH_ACT_RELU, ENH_ACT_LEAKY, ENH_ACT_PRELU, ENH_ACT_CLIP } enh_act;

typedef struct enh_conv_params {
    int cin, cout, kh, kw;
    int stride_h, stride_w;    /* >= 1 */
    int dil_h, dil_w;          /* >= 1 */
    int pad_top, pad_left, pad_bottom, pad_right;
    int groups;                /* >= 1; cin and cout divisible by it */
    enh_act act;
    float act_slope;           /* LEAKY: negative slope */
    const float *prelu;        /* PRELU: cout slopes (or 1 shared when prelu_count == 1) */
    int prelu_count;
    float clip_lo, clip_hi;    /* CLIP: v < lo ? lo : v > hi ? hi : v (ReLU6: 0, 6) */
    const float *weight;       /* cout * (cin/groups) * kh * kw */
    const float *bias;         /* cout, or NULL */
} enh_conv_params;

/* Output size for an input of h x w (<= 0 when the input is too small). */
void enh_conv_out_size(const enh_conv_params *p, int h, int w, int *oh, int *ow);

/* Reference kernel: plain C, obviously correct, the oracle. in: n x cin x h x w,
 * out: n x cout x oh x ow, residual: NULL or same shape as out. Parallel over (n, cout). */
void enh_conv2d_ref(const enh_conv_params *p, const float *in, int n, int h, int w, float *out,
                    const float *residual, enh_pool *pool);


/* ---- plans: the fast path (conv_plan*.c). A plan pre-packs/pre-transforms the weights
 * once (at model load) and picks the fastest kernel this CPU supports for the shape;
 * it falls back to the reference kernel for shapes it does not specialise.
 * The path, algorithm and precision come from runtime options (nn_options.h). */
typedef struct enh_conv_plan enh_conv_plan;

enh_status enh_conv_plan_create(const enh_conv_params *p, enh_conv_plan **out, enh_error *err);
void enh_conv_plan_free(enh_conv_plan *plan);
/* Same semantics as enh_conv2d_ref. */
void enh_conv_plan_run(const enh_conv_plan *plan, const float *in, int n, int h, int w, float *out,
                       const float *residual, enh_pool *pool);
/* Epilogue hook: called once per finished piece of the output, with the box rows [y0,y1) x
 * cols [x0,x1) of image img, complete in every output channel and still in this core's cache
 * (the executor pixel-shuffles a model's last conv there, ps_tail.h). Boxes never overlap and
 * together cover the output; they come from the pool's threads in any order. */
typedef void (*enh_conv_post_fn)(void *ctx, int img, int y0, int y1, int x0, int x1);
/* Winograd-transformed inputs kept across the convs of a dense block, whose inputs are the
 * growing prefixes of one channel concat (x4plus's RDBs: 64, 96, ..., 192 channels): each conv
 * transforms only the channels the previous ones did not. One per chain and run, zeroed
 * (= empty) before its first conv; the caller guarantees that channel c is the same tensor
 * data in every conv it is passed to. enh_conv_vcache_free releases it. Not thread-safe. */
typedef struct enh_conv_vcache {
    float *base;       /* owned */
    size_t cap_floats;
    int done;          /* channels transformed so far */
    int ng, n, h, w;   /* the block geometry they were stored with */
} enh_conv_vcache;
void enh_conv_vcache_free(enh_conv_vcache *vc);

/* enh_conv_plan_run, then post (if not NULL) on every piece of the output as soon as it is
 * written. next (or NULL): the plan that runs after this one; its packed weights are prefetched
 * while this one computes (a hint, no effect on the result). vc (or NULL): see enh_conv_vcache;
 * cmax = channels of the chain's longest input. Results are bit-identical with or without it. */
void enh_conv_plan_run_ex(const enh_conv_plan *plan, const float *in, int n, int h, int w, float *out,
                          const float *residual, enh_pool *pool, enh_conv_post_fn post, void *post_ctx,
                          const enh_conv_plan *next, enh_conv_vcache *vc, int cmax);
/* Name of the kernel the plan runs ("ref", "avx512-direct", "avx512-winograd4x4", ...). */
const char *enh_conv_plan_kernel(const enh_conv_plan *plan);
/* As enh_conv_plan_create (which is this with the process default options) with options
 * (nn_options.h; NULL = the default). A forced kernel path applies to every shape, a forced
 * Winograd where it applies. BF16: shapes enh_conv_bf16_applies() accepts get an
 * "avx512bf16-winograd4x4" plan, the others the usual fp32 plan. Errors: enh_nn_options_check's
 * (ENH_EUNSUPPORTED: a path or bf16 the CPU lacks; ENH_EINVAL: bf16 with another path forced). */
enh_status enh_conv_plan_create_ex(const enh_conv_params *p, const enh_nn_options *opt, enh_conv_plan **out,
                                   enh_error *err);
/* ENH_PRECISION_FP32 or ENH_PRECISION_BF16: what the plan computes in. */
enh_precision enh_conv_plan_precision(const enh_conv_plan *plan);
/* 1 when a BF16 request runs this shape in bf16: Winograd shape, >= 16 input and output channels
 * (thinner layers gain nothing and the last layer's error would reach the image unfiltered). */
int enh_conv_bf16_applies(const enh_conv_params *p);

#endif
