/* onnx_pb.h - a minimal protobuf reader for ONNX backend node tests: the NodeProto of
 * model.onnx (op_type, inputs, attributes) and float TensorProtos (input_N.pb /
 * output_N.pb). Only what the node tests use; every read is bounds-checked. */
#ifndef ENH_TESTS_ONNX_PB_H
#define ENH_TESTS_ONNX_PB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *p, *end;
} pb_buf;

static inline int pb_varint(pb_buf *b, uint64_t *v)
{
    *v = 0;
    for (int s = 0; s < 64 && b->p < b->end; s += 7) {
        unsigned char c = *b->p++;
        *v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80))
            return 0;
    }
    return -1;
}

/* next field: number, wire type; for wire type 2 *sub is the payload; returns -1 at end/error */
static inline int pb_next(pb_buf *b, int *field, int *wt, uint64_t *v, pb_buf *sub)
{
    uint64_t key;
    if (b->p >= b->end || pb_varint(b, &key))
        return -1;
    *field = (int)(key >> 3);
    *wt = (int)(key & 7);
    switch (*wt) {
    case 0: return pb_varint(b, v);
    case 1:
        if (b->end - b->p < 8)
            return -1;
        memcpy(v, b->p, 8);
        b->p += 8;
        return 0;
    case 5: {
        if (b->end - b->p < 4)
            return -1;
        uint32_t x;
        memcpy(&x, b->p, 4);
        *v = x;
        b->p += 4;
        return 0;
    }
    case 2:
        if (pb_varint(b, v) || (uint64_t)(b->end - b->p) < *v)
            return -1;
        sub->p = b->p;
        sub->end = b->p + *v;
        b->p += *v;
        return 0;
    default: return -1;
    }
}

typedef struct {
    int ndims;
    long long dims[8];
    float *data;
    size_t n;
} onnx_tensor;

static inline long long onnx_numel(const onnx_tensor *t)
{
    long long n = 1;
    for (int i = 0; i < t->ndims; i++)
        n *= t->dims[i];
    return n;
}

/* Reads a float (or int64, converted) TensorProto. 0 ok. */
static inline int onnx_read_tensor(const char *path, onnx_tensor *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static unsigned char buf[1 << 22];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    pb_buf b = {buf, buf + len}, sub;
    int field, wt, type = 0;
    uint64_t v;
    const unsigned char *raw = NULL;
    size_t raw_len = 0;
    float *fl = malloc(len + 16);
    long long *i64 = malloc(len * 8 + 16);
    size_t nf = 0, ni = 0;
    while (pb_next(&b, &field, &wt, &v, &sub) == 0) {
        if (field == 1 && wt == 0 && t->ndims < 8)
            t->dims[t->ndims++] = (long long)v;
        else if (field == 1 && wt == 2)
            while (sub.p < sub.end && t->ndims < 8 && pb_varint(&sub, &v) == 0)
                t->dims[t->ndims++] = (long long)v;
        else if (field == 2 && wt == 0)
            type = (int)v;
        else if (field == 4 && wt == 2)
            for (; sub.end - sub.p >= 4; sub.p += 4)
                memcpy(&fl[nf++], sub.p, 4);
        else if (field == 4 && wt == 5) {
            uint32_t x = (uint32_t)v;
            memcpy(&fl[nf++], &x, 4);
        } else if (field == 7 && wt == 2)
            while (sub.p < sub.end && pb_varint(&sub, &v) == 0)
                i64[ni++] = (long long)v;
        else if (field == 7 && wt == 0)
            i64[ni++] = (long long)v;
        else if (field == 9 && wt == 2) {
            raw = sub.p;
            raw_len = (size_t)(sub.end - sub.p);
        }
    }
    long long n = onnx_numel(t);
    t->n = (size_t)n;
    t->data = calloc((size_t)n + 1, sizeof(float));
    int rc = 0;
    if (type == 1) { /* FLOAT */
        if (raw && raw_len == (size_t)n * 4)
            memcpy(t->data, raw, raw_len);
        else if (nf == (size_t)n)
            memcpy(t->data, fl, nf * 4);
        else
            rc = -1;
    } else if (type == 7) { /* INT64 */
        if (raw && raw_len == (size_t)n * 8)
            for (long long i = 0; i < n; i++) {
                long long x;
                memcpy(&x, raw + 8 * i, 8);
                t->data[i] = (float)x;
            }
        else if (ni == (size_t)n)
            for (long long i = 0; i < n; i++)
                t->data[i] = (float)i64[i];
        else
            rc = -1;
    } else {
        rc = -2; /* unsupported element type */
    }
    free(fl);
    free(i64);
    return rc;
}

