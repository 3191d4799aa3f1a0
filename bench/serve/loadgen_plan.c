/* loadgen_plan.c - plan files and image header sizes for serve_loadgen (see loadgen_plan.h). */
#include "loadgen_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        *len = (size_t)n;
    return b;
}

int plan_load(const char *path, plan *p)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char dir[1024] = ".";
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line + strspn(line, " \t");
        if (*s == '#' || *s == '\n' || !*s)
            continue;
        plan_kind k = {0};
        char image[1024], query[512];
        int n = sscanf(s, "%d %1023s %63s %511s %ld %d %d", &k.weight, image, k.ctype, query, &k.expect, &k.width,
                       &k.height);
        if ((n != 5 && n != 7) || k.weight < 1) {
            fprintf(stderr, "%s:%d: expected WEIGHT IMAGE CONTENT-TYPE QUERY STATUS [WIDTH HEIGHT]\n", path, lineno);
            rc = -1;
            break;
        }
        snprintf(k.query, sizeof k.query, "%s", strcmp(query, "-") ? query : "");
        char full[2100];
        snprintf(full, sizeof full, "%s%s%s", image[0] == '/' ? "" : dir, image[0] == '/' ? "" : "/", image);
        if (!(k.body = read_file(full, &k.body_len))) {
            fprintf(stderr, "%s:%d: cannot read %s\n", path, lineno, full);
            rc = -1;
            break;
        }
        const char *base = strrchr(image, '/');
        snprintf(k.name, sizeof k.name, "%.20s %.40s", base ? base + 1 : image, k.query);
        plan_kind *nk = realloc(p->kinds, (size_t)(p->nkinds + 1) * sizeof *nk);
        if (!nk) {
            free(k.body);
            rc = -1;
            break;
        }
        p->kinds = nk;
        p->kinds[p->nkinds++] = k;
        p->total_weight += k.weight;
    }
    fclose(f);
    if (rc == 0 && p->nkinds == 0) {
        fprintf(stderr, "%s: no request kinds\n", path);
        rc = -1;
    }
    if (rc == 0) { /* smooth weighted round-robin: kinds interleave instead of coming in runs */
        p->order = malloc((size_t)p->total_weight * sizeof *p->order);
        int *cur = calloc((size_t)p->nkinds, sizeof *cur);
        for (int i = 0; p->order && cur && i < p->total_weight; i++) {
            int best = 0;
            for (int j = 0; j < p->nkinds; j++) {
                cur[j] += p->kinds[j].weight;
                if (cur[j] > cur[best])
                    best = j;
            }
            cur[best] -= p->total_weight;
            p->order[i] = best;
        }
        free(cur);
        if (!p->order)
            rc = -1;
    }
    if (rc)
        plan_free(p);
    return rc;
}

void plan_free(plan *p)
{
    for (int i = 0; i < p->nkinds; i++)
        free(p->kinds[i].body);
    free(p->kinds);
    free(p->order);
    memset(p, 0, sizeof *p);
}

const plan_kind *plan_pick(const plan *p, unsigned long n)
{
    return &p->kinds[p->order[n % (unsigned long)p->total_weight]];
}

static unsigned be16(const unsigned char *b) { return (unsigned)b[0] << 8 | b[1]; }
static unsigned be32(const unsigned char *b) { return be16(b) << 16 | be16(b + 2); }
static unsigned le16(const unsigned char *b) { return (unsigned)b[1] << 8 | b[0]; }
static unsigned le24(const unsigned char *b) { return le16(b) | (unsigned)b[2] << 16; }

int image_dims(const unsigned char *b, size_t n, int *w, int *h)
{
    if (n >= 24 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8) && !memcmp(b + 12, "IHDR", 4)) {
        *w = (int)be32(b + 16);
        *h = (int)be32(b + 20);
        return 0;
    }
    if (n >= 4 && b[0] == 0xFF && b[1] == 0xD8) { /* JPEG: walk the segments to a SOFn */
        size_t i = 2;
        while (i + 9 < n) {
            if (b[i] != 0xFF)
                return -1;
            unsigned m = b[i + 1];
            if (m == 0xFF) {
                i++;
                continue;
            }
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                *h = (int)be16(b + i + 5);
                *w = (int)be16(b + i + 7);
                return 0;
            }
            i += 2 + be16(b + i + 2);
        }
        return -1;
    }
    if (n >= 30 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) {
        const unsigned char *c = b + 12;
        if (!memcmp(c, "VP8 ", 4)) {
            *w = (int)(le16(c + 14) & 0x3FFF);
            *h = (int)(le16(c + 16) & 0x3FFF);
            return 0;
        }
        if (!memcmp(c, "VP8L", 4)) {
            unsigned v = le16(c + 9) | (unsigned)le16(c + 11) << 16;
            *w = (int)(v & 0x3FFF) + 1;
            *h = (int)((v >> 14) & 0x3FFF) + 1;
            return 0;
        }
        if (!memcmp(c, "VP8X", 4)) {
            *w = (int)le24(c + 12) + 1;
            *h = (int)le24(c + 15) + 1;
            return 0;
        }
    }
    return -1;
}
