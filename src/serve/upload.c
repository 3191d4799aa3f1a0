/* upload.c - see upload.h. */
#define _GNU_SOURCE
#include "serve/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int reserve(atomic_size_t *used, size_t limit, size_t n)
{
    size_t cur = atomic_load(used);
    do {
        if (n > limit || cur > limit - n)
            return -1;
    } while (!atomic_compare_exchange_weak(used, &cur, cur + n));
    return 0;
}

void serve_upload_init(serve_upload *u, serve_upload_budget *b)
{
    memset(u, 0, sizeof *u);
    u->b = b;
    u->fd = -1;
}

void serve_upload_set_client(serve_upload *u, const struct sockaddr *addr)
{
    if (u->b && u->b->clients && !u->client)
        u->client = serve_clients_get(u->b->clients, addr);
}

static enh_status over_memory(const serve_upload *u, size_t n, enh_error *err)
{
    atomic_fetch_add(&u->b->refused[SERVE_REFUSED_MEMORY], 1);
    return enh_fail(err, ENH_EBUSY,
                    "the server holds %zu MB of request bodies in memory and this one (%zu bytes) would pass its "
                    "limit of %zu MB (server option --max-body-memory); retry shortly",
                    atomic_load(&u->b->mem_used) >> 20, n, u->b->mem_limit >> 20);
}

static enh_status over_spool(const serve_upload *u, size_t n, enh_error *err)
{
    atomic_fetch_add(&u->b->refused[SERVE_REFUSED_SPOOL], 1);
    return enh_fail(err, ENH_EBUSY,
                    "the server holds %zu MB of uploads on disk and this one (%zu bytes) would pass its limit of "
                    "%zu MB (server option --max-upload-spool); retry shortly",
                    atomic_load(&u->b->spool_used) >> 20, n, u->b->spool_limit >> 20);
}

static enh_status over_share(const serve_upload *u, int spool, size_t held, size_t n, enh_error *err)
{
    char who[64];
    serve_client_name(u->client, who, sizeof who);
    size_t limit = spool ? u->b->spool_limit : u->b->mem_limit;
    atomic_fetch_add(&u->b->refused[spool ? SERVE_REFUSED_CLIENT_SPOOL : SERVE_REFUSED_CLIENT_MEMORY], 1);
    return enh_fail(err, ENH_EBUSY,
                    "your address %s holds %zu KB of request bodies %s and this one (%zu bytes) would pass its "
                    "share of %zu KB (%g of %s; server option --client-body-share); retry when your other uploads "
                    "have finished",
                    who, held >> 10, spool ? "on disk" : "in memory", n, serve_upload_share(u->b, limit) >> 10,
                    u->b->client_share, spool ? "--max-upload-spool" : "--max-body-memory");
}

/* Charges n more bytes of the memory (spool = 0) or spool budget to u: its address's share
 * first (unless exempt), then the server's budget. shown: the body's size for the message. */
static enh_status take(serve_upload *u, int spool, size_t n, int exempt, size_t shown, enh_error *err)
{
    if (!n)
        return ENH_OK;
    size_t *own = spool ? &u->spool_charged : &u->mem_charged;
    size_t limit = spool ? u->b->spool_limit : u->b->mem_limit, held = 0;
    if (u->client && serve_clients_charge(u->b->clients, u->client, spool, n, *own, serve_upload_share(u->b, limit),
                                          exempt, &held))
        return over_share(u, spool, held, shown, err);
    if (reserve(spool ? &u->b->spool_used : &u->b->mem_used, limit, n)) {
        if (u->client)
            serve_clients_uncharge(u->b->clients, u->client, spool, n);
        return spool ? over_spool(u, shown, err) : over_memory(u, shown, err);
    }
    *own += n;
    return ENH_OK;
}

/* Returns n of u's charges of that budget. */
static void drop(serve_upload *u, int spool, size_t n)
{
    if (!n)
        return;
    size_t *own = spool ? &u->spool_charged : &u->mem_charged;
    atomic_fetch_sub(spool ? &u->b->spool_used : &u->b->mem_used, n);
    if (u->client)
        serve_clients_uncharge(u->b->clients, u->client, spool, n);
    *own -= n;
}

/* An anonymous file in the spool folder, mode 0600. */
static int open_spool(const char *dir, enh_error *err)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT) {
        enh_fail(err, ENH_EIO, "cannot create an upload file in %s: %s (server option --upload-dir)", dir,
                 strerror(errno));
        return -1;
    }
#endif
    char path[1100];
    snprintf(path, sizeof path, "%s/enhance-upload-XXXXXX", dir);
    int fd2 = mkostemp(path, O_CLOEXEC); /* O_EXCL, mode 0600 */
    if (fd2 < 0) {
        enh_fail(err, ENH_EIO, "cannot create an upload file in %s: %s (server option --upload-dir)", dir,
                 strerror(errno));
        return -1;
    }
    unlink(path); /* at once: nothing can leave it behind */
    return fd2;
}

