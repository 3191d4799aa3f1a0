/* fuzz_util.c - helpers shared by the fuzz targets (fuzz.h). */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

void fuzz_split(const uint8_t *d, size_t n, size_t *alen, const uint8_t **b, size_t *blen)
{
    const size_t ml = sizeof FUZZ_SPLIT - 1;
    const uint8_t *m = n >= ml ? memmem(d, n, FUZZ_SPLIT, ml) : NULL;
    if (!m) {
        *alen = n, *b = d + n, *blen = 0;
        return;
    }
    *alen = (size_t)(m - d);
    *b = m + ml;
    *blen = n - *alen - ml;
}

void *fuzz_join(const void *a, size_t alen, const void *b, size_t blen, size_t *len)
{
    const size_t ml = sizeof FUZZ_SPLIT - 1;
    unsigned char *r = malloc(alen + ml + blen + 1);
    if (!r)
        fuzz_fail("out of memory");
    memcpy(r, a, alen);
    memcpy(r + alen, FUZZ_SPLIT, ml);
    memcpy(r + alen + ml, b, blen);
    *len = alen + ml + blen;
    return r;
}

unsigned long fuzz_accepted;

static char g_dir[64];

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", g_dir);
}

const char *fuzz_tmpdir(void)
{
    if (!g_dir[0]) {
        const char *t = getenv("TMPDIR"); /* a harness may read the environment; the library never does */
        snprintf(g_dir, sizeof g_dir, "%.40s/enh-fuzz-XXXXXX", t && *t && strlen(t) < 40 ? t : "/tmp");
        if (!mkdtemp(g_dir))
            fuzz_fail("cannot create a folder under %s", g_dir);
        atexit(remove_tmpdir);
    }
    return g_dir;
}

void fuzz_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        fuzz_fail("cannot write %s", path);
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

void fuzz_check_status(const char *what, enh_status st, const enh_error *e)
{
    if (st == ENH_OK)
        return;
    if (st != ENH_EINVAL && st != ENH_EUNSUPPORTED && st != ENH_ETOOBIG && st != ENH_ENOTFOUND && st != ENH_ENOMEM)
        fuzz_fail("%s: status %d for a user's input (message '%s')", what, (int)st, e->msg);
    if (!e->msg[0])
        fuzz_fail("%s: status %d without a message", what, (int)st);
    json_t *j = json_string(e->msg); /* the server puts messages in JSON: they must be UTF-8 */
    if (!j)
        fuzz_fail("%s: the message is not valid UTF-8: %s", what, e->msg);
    json_decref(j);
}
