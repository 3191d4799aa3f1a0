/* proxy_trust.h - the proxies whose X-Forwarded-For the server believes (--trusted-proxies), and
 * the client address of a request that came through them.
 *
 * Behind a load balancer or an ingress every connection comes from the proxy, so the per-address
 * share of the body budgets (upload_client.h) would bound all clients together. A request whose
 * TCP peer is a trusted proxy is counted as the address that proxy says it got it from: the
 * X-Forwarded-For list is read from its right end (each proxy appends the address it received
 * the request from, so only the entries added by trusted hops can be believed), skipping trusted
 * addresses; the first other address is the client. A peer that is not trusted is the client
 * whatever it sends, so a direct client cannot pick the address it is counted as.
 *
 * Ownership: serve_proxies_parse's table is the caller's (serve_proxies_free). Thread-safety:
 * read-only after parsing. Errors: serve_proxies_parse says which entry is not an address or a
 * CIDR (ENH_EINVAL), ENH_ENOMEM. */
#ifndef ENH_SERVE_PROXY_TRUST_H
#define ENH_SERVE_PROXY_TRUST_H

#include <sys/socket.h>

#include "core/error.h"

typedef struct serve_proxies serve_proxies;

/* list: addresses and CIDR blocks, IPv4 or IPv6, separated by commas and/or spaces
 * or tabs ("10.0.0.0/8, 127.0.0.1, fd00::/8"). An empty list gives *out = NULL (no proxy trusted). */
enh_status serve_proxies_parse(const char *list, serve_proxies **out, enh_error *err);
void serve_proxies_free(serve_proxies *p);

/* 1 when addr (IPv4, IPv6, IPv4-mapped IPv6 as its IPv4 address) is in one of p's blocks. */
int serve_proxies_trusts(const serve_proxies *p, const struct sockaddr *addr);

/* The client address of a request from peer whose X-Forwarded-For headers, joined in order
 * with commas, are xff (NULL: none): peer unless p trusts it; else the rightmost entry of xff
 * that p does not trust (the leftmost when p trusts them all). An entry that is not an address
 * (a "unknown", an obfuscated name, garbage) stops the walk: peer is the client then. Returns 1
 * when *out was taken from xff, 0 when it is peer. */
int serve_proxies_client(const serve_proxies *p, const struct sockaddr *peer, const char *xff,
                         struct sockaddr_storage *out);

#endif
