/* sbuf.c - growable string buffer (see sbuf.h). */
#include "serve/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(sbuf *b) { memset(b, 0, sizeof *b); }

static void sbuf_free(sbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int reserve(sbuf *b, size_t extra)
{
    if (b->oom)
        return 0;
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return 0;
    }
    b->data = d;
    b->cap = cap;
    return 1;
}

static void sbuf_append(sbuf *b, const void *data, size_t len)
{
    if (!reserve(b, len))
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
}

void sbuf_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        sbuf_append(b, tmp, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *sbuf_take(sbuf *b, size_t *len)
{
    if (b->oom) {
        sbuf_free(b);
        return NULL;
    }
    if (!b->data && !reserve(b, 0))
        return NULL;
    char *s = b->data;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return s;
}
