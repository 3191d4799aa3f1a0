/* request.c - query keys, multipart bodies, secrets, request ids (see request.h). */
#define _GNU_SOURCE /* memmem */
#include "serve/request.h"

#include "enhance/ops_table.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void serve_params_init(serve_params *p)
{
    memset(p, 0, sizeof *p);
    p->priority = SERVE_PRIO_NORMAL;
}

static const char *const g_prio_names[] = {"high", "normal", "batch"};

enh_status serve_priority_from_name(const char *name, serve_priority *p, enh_error *err)
{
    for (int i = 0; i < SERVE_NPRIO; i++) {
        if (!strcasecmp(name, g_prio_names[i])) {
            *p = (serve_priority)i;
            return ENH_OK;
        }
    }
    if (!strcasecmp(name, "low")) {
        *p = SERVE_PRIO_BATCH;
        return ENH_OK;
    }
    return enh_fail(err, ENH_EINVAL, "priority must be high, normal or batch, got '%s'", name);
}

static enh_status parse_double(const char *key, const char *v, double lo, double hi, double *out, enh_error *err)
{
    char *end;
    errno = 0;
    double d = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || errno || !isfinite(d) || d < lo || d > hi)
        return enh_fail(err, ENH_EINVAL, "query key '%s' must be a number in %g..%g, got '%s'", key, lo, hi,
                        v ? v : "");
    *out = d;
    return ENH_OK;
}

enh_status serve_query_apply(const char *key, const char *v, enh_ops *o, serve_params *p, enh_error *err)
{
    /* server parameters */
    if (!strcmp(key, "priority"))
        return serve_priority_from_name(v ? v : "", &p->priority, err);
    if (!strcmp(key, "deadline_ms"))
        return parse_double(key, v, 1, 86400000, &p->deadline_ms, err);
    /* operations: one row of the operations table each, read by the same setter as the
     * operations JSON and the CLI flags */
    const enh_opt *opt = enh_opt_by_query(key);
    if (!opt) {
        char keys[1024];
        enh_ops_query_keys(keys, sizeof keys, ", ");
        return enh_fail(err, ENH_EINVAL, "unknown query key '%s' (operations: %s; server: priority, deadline_ms)", key,
                        keys);
    }
    enh_opt_value val = enh_opt_text(v);
    enh_status st = enh_opt_set(opt, &val, o, &p->ops_state, err);
    if (!st)
        p->has_ops = 1;
    return st;
}

/* ---- multipart/form-data ---- */

/* Copies the value of parameter `param` (e.g. boundary, name) from a header value. */
static int header_param(const char *h, size_t hlen, const char *param, char *out, size_t out_size)
{
    size_t plen = strlen(param);
    for (size_t i = 0; i + plen < hlen; i++) {
        if (strncasecmp(h + i, param, plen) || h[i + plen] != '=')
            continue;
        if (i > 0 && h[i - 1] != ' ' && h[i - 1] != ';' && h[i - 1] != '\t')
            continue;
        const char *v = h + i + plen + 1;
        const char *end = h + hlen;
        size_t n = 0;
        if (v < end && *v == '"') {
            v++;
            while (v + n < end && v[n] != '"')
                n++;
        } else {
            while (v + n < end && v[n] != ';' && v[n] != ' ' && v[n] != '\t' && v[n] != '\r')
                n++;
        }
        if (n >= out_size)
            return -1;
        memcpy(out, v, n);
        out[n] = 0;
        return 0;
    }
    return -1;
}

static void copy_trim(char *out, size_t out_size, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= out_size)
        n = out_size - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

enh_status serve_multipart_parse(const char *content_type, const char *body, size_t len, serve_part *parts,
                                 int max_parts, int *nparts, enh_error *err)
{
    *nparts = 0;
    char boundary[128];
    char delim[136];
    if (!content_type || header_param(content_type, strlen(content_type), "boundary", boundary, sizeof boundary) ||
        !boundary[0])
        return enh_fail(err, ENH_EINVAL, "multipart/form-data without a boundary parameter (max 70 chars)");
    /* an empty body comes as NULL (no Content-Length on HTTP/1.0): no pointer arithmetic on it */
    if (!body || !len)
        return enh_fail(err, ENH_EINVAL, "multipart body is empty: send the image as a form part named 'image'");
    int dlen = snprintf(delim, sizeof delim, "--%s", boundary);
    const char *end = body + len;
    const char *p = memmem(body, len, delim, (size_t)dlen);
    if (!p)
        return enh_fail(err, ENH_EINVAL, "multipart body does not contain its boundary");
    for (;;) {
        p += dlen;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return ENH_OK; /* closing delimiter */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return enh_fail(err, ENH_EINVAL, "multipart body: malformed boundary line");
        p += 2;
        const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend)
            return enh_fail(err, ENH_EINVAL, "multipart body: part headers are not terminated");
        serve_part part;
        memset(&part, 0, sizeof part);
        for (const char *line = p; line < hend;) {
            const char *le = memmem(line, (size_t)(hend - line), "\r\n", 2);
            if (!le)
                le = hend;
            const char *colon = memchr(line, ':', (size_t)(le - line));
            if (colon) {
                size_t klen = (size_t)(colon - line);
                const char *val = colon + 1;
                size_t vlen = (size_t)(le - val);
                if (klen == 19 && !strncasecmp(line, "Content-Disposition", 19)) {
                    header_param(val, vlen, "name", part.name, sizeof part.name);
                    header_param(val, vlen, "filename", part.filename, sizeof part.filename);
                } else if (klen == 12 && !strncasecmp(line, "Content-Type", 12)) {
                    copy_trim(part.content_type, sizeof part.content_type, val, vlen);
                }
            }
            line = le + 2;
        }
        const char *data = hend + 4;
        char close[140];
        int clen = snprintf(close, sizeof close, "\r\n%s", delim);
        const char *next = memmem(data, (size_t)(end - data), close, (size_t)clen);
        if (!next)
            return enh_fail(err, ENH_EINVAL, "multipart body: part '%s' is not terminated by the boundary",
                            part.name);
        part.data = data;
        part.len = (size_t)(next - data);
        if (*nparts >= max_parts)
            return enh_fail(err, ENH_EINVAL, "multipart body has more than %d parts", max_parts);
        parts[(*nparts)++] = part;
        p = next + 2;
    }
}

int serve_secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    /* compare over the longer length so the time does not depend on where they differ */
    size_t n = alen > blen ? alen : blen;
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

void serve_new_request_id(char *out)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static unsigned long long state[2];
    static int seeded;
    pthread_mutex_lock(&mu);
    if (!seeded) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, state, sizeof state) != (ssize_t)sizeof state) {
            state[0] = (unsigned long long)getpid() * 0x9E3779B97F4A7C15ULL ^ (unsigned long long)time(NULL);
            state[1] = 0xD1B54A32D192ED03ULL;
        }
        if (fd >= 0)
            close(fd);
        seeded = 1;
    }
    unsigned long long w[2];
    for (int i = 0; i < 2; i++) { /* xorshift128+ */
        unsigned long long s1 = state[0];
        const unsigned long long s0 = state[1];
        state[0] = s0;
        s1 ^= s1 << 23;
        state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        w[i] = state[1] + s0;
    }
    pthread_mutex_unlock(&mu);
    snprintf(out, 33, "%016llx%016llx", w[0], w[1]);
}

int serve_request_id_ok(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '-'))
            return 0;
        if (n >= 128)
            return 0;
    }
    return n > 0;
}
