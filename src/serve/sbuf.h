/* sbuf.h - a small growable string buffer for building HTTP bodies and metrics text.
 * Ownership: the caller owns the sbuf; sbuf_take hands the malloc'd string over.
 * Not thread-safe (one owner). Errors: an allocation failure sets `oom`, later appends
 * are ignored and sbuf_take returns NULL. */
#ifndef ENH_SERVE_SBUF_H
#define ENH_SERVE_SBUF_H

#include <stddef.h>

typedef struct sbuf {
    char *data;
    size_t len, cap;
    int oom;
} sbuf;

void sbuf_init(sbuf *b);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the NUL-terminated string (caller frees) and resets b; NULL on OOM. */
char *sbuf_take(sbuf *b, size_t *len);

#endif
