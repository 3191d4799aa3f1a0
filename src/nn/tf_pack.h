/* tf_pack.h - a graph's cache of packed GEMM weights, shared by its specialisations (tf_pack.c).
 * Ownership: the cache owns the packed matrices it hands out (callers never free them).
 * Thread-safety: internally locked. Errors: ENH_ENOMEM, or enh_gemm_pack_b's. */
#ifndef ENH_NN_TF_PACK_H
#define ENH_NN_TF_PACK_H

#include "nn/gemm.h"

typedef struct tf_pack_cache tf_pack_cache;

tf_pack_cache *tf_pack_cache_new(void);
void tf_pack_cache_free(tf_pack_cache *c);
/* The packed B for weight `w` (k x n, row-major) identified by `key` (the graph constant it comes
 * from), with `bias` (NULL = none) and a layout tag (0 as is, 1 re-laid for a transposed conv). */
enh_status tf_pack_get(tf_pack_cache *c, const void *key, const float *w, int k, int n, const float *bias, int tag,
                       enh_gemm_b **out, enh_error *err);

#endif
