/* cli_batch.c - folder mode: scan, name outputs, skip complete ones, run, summarise. */
#include "cli/cli_batch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_args.h"
#include "cli/cli_batch_check.h"
#include "cli/cli_batch_journal.h"
#include "cli/cli_batch_state.h"
#include "core/fsutil.h"
#include "enhance/ops.h"
#include "image/image_encode.h"
#include "image/image_format.h"
#include "image/image_probe.h"

typedef struct item {
    char *rel;         /* path relative to DIR */
    char *out_rel;     /* path relative to OUTDIR */
    char probed[8];    /* format from a probe at scan time, "" if not probed */
    char *conflict;    /* another input with the same output name */
} item;

typedef struct items {
    item *v;
    size_t n, cap;
    int ignored;       /* files that are not accepted images */
} items;

static const char *suffix_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : NULL;
}

static int has_image_suffix(const char *path) { return enh_format_input_suffix(suffix_of(path)); }

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    size_t o = la;
    if (la && a[la - 1] != '/' && lb)
        p[o++] = '/';
    memcpy(p + o, b, lb + 1);
    return p;
}

static int push(items *it, const char *rel, const char *probed)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 64;
        item *v = realloc(it->v, cap * sizeof *v);
        if (!v)
            return -1;
        it->v = v;
        it->cap = cap;
    }
    item *e = &it->v[it->n];
    memset(e, 0, sizeof *e);
    e->rel = strdup(rel);
    if (!e->rel)
        return -1;
    snprintf(e->probed, sizeof e->probed, "%s", probed ? probed : "");
    it->n++;
    return 0;
}

/* Collects candidate images under root/rel. exclude = real path of OUTDIR (not scanned). */
static int scan(const char *root, const char *rel, int recursive, const char *exclude, items *it)
{
    char *dir = *rel ? join(root, rel) : strdup(root);
    if (!dir)
        return -1;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "enhance: cannot read folder %s: %s\n", dir, strerror(errno));
        free(dir);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* hidden files, our temporaries and state */
        char *path = join(dir, e->d_name);
        char *r = *rel ? join(rel, e->d_name) : strdup(e->d_name);
        struct stat lst, st;
        if (!path || !r) {
            rc = -1;
        } else if (lstat(path, &lst) == 0 && S_ISDIR(lst.st_mode)) {
            char real[PATH_MAX];
            if (recursive && !(exclude && realpath(path, real) && !strcmp(real, exclude)))
                rc = scan(root, r, recursive, exclude, it);
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (has_image_suffix(r)) {
                rc = push(it, r, NULL);
            } else {
                enh_image_info info;
                enh_error err = {0};
                if (enh_image_probe_file(path, 0, &info, &err) == ENH_OK)
                    rc = push(it, r, info.format);
                else
                    it->ignored++;
            }
        }
        free(path);
        free(r);
    }
    closedir(d);
    free(dir);
    return rc;
}

static int cmp_items(const void *a, const void *b)
{
    return strcmp(((const item *)a)->rel, ((const item *)b)->rel);
}

static const item *g_sort_base;
static int cmp_out(const void *a, const void *b)
{
    const item *x = &g_sort_base[*(const size_t *)a], *y = &g_sort_base[*(const size_t *)b];
    int c = strcmp(x->out_rel, y->out_rel);
    return c ? c : strcmp(x->rel, y->rel);
}

