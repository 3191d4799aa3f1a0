/* v4.h - 4-float vectors (GCC/Clang vector extensions, any target) for the generic-code loops
 * that gcc -O2 leaves scalar (it vectorises no loop of unknown length): unaligned loads and
 * stores through memcpy. Used by the conv epilogue tails (ps_tail.c, elt_tail.c). Pure. */
#ifndef ENH_NN_V4_H
#define ENH_NN_V4_H

#include <string.h>

typedef float v4 __attribute__((vector_size(16)));

static inline v4 ld4(const float *p)
{
    v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st4(float *p, v4 v) { memcpy(p, &v, sizeof v); }

#endif
