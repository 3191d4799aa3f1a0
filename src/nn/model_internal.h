/* model_internal.h - the model object's layout, shared by model.c (load, run) and
 * model_fuse.c (the conv epilogue fusions and shared transforms it finds at load and checks
 * per run). Not a public interface; see nn.h / model.h. */
#ifndef ENH_NN_MODEL_INTERNAL_H
#define ENH_NN_MODEL_INTERNAL_H

#include <pthread.h>

#include "nn/conv.h"
#include "nn/elt_tail.h"
#include "nn/memplan.h"
#include "nn/model.h"
#include "nn/ps_tail.h"

/* Activation arenas kept between runs: a fresh arena of tens of MiB is page-faulted in by
 * every run otherwise, and page faults serialise the threads on the process's address
 * space (x4fast 256x256 on 2 threads: 354 -> 228 ms). At most ARENA_KEEP arenas of at most
 * ARENA_KEEP_BYTES in all are kept per model; larger ones are freed after their run. */
#define ARENA_KEEP 4
#define ARENA_KEEP_BYTES ((size_t)512 << 20)

struct enh_model {
    enh_graph *g;
    enh_conv_plan **plans; /* per node, NULL for non-conv */
    enh_ps_tail *tails;    /* per node (fused models only, else NULL): tail.add >= 0 = fused tail */
    int *next_conv;        /* per node: the next conv node (its weights are prefetched), or -1 */
    int *elt_tail;         /* per node (fused models only): the Eltwise run in its epilogue, or -1 */
    int *early;            /* per node (fused models only): the node whose output its epilogue
                              writes, for the memory planner (enh_memplan_build_ex), or -1 */
    int *vkey;             /* per conv node: the channel-concat chain its input is a prefix of
                              (the chain's longest tensor), whose Winograd input transforms the
                              convs share (enh_conv_vcache), or -1; NULL = none */
    enh_model_info info;
    enh_nn_options opt;    /* what it was loaded with (plans made, vcache on or off) */
    pthread_mutex_t arena_mu;
    struct { float *p; size_t n; } arenas[ARENA_KEEP]; /* idle arenas (floats) */
    int narenas;
};

/* At load, for fused models: the epilogue tails (m->tails, m->elt_tail, m->early, info counts)
 * and the dense-block chains (m->vkey); shapes: the tensor shapes at any valid input size.
 * ENH_ENOMEM only. */
enh_status enh_model_find_fusions(enh_model *m, const enh_shape *shapes, enh_error *err);
/* Per run: whether conv node i's tail can be fused with this run's shapes and buffers, and
 * its arguments (T: the run's tensor pointers). */
int enh_model_ps_tail_setup(const enh_model *m, int i, const enh_memplan *mp, float *const *T, int n,
                            enh_ps_tail_run *tr);
int enh_model_elt_tail_setup(const enh_model *m, int i, const enh_memplan *mp, float *const *T, int n,
                             enh_elt_tail_run *er);

#endif