enh_status serve_upload_check_dir(const char *dir, enh_error *err)
{
    int fd = open_spool(dir, err);
    if (fd < 0)
        return ENH_EIO;
    close(fd);
    return ENH_OK;
}

static enh_status write_all(int fd, const char *p, size_t n, const char *dir, enh_error *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return enh_fail(err, ENH_EIO, "cannot write an upload to %s: %s (server option --upload-dir)", dir,
                            w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return ENH_OK;
}

static enh_status to_spool(serve_upload *u, size_t reserve_n, int exempt, enh_error *err)
{
    enh_status st = take(u, 1, reserve_n, exempt, reserve_n, err);
    if (st)
        return st;
    u->fd = open_spool(u->b->spool_dir, err);
    if (u->fd < 0)
        return ENH_EIO;
    if (u->len && write_all(u->fd, u->mem, u->len, u->b->spool_dir, err))
        return ENH_EIO;
    free(u->mem);
    u->mem = NULL;
    u->cap = 0;
    drop(u, 0, u->mem_charged);
    return ENH_OK;
}

static int spools(const serve_upload *u, unsigned long long n)
{
    return u->b->spool_dir[0] && n > u->b->spool_threshold;
}

enh_status serve_upload_begin(serve_upload *u, unsigned long long declared, enh_error *err)
{
    if (!declared)
        return ENH_OK;
    if (declared > (unsigned long long)SIZE_MAX / 2)
        return over_memory(u, SIZE_MAX / 2, err);
    size_t n = (size_t)declared;
    if (spools(u, n))
        return to_spool(u, n, 0, err);
    /* charged now, allocated when the first bytes come: a client that declares a length and
     * sends nothing holds budget, not memory */
    return take(u, 0, n, 0, n, err);
}

enh_status serve_upload_write(serve_upload *u, const void *data, size_t n, enh_error *err)
{
    if (!n)
        return ENH_OK;
    if (u->fd < 0 && spools(u, (unsigned long long)u->len + n)) {
        /* a chunked body passed the threshold: what came so far goes to the file */
        enh_status st = to_spool(u, u->len, 0, err);
        if (st)
            return st;
    }
    if (u->fd >= 0) {
        if (u->len + n > u->spool_charged) {
            enh_status st = take(u, 1, u->len + n - u->spool_charged, 0, u->len + n, err);
            if (st)
                return st;
        }
        enh_status st = write_all(u->fd, data, n, u->b->spool_dir, err);
        if (st)
            return st;
        u->len += n;
        return ENH_OK;
    }
    if (u->len + n > u->cap) {
        size_t cap = u->cap ? u->cap * 2 : u->mem_charged ? u->mem_charged : 64 * 1024;
        while (cap < u->len + n)
            cap *= 2;
        size_t extra = cap > u->mem_charged ? cap - u->mem_charged : 0;
        enh_status st = extra ? take(u, 0, extra, 0, u->len + n, err) : ENH_OK;
        if (st)
            return st;
        char *nb = realloc(u->mem, cap);
        if (!nb) {
            drop(u, 0, extra);
            return enh_fail(err, ENH_ENOMEM, "out of memory for a %zu-byte request body", u->len + n);
        }
        u->mem = nb;
        u->cap = cap;
    }
    memcpy(u->mem + u->len, data, n);
    u->len += n;
    return ENH_OK;
}

void serve_upload_release(serve_upload *u)
{
    if (!u->b)
        return;
    free(u->mem);
    u->mem = NULL;
    u->cap = u->len = 0;
    drop(u, 0, u->mem_charged);
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    drop(u, 1, u->spool_charged);
    serve_clients_put(u->b->clients, u->client);
    u->client = NULL;
}

const char *serve_upload_map(const serve_upload *u, enh_error *err)
{
    if (u->fd < 0 || !u->len) {
        enh_fail(err, ENH_EINVAL, "the upload is empty");
        return NULL;
    }
    void *p = mmap(NULL, u->len, PROT_READ, MAP_PRIVATE, u->fd, 0);
    if (p == MAP_FAILED) {
        enh_fail(err, ENH_EIO, "cannot map the spooled upload: %s", strerror(errno));
        return NULL;
    }
    return p;
}

enh_status serve_upload_spool_copy(const serve_upload *from, const void *data, size_t n, serve_upload *out,
                                   enh_error *err)
{
    serve_upload_budget *b = from->b;
    serve_upload_init(out, b);
    if (from->client) { /* a second reference to the same address */
        out->client = from->client;
        serve_clients_get_again(b->clients, out->client);
    }
    enh_status st = to_spool(out, n, 1, err);
    if (!st && (st = write_all(out->fd, data, n, b->spool_dir, err)) == ENH_OK)
        out->len = n;
    if (st)
        serve_upload_release(out);
    return st;
}