/* Output name: the input's path with the suffix of the output format. */
static int name_outputs(items *it, const char *in_dir, const cli_settings *s)
{
    for (size_t i = 0; i < it->n; i++) {
        item *e = &it->v[i];
        const char *suf = suffix_of(e->rel);
        size_t stem = suf ? (size_t)(suf - 1 - e->rel) : strlen(e->rel);
        const char *ext;
        if (s->ops.format != ENH_FORMAT_SAME) {
            ext = enh_format_extension(s->ops.format);
        } else if (suf && enh_format_from_path(e->rel) != ENH_FORMAT_SAME) {
            ext = suf; /* keep .JPG, .jpeg, ... as they were */
        } else {
            if (!e->probed[0]) {
                char *p = join(in_dir, e->rel);
                enh_image_info info;
                enh_error err = {0};
                if (p && enh_image_probe_file(p, 0, &info, &err) == ENH_OK)
                    snprintf(e->probed, sizeof e->probed, "%s", info.format);
                free(p);
            }
            ext = enh_format_extension(enh_format_for_input(e->probed[0] ? e->probed : NULL));
        }
        size_t len = stem + 1 + strlen(ext) + 1;
        e->out_rel = malloc(len);
        if (!e->out_rel)
            return -1;
        snprintf(e->out_rel, len, "%.*s.%s", (int)stem, e->rel, ext);
    }
    /* two inputs mapping to one output name (a.jpg + a.png with --format webp) */
    size_t *idx = malloc((it->n + 1) * sizeof *idx);
    if (!idx)
        return -1;
    for (size_t i = 0; i < it->n; i++)
        idx[i] = i;
    g_sort_base = it->v;
    qsort(idx, it->n, sizeof *idx, cmp_out);
    for (size_t k = 1; k < it->n; k++)
        if (!strcmp(it->v[idx[k]].out_rel, it->v[idx[k - 1]].out_rel))
            it->v[idx[k]].conflict = it->v[idx[k - 1]].rel;
    free(idx);
    return 0;
}

static int ts_ge(struct timespec a, struct timespec b)
{
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec >= b.tv_nsec);
}

/* ---- stale temporaries ------------------------------------------------------------ */

/* Removes ".<name>.tmp-<pid>-<n>..." files whose writer process no longer exists. */
static int clean_stale(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int cleaned = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *path = join(dir, e->d_name);
        if (!path)
            break;
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth < 64) {
                cleaned += clean_stale(path, depth + 1);
            } else if (S_ISREG(st.st_mode) && e->d_name[0] == '.') {
                const char *t = strstr(e->d_name, ".tmp-");
                char *end = NULL;
                long pid = t ? strtol(t + 5, &end, 10) : 0;
                if (t && end && *end == '-' && pid > 0 && pid != (long)getpid() &&
                    kill((pid_t)pid, 0) != 0 && errno == ESRCH && unlink(path) == 0)
                    cleaned++;
            }
        }
        free(path);
    }
    closedir(d);
    return cleaned;
}

/* ---- running ---------------------------------------------------------------------- */

typedef struct {
    cli_progress *bar;
    size_t index, total;
    const char *name;
    int slow_ms;      /* test hook: pause while the temporary output exists */
    int slept;
} batch_progress;

