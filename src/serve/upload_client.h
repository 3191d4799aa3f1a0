/* upload_client.h - the bytes of request bodies each client address holds, so that one
 * address gets only a share of the server's body budgets (upload.h).
 *
 * Without it, one address declaring lengths and sending slowly held the whole memory or spool
 * budget until its body deadline, and every other client's upload was a 503. An address's
 * entry counts the memory and spool bytes its bodies hold; a new charge passes when the
 * address then holds at most its share, or when no other body of that address holds that
 * budget (an address always gets one body in, whatever its size: the server-wide budget and
 * --max-body still bound it). IPv4-mapped IPv6 addresses count as their IPv4 address.
 *
 * Ownership: the table belongs to the server; an entry lives while an upload refers to it
 * (serve_clients_get / serve_clients_put). Thread-safety: one mutex guards the table; every
 * function may be called from any thread. Errors: serve_clients_get returns NULL on OOM (the
 * body is then bound by the server-wide budgets only). */
#ifndef ENH_SERVE_UPLOAD_CLIENT_H
#define ENH_SERVE_UPLOAD_CLIENT_H

#include <stddef.h>

struct sockaddr;
typedef struct serve_clients serve_clients;
typedef struct serve_client serve_client;

serve_clients *serve_clients_create(void);
/* Frees the table (and any entry left: none once every upload was released). NULL is fine. */
void serve_clients_free(serve_clients *t);

/* The entry of addr with a reference taken; NULL on OOM or an address family other than
 * IPv4/IPv6. */
serve_client *serve_clients_get(serve_clients *t, const struct sockaddr *addr);
/* Another reference to c (a second upload of the same request). */
void serve_clients_get_again(serve_clients *t, serve_client *c);
/* Drops the reference (the entry goes with the last one). NULL is fine. */
void serve_clients_put(serve_clients *t, serve_client *c);

/* Charges n bytes of budget `spool` (0 memory, 1 spool) to c. own: what the body being
 * charged already holds of it (its earlier charges). Passes when no other body of c holds that
 * budget, or when c then holds at most limit, or when exempt; else returns -1 with *held set
 * to what c holds now and charges nothing. */
int serve_clients_charge(serve_clients *t, serve_client *c, int spool, size_t n, size_t own, size_t limit,
                         int exempt, size_t *held);
void serve_clients_uncharge(serve_clients *t, serve_client *c, int spool, size_t n);

/* The address as text ("127.0.0.2", "::1"). */
void serve_client_name(const serve_client *c, char *buf, size_t n);
/* Addresses with a body now (entries in the table). */
size_t serve_clients_count(serve_clients *t);

#endif
