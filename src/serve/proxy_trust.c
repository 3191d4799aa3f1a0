/* proxy_trust.c - trusted proxies and the client address behind them (proxy_trust.h). */
#include "serve/proxy_trust.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/addr_key.h"

#define SEPARATORS ", \t"

typedef struct block {
    int family;            /* AF_INET or AF_INET6 */
    unsigned char a[16];   /* network address, host bits cleared */
    int bits;              /* prefix length */
} block;

struct serve_proxies {
    int n;
    block b[];
};

/* Text (n bytes, no spaces) as an address: a plain IPv4 or IPv6 address and, with_port (an
 * X-Forwarded-For entry; a proxy's own address has no port), also "[v6]", "[v6]:port" and
 * "v4:port". Fills out (the sockaddr) and returns its family, 0 when it is not one. */
static int parse_addr(const char *s, size_t n, int with_port, struct sockaddr_storage *out)
{
    char t[64];
    if (n == 0 || n >= sizeof t)
        return 0;
    memcpy(t, s, n);
    t[n] = 0;
    char *p = t;
    if (with_port && p[0] == '[') { /* [v6] or [v6]:port */
        char *e = strchr(p, ']');
        if (!e || (e[1] && e[1] != ':'))
            return 0;
        *e = 0;
        p++;
    } else if (with_port) {
        char *c = strchr(p, ':');
        if (c && !strchr(c + 1, ':')) /* one colon: v4:port */
            *c = 0;
    }
    memset(out, 0, sizeof *out);
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, p, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, p, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        return AF_INET6;
    }
    return 0;
}

static int in_block(const block *b, int family, const unsigned char *a)
{
    if (b->family != family)
        return 0;
    int full = b->bits / 8, rest = b->bits % 8;
    if (memcmp(a, b->a, (size_t)full))
        return 0;
    return !rest || ((a[full] ^ b->a[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

enh_status serve_proxies_parse(const char *list, serve_proxies **out, enh_error *err)
{
    *out = NULL;
    /* every entry is a character and a separator at least: at most len / 2 + 1 of them */
    size_t max = (list ? strlen(list) : 0) / 2 + 1;
    serve_proxies *t = calloc(1, sizeof *t + max * sizeof(block));
    if (!t)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    for (const char *p = list ? list : ""; *p;) {
        p += strspn(p, SEPARATORS);
        size_t n = strcspn(p, SEPARATORS);
        if (!n)
            break;
        const char *slash = memchr(p, '/', n);
        size_t an = slash ? (size_t)(slash - p) : n;
        struct sockaddr_storage ss;
        int family = an ? parse_addr(p, an, 0, &ss) : 0;
        int maxbits = family == AF_INET ? 32 : 128, bits = maxbits;
        if (family && slash) {
            char *end;
            long v = strtol(slash + 1, &end, 10);
            if (end != p + n || slash + 1 == end || v < 0 || v > maxbits)
                family = 0;
            bits = (int)v;
        }
        block *b = &t->b[t->n];
        if (family) {
            b->family = serve_addr_key((const struct sockaddr *)&ss, b->a);
            b->bits = bits;
            if (b->family == AF_INET && family == AF_INET6) { /* ::ffff:a.b.c.d/n: an IPv4 block */
                b->bits = bits - 96;
                if (bits < 96)
                    family = 0; /* it would span addresses that are not IPv4-mapped too */
            }
        }
        if (!family) {
            free(t);
            return enh_fail(err, ENH_EINVAL,
                            "--trusted-proxies: '%.*s' is not an IPv4 or IPv6 address or a CIDR block such as "
                            "10.0.0.0/8 or fd00::/8",
                            (int)(n > 100 ? 100 : n), p);
        }
        t->n++;
        for (int i = 0; i < 16; i++) /* clear the host bits: 10.1.2.3/8 is 10.0.0.0/8 */
            if (i * 8 >= b->bits)
                b->a[i] = 0;
            else if (i * 8 + 8 > b->bits)
                b->a[i] &= (unsigned char)(0xff << (8 - (b->bits - i * 8)));
        p += n;
    }
    if (!t->n) {
        free(t);
        return ENH_OK;
    }
    *out = t;
    return ENH_OK;
}

void serve_proxies_free(serve_proxies *p) { free(p); }

int serve_proxies_trusts(const serve_proxies *p, const struct sockaddr *addr)
{
    unsigned char a[16];
    int family = p ? serve_addr_key(addr, a) : 0;
    for (int i = 0; family && i < p->n; i++)
        if (in_block(&p->b[i], family, a))
            return 1;
    return 0;
}

int serve_proxies_client(const serve_proxies *p, const struct sockaddr *peer, const char *xff,
                         struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (peer && peer->sa_family == AF_INET)
        memcpy(out, peer, sizeof(struct sockaddr_in));
    else if (peer && peer->sa_family == AF_INET6)
        memcpy(out, peer, sizeof(struct sockaddr_in6));
    if (!xff || !serve_proxies_trusts(p, peer))
        return 0;
    /* from the right: each trusted hop vouches for the entry before its own */
    struct sockaddr_storage last;
    int have = 0;
    for (size_t end = strlen(xff); end > 0;) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t b = start, e = end;
        while (b < e && (xff[b] == ' ' || xff[b] == '\t'))
            b++;
        while (e > b && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
            e--;
        end = start ? start - 1 : 0;
        if (b == e)
            continue; /* an empty element (",,"): nothing said */
        struct sockaddr_storage ss;
        if (!parse_addr(xff + b, e - b, 1, &ss))
            return 0; /* not an address: believe nothing further left */
        last = ss;
        have = 1;
        if (!serve_proxies_trusts(p, (const struct sockaddr *)&ss))
            break;
    }
    if (!have)
        return 0;
    *out = last;
    return 1;
}
