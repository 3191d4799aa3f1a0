/* tf_ew_internal.h - the element-wise program's layout, shared by tf_ew.c (grouping, running,
 * matching) and tf_move.c (copies and reductions built as programs or steps). */
#ifndef ENH_NN_TF_EW_INTERNAL_H
#define ENH_NN_TF_EW_INTERNAL_H

#include "nn/tf_ew.h"

#define EW_MAXINSTR 64
#define EW_BLOCK 256

typedef struct {
    unsigned char kind; /* 0 unary, 1 binary, 2 select */
    unsigned char fn;   /* tf_unary / tf_binary */
    short dst, a, b, c;
} ew_instr;

struct tf_ew_prog {
    int nleaf, ninstr, nreg;
    int leaf_val[TF_STEP_MAXIN];
    unsigned char leaf_int[TF_STEP_MAXIN]; /* bool leaves stored as int32 0/1 */
    int rank;                              /* collapsed */
    int dim[TF_MAXRANK];
    long st[TF_STEP_MAXIN][TF_MAXRANK];    /* leaf strides over the collapsed dims */
    long base[TF_STEP_MAXIN];              /* leaf element offsets (slices) */
    size_t count;
    ew_instr ins[EW_MAXINSTR];
};

/* Collapses os and the leaves' strides (leaf 0's given explicitly when leaf0_st != NULL). */
void tf_ew_compile_strides(tf_ew_prog *e, const tf_plan *p, const tf_shape *os, const long *leaf0_st);


#endif
