/* cli_batch_journal.c - see cli_batch_journal.h. */
#include "cli/cli_batch_journal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/sha256.h"

static int cmp_rec(const void *a, const void *b)
{
    const cli_journal_rec *x = a, *y = b;
    int c = strcmp(x->rel, y->rel);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_rel(const void *key, const void *b)
{
    return strcmp((const char *)key, ((const cli_journal_rec *)b)->rel);
}

int cli_journal_load(cli_journal *j, const char *out_dir, int fresh)
{
    memset(j, 0, sizeof *j);
    size_t lp = strlen(out_dir);
    j->path = malloc(lp + sizeof CLI_BATCH_JOURNAL_FILE + 1);
    if (!j->path)
        return -1;
    snprintf(j->path, lp + sizeof CLI_BATCH_JOURNAL_FILE + 1, "%s/%s", out_dir, CLI_BATCH_JOURNAL_FILE);
    if (fresh) {
        unlink(j->path);
        return 0;
    }
    FILE *f = fopen(j->path, "r");
    if (!f)
        return 0;
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] != '\n')
            break; /* a torn last line (killed mid-append): ignored */
        line[len - 1] = 0;
        long long size = -1;
        char hex[65];
        int off = 0;
        if (sscanf(line, "%lld %64[0-9a-f] %n", &size, hex, &off) != 2 || off <= 0 || size < 0 ||
            strlen(hex) != 64 || !line[off])
            continue;
        if (j->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            cli_journal_rec *nv = realloc(j->v, nc * sizeof *nv);
            if (!nv) {
                rc = -1;
                break;
            }
            j->v = nv;
            cap = nc;
        }
        cli_journal_rec *r = &j->v[j->n];
        r->rel = strdup(line + off);
        if (!r->rel) {
            rc = -1;
            break;
        }
        r->size = size;
        r->seq = j->n;
        memcpy(r->sha256, hex, 65);
        j->n++;
    }
    free(line);
    fclose(f);
    if (j->n) {
        /* sorted by path then line order, so the last of a run of equal paths is the latest */
        qsort(j->v, j->n, sizeof *j->v, cmp_rec);
        size_t w = 0;
        for (size_t i = 0; i < j->n; i++) {
            if (i + 1 < j->n && !strcmp(j->v[i].rel, j->v[i + 1].rel)) {
                free(j->v[i].rel);
                continue;
            }
            j->v[w++] = j->v[i];
        }
        j->n = w;
    }
    return rc;
}

static int hash_file(const char *path, long long *size, char hex[65])
{
    size_t bytes = 0;
    if (enh_sha256_file(path, hex, &bytes, NULL) != 0)
        return -1;
    *size = (long long)bytes;
    return 0;
}

int cli_journal_verify(const cli_journal *j, const char *rel, const char *out_path)
{
    const cli_journal_rec *r = j->n ? bsearch(rel, j->v, j->n, sizeof *j->v, cmp_rel) : NULL;
    if (!r)
        return 0;
    struct stat st;
    if (stat(out_path, &st) != 0 || (long long)st.st_size != r->size)
        return 0; /* cheap check first: most damage changes the size */
    long long size = 0;
    char hex[65];
    return hash_file(out_path, &size, hex) == 0 && size == r->size && !strcmp(hex, r->sha256);
}

int cli_journal_append(cli_journal *j, const char *rel, const char *out_path)
{
    if (strchr(rel, '\n'))
        return -1; /* cannot be one line: such an output is redone on every run */
    long long size = 0;
    char hex[65];
    if (hash_file(out_path, &size, hex) != 0)
        return -1;
    int fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    /* a line torn by a kill during an earlier append would swallow this one (found by
     * tests/fuzz/fuzz_journal.c): end it first */
    struct stat st;
    char last = '\n';
    if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
        last = '\n';
    char head[100];
    int hl = snprintf(head, sizeof head, "%s%lld %s ", last != '\n' ? "\n" : "", size, hex);
    size_t rl = strlen(rel);
    char *line = malloc((size_t)hl + rl + 2);
    int rc = -1;
    if (line) {
        memcpy(line, head, (size_t)hl);
        memcpy(line + hl, rel, rl);
        line[hl + rl] = '\n';
        /* one write of the whole line: O_APPEND keeps it in one piece */
        rc = write(fd, line, (size_t)hl + rl + 1) == (ssize_t)((size_t)hl + rl + 1) ? 0 : -1;
        free(line);
    }
    close(fd);
    return rc;
}

void cli_journal_free(cli_journal *j)
{
    for (size_t i = 0; i < j->n; i++)
        free(j->v[i].rel);
    free(j->v);
    free(j->path);
    memset(j, 0, sizeof *j);
}
