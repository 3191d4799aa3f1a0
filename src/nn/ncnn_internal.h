/* ncnn_internal.h - shared between the ncnn .param parser (ncnn_load.c), the per-layer
 * translators (ncnn_layers.c) and the readers both use (ncnn_read.c). Internal to src/nn. */
#ifndef ENH_NN_NCNN_INTERNAL_H
#define ENH_NN_NCNN_INTERNAL_H

#include <stddef.h>

#include "nn/graph.h"

#define NCNN_MAX_PARAMS 32
#define NCNN_MAX_ARRAY 64

typedef struct {
    int i;
    float f;
} ncnn_value;

typedef struct {
    unsigned char set[NCNN_MAX_PARAMS]; /* 0 unset, 1 scalar, 2 array */
    ncnn_value v[NCNN_MAX_PARAMS];
    ncnn_value arr[NCNN_MAX_PARAMS][NCNN_MAX_ARRAY];
    int arrn[NCNN_MAX_PARAMS];
} ncnn_params;

typedef struct {
    const unsigned char *data;
    size_t len, off;
    const char *name;
} ncnn_bin;

typedef struct {
    const char *type, *name, *where;
    int nin;
    const int *in;
    const ncnn_params *pd;
    ncnn_bin *bin;
} ncnn_layer;

/* ncnn_read.c: a scalar parameter, or def when unset */
int ncnn_pi(const ncnn_params *pd, int id, int def);
float ncnn_pf(const ncnn_params *pd, int id, float def);

/* Weight readers: advance bin->off; messages give the byte offset. */
enh_status ncnn_read_raw(ncnn_bin *r, size_t n, float **out, const char *layer, const char *what,
                         enh_error *err);
enh_status ncnn_read_tagged(ncnn_bin *r, size_t n, float **out, const char *layer, const char *what,
                            enh_error *err);

/* Appends the node(s) for one layer, writing tensor id `out`. */
enh_status ncnn_build_layer(enh_graph *g, const ncnn_layer *L, int out, enh_error *err);

#endif
