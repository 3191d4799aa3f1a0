/* tf_step.c - releasing what a plan step owns (tf_fuse.h): a leaf file, so the fusion passes
 * in several files can clear the steps they rewrite without depending on each other. */
#include "core/mem.h"
#include "nn/tf_ew.h"
#include "nn/tf_fuse.h"

void tf_step_clear(tf_step *s)
{
    if (!s->gemm_shared)
        enh_gemm_b_free(s->gemm);
    enh_free(s->bias);
    tf_ew_free(s->ew);
    tf_axismix_free(s->mix);
    s->gemm_shared = 0;
    s->gemm = NULL, s->bias = NULL, s->ew = NULL, s->mix = NULL;
}
