/* upload_client.c - see upload_client.h. */
#include "serve/upload_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "serve/addr_key.h"

/* Entries exist only while a body does: at most one per connection (512 by default), so a
 * chained table of this size keeps the chains short. */
#define NBUCKETS 256

struct serve_client {
    serve_client *next;
    int family;                /* AF_INET or AF_INET6 */
    unsigned char addr[16];    /* 4 or 16 bytes */
    long refs;
    size_t held[2];            /* memory, spool */
};

struct serve_clients {
    pthread_mutex_t mu;
    serve_client *bucket[NBUCKETS];
    size_t count;
};

serve_clients *serve_clients_create(void)
{
    serve_clients *t = calloc(1, sizeof *t);
    if (t)
        pthread_mutex_init(&t->mu, NULL);
    return t;
}

void serve_clients_free(serve_clients *t)
{
    if (!t)
        return;
    for (int i = 0; i < NBUCKETS; i++)
        for (serve_client *c = t->bucket[i], *n; c; c = n) {
            n = c->next;
            free(c);
        }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static unsigned hash_of(const unsigned char *a, int family)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < (family == AF_INET ? 4 : 16); i++)
        h = (h ^ a[i]) * 16777619u;
    return h % NBUCKETS;
}

serve_client *serve_clients_get(serve_clients *t, const struct sockaddr *addr)
{
    unsigned char key[16];
    int family = serve_addr_key(addr, key);
    if (!t || !family)
        return NULL;
    unsigned h = hash_of(key, family);
    pthread_mutex_lock(&t->mu);
    serve_client *c = t->bucket[h];
    while (c && (c->family != family || memcmp(c->addr, key, 16)))
        c = c->next;
    if (!c && (c = calloc(1, sizeof *c))) {
        c->family = family;
        memcpy(c->addr, key, 16);
        c->next = t->bucket[h];
        t->bucket[h] = c;
        t->count++;
    }
    if (c)
        c->refs++;
    pthread_mutex_unlock(&t->mu);
    return c;
}

void serve_clients_get_again(serve_clients *t, serve_client *c)
{
    pthread_mutex_lock(&t->mu);
    c->refs++;
    pthread_mutex_unlock(&t->mu);
}

void serve_clients_put(serve_clients *t, serve_client *c)
{
    if (!t || !c)
        return;
    pthread_mutex_lock(&t->mu);
    if (--c->refs <= 0) {
        serve_client **p = &t->bucket[hash_of(c->addr, c->family)];
        while (*p && *p != c)
            p = &(*p)->next;
        if (*p)
            *p = c->next;
        t->count--;
        free(c);
    }
    pthread_mutex_unlock(&t->mu);
}

int serve_clients_charge(serve_clients *t, serve_client *c, int spool, size_t n, size_t own, size_t limit,
                         int exempt, size_t *held)
{
    pthread_mutex_lock(&t->mu);
    size_t *h = &c->held[spool ? 1 : 0];
    size_t others = *h > own ? *h - own : 0;
    int over = *h + n < *h || *h + n > limit;
    if (!exempt && others && over) {
        *held = *h;
        pthread_mutex_unlock(&t->mu);
        return -1;
    }
    *h += n;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

void serve_clients_uncharge(serve_clients *t, serve_client *c, int spool, size_t n)
{
    if (!n)
        return;
    pthread_mutex_lock(&t->mu);
    size_t *h = &c->held[spool ? 1 : 0];
    *h = *h > n ? *h - n : 0;
    pthread_mutex_unlock(&t->mu);
}

void serve_client_name(const serve_client *c, char *buf, size_t n)
{
    if (!inet_ntop(c->family, c->addr, buf, (socklen_t)n))
        snprintf(buf, n, "?");
}

size_t serve_clients_count(serve_clients *t)
{
    if (!t)
        return 0;
    pthread_mutex_lock(&t->mu);
    size_t k = t->count;
    pthread_mutex_unlock(&t->mu);
    return k;
}
