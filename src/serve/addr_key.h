/* addr_key.h - a client's address as a comparable key: the family and its bytes, an IPv4-mapped
 * IPv6 address (a dual-stack listener's IPv4 client) as that IPv4 address. Shared by the body
 * shares per address (upload_client.c) and the trusted proxies (proxy_trust.c), so both count a
 * client the same way. Pure function; thread-safe. */
#ifndef ENH_SERVE_ADDR_KEY_H
#define ENH_SERVE_ADDR_KEY_H

#include <sys/socket.h>

/* The key of sa into out (4 bytes for IPv4, then zeros; 16 for IPv6): AF_INET or AF_INET6, or
 * 0 (out zeroed) for NULL or another family. */
int serve_addr_key(const struct sockaddr *sa, unsigned char out[16]);

#endif
