/* conv_plan.c - conv plans. PLACEHOLDER until the fast kernels land (issue 4): every
 * plan copies the parameters and runs the reference kernel. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/conv.h"

struct enh_conv_plan {
    enh_conv_params p;
    float *weight, *bias, *prelu;
};

static float *dup_floats(const float *src, size_t n)
{
    if (!src || !n)
        return NULL;
    float *d = enh_alloc(n * sizeof *d);
    if (d)
        memcpy(d, src, n * sizeof *d);
    return d;
}

enh_status enh_conv_plan_create(const enh_conv_params *p, enh_conv_plan **out, enh_error *err)
{
    *out = NULL;
    if (p->cin <= 0 || p->cout <= 0 || p->kh <= 0 || p->kw <= 0 || p->groups <= 0 ||
        p->cin % p->groups || p->cout % p->groups || p->stride_h <= 0 || p->stride_w <= 0 ||
        p->dil_h <= 0 || p->dil_w <= 0)
        return enh_fail(err, ENH_EINVAL, "invalid convolution shape");
    enh_conv_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    plan->p = *p;
    size_t nw = (size_t)p->cout * (p->cin / p->groups) * p->kh * p->kw;
    plan->weight = dup_floats(p->weight, nw);
    plan->bias = dup_floats(p->bias, (size_t)p->cout);
    plan->prelu = p->act == ENH_ACT_PRELU ? dup_floats(p->prelu, (size_t)p->prelu_count) : NULL;
    if (!plan->weight || (p->bias && !plan->bias) || (p->act == ENH_ACT_PRELU && !plan->prelu)) {
        enh_conv_plan_free(plan);
        return enh_fail(err, ENH_ENOMEM, "out of memory packing convolution weights");
    }
    plan->p.weight = plan->weight;
    plan->p.bias = plan->bias;
    plan->p.prelu = plan->prelu;
    *out = plan;
    return ENH_OK;
}

void enh_conv_plan_free(enh_conv_plan *plan)
{
    if (!plan)
        return;
    enh_free(plan->weight);
    enh_free(plan->bias);
    enh_free(plan->prelu);
    free(plan);
}

void enh_conv_plan_run(const enh_conv_plan *plan, const float *in, int n, int h, int w, float *out,
                       const float *residual, enh_pool *pool)
{
    enh_conv2d_ref(&plan->p, in, n, h, w, out, residual, pool);
}

const char *enh_conv_plan_kernel(const enh_conv_plan *plan)
{
    (void)plan;
    return "ref";
}
