/* request.c - query keys, multipart bodies, secrets, request ids (see request.h). */
#define _GNU_SOURCE /* memmem */
#include "serve/request.h"

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

const char *serve_priority_name(serve_priority p)
{
    return (int)p >= 0 && p < SERVE_NPRIO ? g_prio_names[p] : "unknown";
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

static enh_status parse_int(const char *key, const char *v, int lo, int hi, int *out, enh_error *err)
{
    char *end;
    errno = 0;
    long l = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || l < lo || l > hi)
        return enh_fail(err, ENH_EINVAL, "query key '%s' must be an integer in %d..%d, got '%s'", key, lo, hi,
                        v ? v : "");
    *out = (int)l;
    return ENH_OK;
}

static enh_status parse_bool(const char *key, const char *v, int *out, enh_error *err)
{
    if (!v || !*v || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
        *out = 1;
        return ENH_OK;
    }
    if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) {
        *out = 0;
        return ENH_OK;
    }
    return enh_fail(err, ENH_EINVAL, "query key '%s' must be true or false, got '%s'", key, v);
}

static enh_status parse_strength(const char *key, const char *v, int *out, enh_error *err)
{
    if (v && !strcasecmp(v, "off")) {
        *out = ENH_OFF;
        return ENH_OK;
    }
    if (!v || !*v || !strcasecmp(v, "auto")) {
        *out = ENH_AUTO;
        return ENH_OK;
    }
    if (!strcasecmp(v, "moderate")) {
        *out = 50;
        return ENH_OK;
    }
    if (!strcasecmp(v, "strong")) {
        *out = 100;
        return ENH_OK;
    }
    enh_status st = parse_int(key, v, 0, 100, out, err);
    if (st)
        return enh_fail(err, ENH_EINVAL, "query key '%s' must be off, auto, moderate, strong or 0..100, got '%s'",
                        key, v);
    return ENH_OK;
}

/* "640" (px) or "50%" */
static enh_status parse_size(const char *key, const char *v, int *px, double *pct, enh_error *err)
{
    size_t n = v ? strlen(v) : 0;
    if (n > 1 && v[n - 1] == '%') {
        char tmp[32];
        if (n >= sizeof tmp)
            return enh_fail(err, ENH_EINVAL, "query key '%s': bad percentage '%s'", key, v);
        memcpy(tmp, v, n - 1);
        tmp[n - 1] = 0;
        *px = 0;
        return parse_double(key, tmp, 0.1, 10000, pct, err);
    }
    *pct = 0;
    return parse_int(key, v, 1, 1000000, px, err);
}

