/* memplan.h - activation memory planner: gives every intermediate tensor of a graph a
 * place in one arena for a given input shape, reusing the place of tensors that are no
 * longer live (liveness = from the producing node to the last reading node). The graph
 * input and output are external (the caller's buffers) and get no arena space.
 * Slots: a tensor takes the smallest free slot that fits, else the largest free slot
 * (grown), else a new slot; so an arena is never larger than the sum of all tensors.
 * In-place concats (one image only, memplan_concat.c): the inputs of a chain of channel
 * concats whose input lists are prefixes of the longest are placed end to end inside the
 * longest concat's buffer, which lives from the first input's production to the last read
 * of any of them; those concat nodes are marked `skip` (their output is already there).
 * Thread-safety: pure. Errors: ENH_ENOMEM, or shape errors from inference. */
#ifndef ENH_NN_MEMPLAN_H
#define ENH_NN_MEMPLAN_H

#include <stddef.h>

#include "nn/graph.h"

#define ENH_MEMPLAN_EXTERNAL ((size_t)-1)

typedef struct enh_memplan {
    int ntensors;
    enh_shape *shapes;    /* per image */
    size_t *offset;       /* in floats from the arena start (n images included), or EXTERNAL */
    size_t arena_floats;  /* arena size for n images */
    size_t total_floats;  /* what one buffer per tensor would need (for reporting) */
    unsigned char *skip;  /* per node: 1 = nothing to compute (an in-place concat) */
} enh_memplan;

enh_status enh_memplan_build(const enh_graph *g, int n, int c, int h, int w, enh_memplan *mp,
                             enh_error *err);
/* The same, where early (per node, or NULL) names for node i a later node (or -1) whose output
 * node i's epilogue writes: that output is placed when node i's is, so it never shares memory
 * with node i's inputs (a fused conv epilogue, ps_tail.h / elt_tail.h). */
enh_status enh_memplan_build_ex(const enh_graph *g, int n, int c, int h, int w, const int *early,
                                enh_memplan *mp, enh_error *err);
void enh_memplan_free(enh_memplan *mp);

/* memplan_concat.c: finds the in-place concat chains. root[t] (preset to -1) becomes the
 * tensor whose buffer holds t, at float offset choff[t] (per image); skip[node] = 1 for the
 * concats that need no copy. Returns -1 when out of memory (nothing is placed then). */
int enh_memplan_concat_views(const enh_graph *g, const enh_shape *shapes, int *root, size_t *choff,
                             unsigned char *skip);

#endif
