/* test_proxy_trust.c - --trusted-proxies (proxy_trust.h) without a server:
 * - the list's syntax: addresses and CIDR blocks of both families, separators, host bits
 *   cleared, IPv4-mapped blocks; every malformed entry refused (EINVAL) with the entry named;
 * - matching: block edges, IPv4-mapped peers as their IPv4 address, no cross-family match;
 * - the client behind a trusted peer: the rightmost untrusted X-Forwarded-For entry (ports and
 *   brackets taken off), the leftmost when all are trusted, the peer when the peer is not
 *   trusted, when the header is absent or empty, or when an entry on the way is not an address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "serve/proxy_trust.h"

static struct sockaddr_storage addr(const char *a)
{
    struct sockaddr_storage s;
    memset(&s, 0, sizeof s);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&s;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s;
    if (inet_pton(AF_INET, a, &a4->sin_addr) == 1)
        a4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, a, &a6->sin6_addr) == 1)
        a6->sin6_family = AF_INET6;
    return s;
}

static int trusts(const serve_proxies *p, const char *a)
{
    struct sockaddr_storage s = addr(a);
    return serve_proxies_trusts(p, (struct sockaddr *)&s);
}

/* The client of a request from peer with X-Forwarded-For xff, as text ("" on failure); the
 * return value of serve_proxies_client in *from_xff. */
static const char *client(const serve_proxies *p, const char *peer, const char *xff, int *from_xff)
{
    static char out[64];
    struct sockaddr_storage ps = addr(peer), c;
    *from_xff = serve_proxies_client(p, (struct sockaddr *)&ps, xff, &c);
    const void *bytes = c.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&c)->sin_addr
                                               : (const void *)&((struct sockaddr_in6 *)&c)->sin6_addr;
    if (!inet_ntop(c.ss_family, bytes, out, sizeof out))
        out[0] = 0;
    return out;
}

static void test_parse(void)
{
    serve_proxies *p = (serve_proxies *)1;
    enh_error e = {0};
    CHECK(serve_proxies_parse("", &p, &e) == ENH_OK && p == NULL);
    CHECK(serve_proxies_parse(" , ", &p, &e) == ENH_OK && p == NULL);
    static const char *const bad[] = {"10.0.0.0/33", "10.0.0.1:80", "fd00::/129", "10.0.0.0/", "10.0.0.0/8x",
                                      "10.0.0", "proxy.local", "[::1]", "::ffff:10.0.0.0/95", "10.0.0.0/-1", NULL};
    for (int i = 0; bad[i]; i++) {
        char list[128];
        snprintf(list, sizeof list, "127.0.0.1, %s", bad[i]);
        enh_status st = serve_proxies_parse(list, &p, &e);
        CHECK_MSG(st == ENH_EINVAL && p == NULL && strstr(e.msg, bad[i]) && strstr(e.msg, "--trusted-proxies"),
                  "'%s': status %d: %s", bad[i], (int)st, e.msg);
    }
    CHECK(serve_proxies_parse("10.1.2.3/8,192.168.7.9/24 ::1\tfd00::1/8,::ffff:172.16.0.0/108", &p, &e) == ENH_OK);
    CHECK(p != NULL);
    /* 10.1.2.3/8 is 10.0.0.0/8; /24 keeps 192.168.7.x */
    CHECK(trusts(p, "10.0.0.0") && trusts(p, "10.255.255.255") && !trusts(p, "11.0.0.0") && !trusts(p, "9.255.255.255"));
    CHECK(trusts(p, "192.168.7.0") && trusts(p, "192.168.7.255") && !trusts(p, "192.168.8.1"));
    CHECK(trusts(p, "::1") && !trusts(p, "::2") && trusts(p, "fd12:3456::9") && !trusts(p, "fe00::1"));
    /* ::ffff:172.16.0.0/108 is 172.16.0.0/12; a mapped peer is its IPv4 address */
    CHECK(trusts(p, "172.31.255.255") && !trusts(p, "172.32.0.0") && trusts(p, "::ffff:10.9.9.9"));
    CHECK(!trusts(p, "127.0.0.1") && !trusts(p, "::ffff:127.0.0.1"));
    CHECK(!trusts(NULL, "10.0.0.1"));
    serve_proxies_free(p);
    CHECK(serve_proxies_parse("0.0.0.0/0", &p, &e) == ENH_OK && trusts(p, "1.2.3.4") && !trusts(p, "::1"));
    serve_proxies_free(p);
}

static void test_client(void)
{
    serve_proxies *p = NULL;
    enh_error e = {0};
    CHECK(serve_proxies_parse("127.0.0.1,10.0.0.0/8,fd00::/8", &p, &e) == ENH_OK);
    int x = -1;
    /* one trusted hop: the entry it appended */
    CHECK(!strcmp(client(p, "127.0.0.1", "203.0.113.7", &x), "203.0.113.7") && x == 1);
    /* what the client wrote itself (left) is not believed past an untrusted entry */
    CHECK(!strcmp(client(p, "127.0.0.1", "1.1.1.1, 203.0.113.7", &x), "203.0.113.7") && x == 1);
    /* two trusted hops, then the client; ports, brackets and spaces */
    CHECK(!strcmp(client(p, "127.0.0.1", "6.6.6.6,198.51.100.4:5123 , 10.2.3.4", &x), "198.51.100.4") && x == 1);
    CHECK(!strcmp(client(p, "127.0.0.1", "[2001:db8::5]:443, fd00::7", &x), "2001:db8::5") && x == 1);
    CHECK(!strcmp(client(p, "127.0.0.1", "2001:db8::6", &x), "2001:db8::6") && x == 1);
    /* all trusted: the leftmost */
    CHECK(!strcmp(client(p, "127.0.0.1", "10.0.0.5, 10.0.0.6", &x), "10.0.0.5") && x == 1);
    /* empty elements are skipped */
    CHECK(!strcmp(client(p, "127.0.0.1", "203.0.113.9,, ", &x), "203.0.113.9") && x == 1);
    /* the peer: untrusted peer, no header, nothing in it, a non-address on the way */
    CHECK(!strcmp(client(p, "198.51.100.1", "203.0.113.7", &x), "198.51.100.1") && x == 0);
    CHECK(!strcmp(client(p, "127.0.0.1", NULL, &x), "127.0.0.1") && x == 0);
    CHECK(!strcmp(client(p, "127.0.0.1", " , ", &x), "127.0.0.1") && x == 0);
    CHECK(!strcmp(client(p, "127.0.0.1", "203.0.113.7, unknown", &x), "127.0.0.1") && x == 0);
    CHECK(!strcmp(client(p, "127.0.0.1", "203.0.113.7, 10.0.0.1:x:y:z", &x), "127.0.0.1") && x == 0);
    /* left of the client, garbage no longer matters */
    CHECK(!strcmp(client(p, "127.0.0.1", "garbage, 203.0.113.8", &x), "203.0.113.8") && x == 1);
    /* an IPv4-mapped trusted peer */
    CHECK(!strcmp(client(p, "::ffff:10.1.1.1", "203.0.113.10", &x), "203.0.113.10") && x == 1);
    /* no proxies: always the peer */
    CHECK(!strcmp(client(NULL, "127.0.0.1", "203.0.113.7", &x), "127.0.0.1") && x == 0);
    serve_proxies_free(p);
}

int main(void)
{
    test_parse();
    test_client();
    CHECK_MAIN_END();
}