enh_status serve_query_apply(const char *key, const char *v, enh_ops *o, serve_params *p, enh_error *err)
{
    /* server parameters */
    if (!strcmp(key, "priority"))
        return serve_priority_from_name(v ? v : "", &p->priority, err);
    if (!strcmp(key, "deadline_ms"))
        return parse_double(key, v, 1, 86400000, &p->deadline_ms, err);
    p->has_ops = 1;
    /* restorations */
    if (!strcmp(key, "upscale")) {
        static const struct {
            const char *n;
            enh_upscale_kind k;
        } kinds[] = {{"photo", ENH_UPSCALE_PHOTO},   {"art", ENH_UPSCALE_ART},   {"quality", ENH_UPSCALE_QUALITY},
                     {"resample", ENH_UPSCALE_RESAMPLE}, {"off", ENH_UPSCALE_NONE}, {"none", ENH_UPSCALE_NONE}};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            if (v && !strcasecmp(v, kinds[i].n)) {
                o->upscale = kinds[i].k;
                return ENH_OK;
            }
        }
        /* a bare factor: upscale=2 means the photo model at x2 */
        double f;
        if (v && parse_double(key, v, 1, 8, &f, NULL) == ENH_OK) {
            o->upscale = ENH_UPSCALE_PHOTO;
            o->scale = f;
            return ENH_OK;
        }
        return enh_fail(err, ENH_EINVAL,
                        "query key 'upscale' must be photo, art, quality, resample, off or a factor 1..8, got '%s'",
                        v ? v : "");
    }
    if (!strcmp(key, "scale"))
        return parse_double(key, v, 1, 8, &o->scale, err);
    if (!strcmp(key, "model")) {
        if (!v || !*v || strlen(v) >= sizeof o->model)
            return enh_fail(err, ENH_EINVAL, "query key 'model' needs a model name (at most %zu chars)",
                            sizeof o->model - 1);
        strcpy(o->model, v);
        return ENH_OK;
    }
    if (!strcmp(key, "decompress"))
        return parse_strength(key, v, &o->decompress, err);
    if (!strcmp(key, "denoise"))
        return parse_strength(key, v, &o->denoise, err);
    if (!strcmp(key, "deblur"))
        return parse_strength(key, v, &o->deblur, err);
    if (!strcmp(key, "sharpen"))
        return parse_strength(key, v, &o->sharpen, err);
    if (!strcmp(key, "auto"))
        return parse_bool(key, v, &o->auto_mode, err);
    /* adjustments */
    if (!strcmp(key, "auto_color"))
        return parse_bool(key, v, &o->auto_color, err);
    if (!strcmp(key, "auto_exposure"))
        return parse_bool(key, v, &o->auto_exposure, err);
    if (!strcmp(key, "hdr"))
        return parse_int(key, v, 0, 100, &o->hdr, err);
    static const char *const signed_keys[] = {"exposure", "contrast", "saturation", "sharpness", "temperature",
                                              "tint"};
    int *signed_fields[] = {&o->exposure, &o->contrast, &o->saturation, &o->sharpness, &o->temperature, &o->tint};
    for (size_t i = 0; i < sizeof signed_keys / sizeof signed_keys[0]; i++)
        if (!strcmp(key, signed_keys[i]))
            return parse_int(key, v, -100, 100, signed_fields[i], err);
    /* resizing */
    if (!strcmp(key, "width"))
        return parse_size(key, v, &o->width, &o->width_pct, err);
    if (!strcmp(key, "height"))
        return parse_size(key, v, &o->height, &o->height_pct, err);
    if (!strcmp(key, "resize"))
        return parse_double(key, v, 0.1, 8, &o->resize_scale, err);
    if (!strcmp(key, "fit")) {
        static const struct {
            const char *n;
            enh_fit f;
        } fits[] = {{"inside", ENH_FIT_INSIDE}, {"bounds", ENH_FIT_INSIDE}, {"cover", ENH_FIT_COVER},
                    {"crop", ENH_FIT_COVER},    {"fill", ENH_FIT_FILL},     {"pad", ENH_FIT_PAD},
                    {"canvas", ENH_FIT_PAD}};
        for (size_t i = 0; i < sizeof fits / sizeof fits[0]; i++) {
            if (v && !strcasecmp(v, fits[i].n)) {
                o->fit = fits[i].f;
                return ENH_OK;
            }
        }
        return enh_fail(err, ENH_EINVAL, "query key 'fit' must be inside, cover, fill or pad, got '%s'", v ? v : "");
    }
    if (!strcmp(key, "gravity")) {
        if (v && (!strcasecmp(v, "centre") || !strcasecmp(v, "center"))) {
            o->gravity = ENH_GRAVITY_CENTRE;
            return ENH_OK;
        }
        if (v && !strcasecmp(v, "smart")) {
            o->gravity = ENH_GRAVITY_SMART;
            return ENH_OK;
        }
        return enh_fail(err, ENH_EINVAL, "query key 'gravity' must be centre or smart, got '%s'", v ? v : "");
    }
    if (!strcmp(key, "padding"))
        return parse_int(key, v, 0, 10000, &o->padding, err);
    if (!strcmp(key, "background")) {
        double c[4] = {0, 0, 0, 255};
        int n = 0;
        const char *s = v ? v : "";
        while (*s && n < 4) {
            char *end;
            double d = strtod(s, &end);
            if (end == s || d < 0 || d > 255)
                break;
            c[n++] = d;
            s = end;
            if (*s == ',')
                s++;
            else
                break;
        }
        if (*s || (n != 3 && n != 4))
            return enh_fail(err, ENH_EINVAL, "query key 'background' must be R,G,B or R,G,B,A (0..255), got '%s'",
                            v ? v : "");
        memcpy(o->background, c, sizeof c);
        return ENH_OK;
    }
    /* output */
    if (!strcmp(key, "format")) {
        enh_status st = enh_format_from_name(v ? v : "", &o->format, err);
        return st ? enh_error_prefix(err, "query key 'format'") : ENH_OK;
    }
    if (!strcmp(key, "quality"))
        return parse_int(key, v, 1, 100, &o->quality, err);
    if (!strcmp(key, "metadata"))
        return parse_bool(key, v, &o->keep_metadata, err);
    if (!strcmp(key, "bit_depth")) {
        enh_status st = parse_int(key, v, 8, 16, &o->bit_depth, err);
        if (!st && o->bit_depth != 8 && o->bit_depth != 16)
            st = enh_fail(err, ENH_EINVAL, "query key 'bit_depth' must be 8 or 16, got '%s'", v);
        return st;
    }
    if (!strcmp(key, "progressive"))
        return parse_bool(key, v, &o->progressive, err);
    if (!strcmp(key, "lossless"))
        return parse_bool(key, v, &o->lossless, err);
    p->has_ops = 0;
    return enh_fail(err, ENH_EINVAL,
                    "unknown query key '%s' (operations: upscale, scale, model, auto, decompress, denoise, deblur, "
                    "sharpen, auto_color, auto_exposure, hdr, exposure, contrast, saturation, sharpness, temperature, "
                    "tint, width, height, resize, fit, gravity, padding, background, format, quality, metadata, "
                    "bit_depth, progressive, lossless; server: priority, deadline_ms)",
                    key);
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