static void on_job_progress(void *user, const char *phase, double f)
{
    batch_progress *bp = user;
    if (bp->slow_ms > 0 && !bp->slept && !strcmp(phase, "writing")) {
        bp->slept = 1;
        struct timespec ts = {bp->slow_ms / 1000, (long)(bp->slow_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    char label[512];
    snprintf(label, sizeof label, "[%zu/%zu] %s", bp->index + 1, bp->total, bp->name);
    cli_progress_draw(bp->bar, label, (bp->index + f) / (double)bp->total, 0);
}

typedef struct failure {
    char *rel;
    char *why;
} failure;

int cli_batch_run(const char *in_dir, const char *out_dir, const cli_settings *s)
{
    enh_error err = {0};
    char in_real[PATH_MAX], out_real[PATH_MAX];
    if (!realpath(in_dir, in_real)) {
        fprintf(stderr, "enhance: cannot open folder %s: %s\n", in_dir, strerror(errno));
        return 1;
    }
    if (enh_is_file(out_dir)) {
        fprintf(stderr, "enhance: %s is a folder, so -o must be a folder too, but %s is a file\n", in_dir, out_dir);
        return 1;
    }
    if (enh_mkdirs(out_dir, &err) != ENH_OK) {
        fprintf(stderr, "enhance: %s\n", err.msg);
        return 1;
    }
    if (!realpath(out_dir, out_real)) {
        fprintf(stderr, "enhance: cannot open folder %s: %s\n", out_dir, strerror(errno));
        return 1;
    }
    if (!strcmp(in_real, out_real)) {
        fprintf(stderr, "enhance: the output folder must differ from the input folder (it would overwrite the "
                        "originals); e.g. -o %s/enhanced\n", in_dir);
        return 1;
    }

    int cleaned = clean_stale(out_real, 0);
    items it = {0};
    if (scan(in_real, "", s->recursive, out_real, &it) != 0 && it.n == 0) {
        free(it.v);
        return 1;
    }
    qsort(it.v, it.n, sizeof *it.v, cmp_items);
    if (name_outputs(&it, in_real, s) != 0) {
        fprintf(stderr, "enhance: out of memory\n");
        return 2;
    }
    struct timespec since = {0, 0};
    int fresh = 0;
    if (cli_batch_state_establish(out_real, s, &since, &fresh, &err) != 0) {
        fprintf(stderr, "enhance: the state file in %s: %s\n", out_dir, err.msg);
        return err.code == ENH_ENOMEM ? 2 : 1;
    }
    cli_journal journal;
    if (cli_journal_load(&journal, out_real, fresh) != 0) {
        cli_journal_free(&journal);
        fprintf(stderr, "enhance: out of memory\n");
        return 2;
    }

    cli_batch_checker checker;
    int checking = cli_batch_check_wanted(s->check_report, s->ops.moderation);
    if (checking) {
        char msg[1200];
        if (cli_batch_check_open(&checker, s->check_report, s->ops.moderation, s->moderation_policy, fresh, msg,
                                 sizeof msg)) {
            fprintf(stderr, "enhance: %s\n", msg);
            cli_batch_check_close(&checker);
            cli_journal_free(&journal);
            return 1;
        }
        checker.max_pixels = s->max_pixels;
    }

    /* One file's worth of memory at a time: image-sized buffers straight from mmap (freeing one
     * returns it; glibc's adaptive threshold otherwise rises to 32 MB after the first big free
     * and later buffers stay in the arenas), and the arenas trimmed after each file. Figures in
     * README.md ("Folders"). Process-wide, so set here by the process owner, as `enhance serve`
     * does (cmd_serve.c). */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    cli_progress bar;
    cli_progress_init(&bar, s->progress);
    atomic_int *cancel = cli_cancel_flag();
#ifdef ENH_TEST_HOOKS /* test builds only (CMake option): the tests kill -9 a run mid-save */
    const char *slow = getenv("ENHANCE_TEST_SLOW_SAVE_MS");
#else
    const char *slow = NULL;
#endif
    size_t done = 0, skipped = 0, nfailed = 0, blocked = 0;
    failure *failed = calloc(it.n + 1, sizeof *failed);
    int interrupted = 0;
    double t0 = enh_now();
    if (!s->quiet && it.n == 0)
        fprintf(stderr, "enhance: no images found in %s%s\n", in_dir, s->recursive ? "" : " (use -r for subfolders)");

    for (size_t i = 0; i < it.n && failed; i++) {
        if (atomic_load(cancel)) {
            interrupted = 1;
            break;
        }
        item *e = &it.v[i];
        char *in_path = join(in_dir, e->rel), *out_path = join(out_dir, e->out_rel);
        if (!in_path || !out_path) {
            free(in_path);
            free(out_path);
            break;
        }
        if (e->conflict) {
            char why[1024];
            snprintf(why, sizeof why, "its output %s is also the output of %s (use --format or rename one)",
                     e->out_rel, e->conflict);
            failed[nfailed].rel = e->rel;
            failed[nfailed++].why = strdup(why);
            cli_progress_clear(&bar);
            fprintf(stderr, "[%zu/%zu] FAILED %s: %s\n", i + 1, it.n, e->rel, why);
            free(in_path);
            free(out_path);
            continue;
        }
        struct stat ist, ost;
        int in_ok = stat(in_path, &ist) == 0;
        if (!s->force && in_ok && stat(out_path, &ost) == 0 && S_ISREG(ost.st_mode) &&
            ts_ge(ost.st_mtim, ist.st_mtim) && ts_ge(ost.st_mtim, since) &&
            cli_journal_verify(&journal, e->out_rel, out_path)) {
            skipped++;
            if (!s->quiet && !s->progress)
                printf("[%zu/%zu] skip %s (already done)\n", i + 1, it.n, e->rel);
            free(in_path);
            free(out_path);
            continue;
        }
        enh_check_result cr;
        if (checking) {
            char why[1200];
            int c = cli_batch_check_was_blocked(&checker, e->rel)
                        ? 1
                        : cli_batch_check_image(&checker, in_path, e->rel, &cr, why, sizeof why);
            if (c != 0) {
                if (c > 0) {
                    blocked++;
                    if (!s->quiet)
                        printf("[%zu/%zu] blocked %s (moderation: %s)\n", i + 1, it.n, e->rel,
                               cli_batch_check_was_blocked(&checker, e->rel) ? "recorded by an earlier run"
                               : cr.nreasons ? enh_nsfw_class_name(cr.reasons[0].cls) : "?");
                } else {
                    failed[nfailed].rel = e->rel;
                    failed[nfailed++].why = strdup(why);
                    fprintf(stderr, "[%zu/%zu] FAILED %s: %s\n", i + 1, it.n, e->rel, why);
                }
                free(in_path);
                free(out_path);
                continue;
            }
        }
        batch_progress bp = {&bar, i, it.n, e->rel, slow ? atoi(slow) : 0, 0};
        cli_job_result r;
        enh_status st = cli_job_run(in_path, out_path, s, cancel, on_job_progress, &bp, &r, &err);
        if (st == ENH_ECANCELLED) {
            interrupted = 1;
            free(in_path);
            free(out_path);
            break;
        }
        cli_progress_clear(&bar);
        if (checking)
            cli_batch_check_record(&checker, e->rel, &cr, st == ENH_OK ? NULL : err.msg);
        if (st == ENH_OK) {
            done++;
            cli_journal_append(&journal, e->out_rel, out_path); /* failing: redone next time */
            if (!s->quiet)
                printf("[%zu/%zu] ok %s -> %s (%dx%d, %.2f s)\n", i + 1, it.n, e->rel, e->out_rel, r.out_width,
                       r.out_height, r.seconds);
        } else {
            /* messages usually start with the input's path already */
            const char *why = err.msg;
            size_t lp = strlen(in_path);
            if (!strncmp(why, in_path, lp) && !strncmp(why + lp, ": ", 2))
                why += lp + 2;
            failed[nfailed].rel = e->rel;
            failed[nfailed++].why = strdup(why);
            fprintf(stderr, "[%zu/%zu] FAILED %s: %s\n", i + 1, it.n, e->rel, why);
        }
        fflush(stdout);
        free(in_path);
        free(out_path);
        malloc_trim(0); /* the file's buffers, freed by now, back to the system (RSS) */
    }
    cli_progress_destroy(&bar);
    cli_journal_free(&journal);
    if (checking)
        cli_batch_check_close(&checker);

    if (!s->quiet) {
        printf("%s: %zu done, %zu skipped (already complete), %zu failed", interrupted ? "interrupted" : "finished",
               done, skipped, nfailed);
        if (blocked)
            printf(", %zu blocked by moderation", blocked);
        if (it.ignored)
            printf(", %d non-image files ignored", it.ignored);
        printf(" in %.1f s -> %s\n", enh_now() - t0, out_dir);
        if (cleaned)
            printf("removed %d temporary file%s left by an interrupted run\n", cleaned, cleaned == 1 ? "" : "s");
    }
    if (nfailed) {
        fprintf(stderr, "failed files:\n");
        for (size_t k = 0; k < nfailed; k++)
            fprintf(stderr, "  %s: %s\n", failed[k].rel, failed[k].why ? failed[k].why : "?");
    }
    if (interrupted)
        fprintf(stderr, "interrupted: run the same command again to resume (finished files are kept)\n");
    for (size_t k = 0; failed && k < nfailed; k++)
        free(failed[k].why);
    free(failed);
    for (size_t k = 0; k < it.n; k++) {
        free(it.v[k].rel);
        free(it.v[k].out_rel);
    }
    free(it.v);
    return interrupted ? 130 : nfailed ? 1 : 0;
}