typedef struct {
    char name[32];
    int has_f, has_i, nints, nfloats;
    float f;
    long long i;
    long long ints[16];
    float floats[16];
    char s[64];
} onnx_attr;

typedef struct {
    char op[32];
    int nin;
    char in[8][64];
    int nattr;
    onnx_attr attr[16];
} onnx_node;

static inline void pb_str(const pb_buf *s, char *dst, size_t size)
{
    size_t n = (size_t)(s->end - s->p);
    if (n >= size)
        n = size - 1;
    memcpy(dst, s->p, n);
    dst[n] = '\0';
}

/* Reads the first node of model.onnx (ModelProto.graph.node[0]). 0 ok. */
static inline int onnx_read_node(const char *path, onnx_node *nd)
{
    memset(nd, 0, sizeof *nd);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static unsigned char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    pb_buf b = {buf, buf + len}, g, n, a, x;
    int field, wt;
    uint64_t v;
    while (pb_next(&b, &field, &wt, &v, &g) == 0) {
        if (field != 7 || wt != 2)
            continue;
        while (pb_next(&g, &field, &wt, &v, &n) == 0) {
            if (field != 1 || wt != 2)
                continue;
            while (pb_next(&n, &field, &wt, &v, &a) == 0) {
                if (field == 1 && wt == 2 && nd->nin < 8)
                    pb_str(&a, nd->in[nd->nin++], sizeof nd->in[0]);
                else if (field == 4 && wt == 2)
                    pb_str(&a, nd->op, sizeof nd->op);
                else if (field == 5 && wt == 2 && nd->nattr < 16) {
                    onnx_attr *at = &nd->attr[nd->nattr++];
                    while (pb_next(&a, &field, &wt, &v, &x) == 0) {
                        if (field == 1 && wt == 2)
                            pb_str(&x, at->name, sizeof at->name);
                        else if (field == 2 && wt == 5) {
                            uint32_t u = (uint32_t)v;
                            memcpy(&at->f, &u, 4);
                            at->has_f = 1;
                        } else if (field == 3 && wt == 0) {
                            at->i = (long long)v;
                            at->has_i = 1;
                        } else if (field == 4 && wt == 2)
                            pb_str(&x, at->s, sizeof at->s);
                        else if (field == 7 && wt == 2)
                            for (; x.end - x.p >= 4 && at->nfloats < 16; x.p += 4)
                                memcpy(&at->floats[at->nfloats++], x.p, 4);
                        else if (field == 7 && wt == 5 && at->nfloats < 16) {
                            uint32_t u = (uint32_t)v;
                            memcpy(&at->floats[at->nfloats++], &u, 4);
                        } else if (field == 8 && wt == 2)
                            while (x.p < x.end && at->nints < 16 && pb_varint(&x, &v) == 0)
                                at->ints[at->nints++] = (long long)v;
                        else if (field == 8 && wt == 0 && at->nints < 16)
                            at->ints[at->nints++] = (long long)v;
                    }
                }
            }
            return nd->op[0] ? 0 : -1;
        }
    }
    return -1;
}

static inline const onnx_attr *onnx_attr_get(const onnx_node *nd, const char *name)
{
    for (int i = 0; i < nd->nattr; i++)
        if (!strcmp(nd->attr[i].name, name))
            return &nd->attr[i];
    return NULL;
}

static inline long long onnx_int(const onnx_node *nd, const char *name, long long def)
{
    const onnx_attr *a = onnx_attr_get(nd, name);
    return a && a->has_i ? a->i : def;
}

static inline float onnx_float(const onnx_node *nd, const char *name, float def)
{
    const onnx_attr *a = onnx_attr_get(nd, name);
    return a && a->has_f ? a->f : def;
}

static inline const char *onnx_str(const onnx_node *nd, const char *name, const char *def)
{
    const onnx_attr *a = onnx_attr_get(nd, name);
    return a && a->s[0] ? a->s : def;
}

#endif
