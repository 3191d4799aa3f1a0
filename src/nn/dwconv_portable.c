/* dwconv_portable.c - portable instance of the depthwise conv kernel (dwconv_tmpl.h), on the
 * 4-float vector extensions of conv_fast_vec_portable.h. Runs on any CPU. Thread-safe, never
 * fails. */
#include "nn/conv_fast_vec_portable.h"

#define VW 4
#define FN(x) x##_portable
#define ISA_NAME "portable"

#include "nn/dwconv_tmpl.h"
