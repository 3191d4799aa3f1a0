/* upload.h - the bytes of one request body, held in memory or spooled to a temporary file,
 * and the server-wide byte budgets that admit them.
 *
 * Bodies were held whole in memory before any check: 16 concurrent 45 MB uploads took the
 * server to 686 MB. Now a body whose declared length is above the spool threshold (or a
 * chunked one that grows past it) goes to an anonymous temporary file in the spool folder,
 * and two budgets bound what all requests hold at once: the bytes of bodies in memory and the
 * bytes of spooled bodies on disk. A body that would pass its budget is refused (ENH_EBUSY:
 * the server answers 503 with Retry-After) as soon as its length is known, or, for a chunked
 * body, when the byte that passes it arrives.
 *
 * One address gets a share of each budget (upload_client.h, --client-body-share): past it,
 * its next body is refused the same way while other addresses still get in.
 *
 * Spool files are opened with O_TMPFILE (or mkostemp then unlink at once where the file
 * system lacks it), mode 0600: they have no name from the start, so no path through the
 * server (errors, cancellation, a crash, kill -9) can leave one behind; closing the
 * descriptor frees the space.
 *
 * Ownership: a serve_upload belongs to one request, then to its job; serve_upload_release
 * returns its charges. Thread-safety: the budget's counters are atomic (any thread may
 * release); one upload is used by one thread at a time. Errors: ENH_EBUSY (over a budget,
 * the message names the option), ENH_EIO (the spool folder: not writable, full), ENH_ENOMEM. */
#ifndef ENH_SERVE_UPLOAD_H
#define ENH_SERVE_UPLOAD_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/error.h"
#include "serve/upload_client.h"

/* Why a body was refused, for the refusal counters (metrics). */
enum { SERVE_REFUSED_MEMORY, SERVE_REFUSED_SPOOL, SERVE_REFUSED_CLIENT_MEMORY, SERVE_REFUSED_CLIENT_SPOOL,
       SERVE_REFUSED_N };

typedef struct serve_upload_budget {
    atomic_size_t mem_used, spool_used;
    size_t mem_limit;       /* bytes of bodies in memory at once */
    size_t spool_limit;     /* bytes of spooled bodies at once */
    size_t spool_threshold; /* bodies above this go to the spool (when a folder is set) */
    double client_share;    /* of each budget, what one address may hold (>= 1: no share) */
    serve_clients *clients; /* per-address charges; NULL = no per-address share */
    atomic_ulong refused[SERVE_REFUSED_N];
    char spool_dir[1024];   /* "" = no spooling: every body in memory */
} serve_upload_budget;

/* What one address may hold of a budget of `limit` bytes. */
static inline size_t serve_upload_share(const serve_upload_budget *b, size_t limit)
{
    return b->client_share >= 1 || b->client_share <= 0 ? limit : (size_t)((double)limit * b->client_share);
}

typedef struct serve_upload {
    serve_upload_budget *b;
    serve_client *client;   /* the sender's address (its share), NULL = none */
    char *mem;              /* in memory: mem[0..len) */
    size_t len, cap;
    size_t mem_charged;     /* what this body holds of b->mem_used (>= cap) */
    int fd;                 /* spooled: the anonymous file (len bytes), else -1 */
    size_t spool_charged;
} serve_upload;

void serve_upload_init(serve_upload *u, serve_upload_budget *b);
/* The sender's address (before serve_upload_begin): the body's charges count against its
 * share too. NULL, or no table in the budget: the server-wide budgets only. */
void serve_upload_set_client(serve_upload *u, const struct sockaddr *addr);
/* The declared length is known (0: unknown, a chunked body): reserves it in the memory or the
 * spool budget and opens the spool file when it goes there. */
enh_status serve_upload_begin(serve_upload *u, unsigned long long declared, enh_error *err);
/* Checks that spooled files can be made in dir (one is made and closed). */
enh_status serve_upload_check_dir(const char *dir, enh_error *err);
/* Appends n bytes (more than declared is charged as it comes). */
enh_status serve_upload_write(serve_upload *u, const void *data, size_t n, enh_error *err);
/* Frees the memory, closes the file, returns both charges. Idempotent. */
void serve_upload_release(serve_upload *u);
static inline int serve_upload_spooled(const serve_upload *u) { return u->fd >= 0; }
/* Maps a spooled body read-only (for parsing; munmap(ptr, u->len) when done). NULL on failure
 * or for an empty body. */
const char *serve_upload_map(const serve_upload *u, enh_error *err);
/* A new spooled upload holding data[0..n) (a multipart body's image part, copied out of the
 * mapped body of from) charged to the same spool budget and address; the address's share does
 * not refuse it (it is the same request's bytes, held a moment twice). */
enh_status serve_upload_spool_copy(const serve_upload *from, const void *data, size_t n, serve_upload *out,
                                   enh_error *err);

#endif
