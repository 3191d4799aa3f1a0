/* tf_graph.c - names and small helpers of the TF graph (tf_graph.h). */
#include "nn/tf_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/tf_pack.h"

static const char *const op_names[TFOP_COUNT] = {
#define TF_OP_NAME(e, s) s,
    TF_OPS(TF_OP_NAME)
#undef TF_OP_NAME
};

const char *tf_op_name(tf_opk op)
{
    return (unsigned)op < TFOP_COUNT ? op_names[op] : "?";
}

int tf_op_from_name(const char *s)
{
    for (int i = 0; i < TFOP_COUNT; i++)
        if (!strcmp(op_names[i], s))
            return i;
    return -1;
}

const char *tf_dtype_name(tf_dtype dt)
{
    return dt == TF_F32 ? "float32" : dt == TF_I32 ? "int32" : "bool";
}

int tf_shape_eq(const tf_shape *a, const tf_shape *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i])
            return 0;
    return 1;
}

char *tf_shape_str(const tf_shape *s, char *buf, size_t size)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, size - k, "[");
    for (int i = 0; i < s->rank && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? ",%d" : "%d", s->d[i]);
    if (k < size)
        snprintf(buf + k, size - k, "]");
    return buf;
}

void tf_graph_free(tf_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n; i++) {
        free(g->nodes[i].name);
        free(g->nodes[i].in);
        enh_free(g->nodes[i].value.data);
    }
    free(g->nodes);
    tf_pack_cache_free(g->packs);
    free(g);
}

int tf_input_name(const char *s, size_t *len)
{
    if (s[0] == '^')
        return -2;
    const char *colon = strrchr(s, ':');
    if (colon && strcmp(colon + 1, "0"))
        return -1;
    *len = colon ? (size_t)(colon - s) : strlen(s);
    return 0;
}
