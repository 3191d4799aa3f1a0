/* cli_batch_check.c - folder mode's moderation and check report (see cli_batch_check.h). */
#include "cli/cli_batch_check.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/json_mem.h"
#include "image/image_decode.h"

int cli_batch_check_wanted(const char *report, enh_moderation mode)
{
    return (report && *report) || mode != ENH_MODERATION_OFF;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Cuts a torn last line (no newline: a crash mid-write) and collects the images recorded as
 * blocked. Returns 0, or -1 (msg) when the file cannot be read back or memory runs out (a
 * blocked image forgotten would be enhanced on resume). */
static int load_report(cli_batch_checker *bc, const char *path, char *msg, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0, good = 0, nb = 0, cb = 0;
    ssize_t len = 0;
    off_t off = 0;
    int oom = 0;
    while (!oom && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break;
        off += len;
        good = (size_t)off;
        json_error_t je;
        json_t *j = NULL;
        if (enh_json_parse(line, (size_t)len, 0, "the report", &j, &je, NULL)) {
            oom = 1;
            break;
        }
        const char *img = json_string_value(json_object_get(j, "image"));
        const char *act = json_string_value(json_object_get(j, "action"));
        if (img && act && !strcmp(act, "blocked")) {
            if (nb == cb) {
                size_t nc = cb ? 2 * cb : 16;
                char **v = realloc(bc->blocked, nc * sizeof *v);
                if (v) {
                    bc->blocked = v;
                    cb = nc;
                }
            }
            if (nb < cb && (bc->blocked[nb] = strdup(img)))
                nb++;
            else
                oom = 1;
        }
        json_decref(j);
    }
    /* getline's -1 before the end (its buffer could not grow, a read error): not a torn line to
     * cut there, which would cut every line after it too */
    int rerr = !oom && len < 0 && !feof(f) ? errno : 0;
    free(line);
    bc->nblocked = nb; /* freed by cli_batch_check_close, whatever happens next */
    if (oom || rerr) {
        snprintf(msg, n, "--check-report %s: %s", path,
                 oom || rerr == ENOMEM ? "out of memory reading it" : strerror(rerr));
        fclose(f);
        return -1;
    }
    fseeko(f, 0, SEEK_END);
    off_t size = ftello(f);
    fclose(f);
    if (size > (off_t)good && truncate(path, (off_t)good) != 0) {
        snprintf(msg, n, "--check-report %s: cannot cut its torn last line: %s", path, strerror(errno));
        return -1;
    }
    if (nb)
        qsort(bc->blocked, nb, sizeof *bc->blocked, cmp_str);
    return 0;
}

int cli_batch_check_open(cli_batch_checker *bc, const char *report, enh_moderation mode, const char *policy,
                         int fresh, char *msg, size_t n)
{
    memset(bc, 0, sizeof *bc);
    bc->fd = -1;
    bc->mode = mode;
    bc->max_pixels = ENH_IMAGE_DEFAULT_MAX_PIXELS;
    enh_check_opts_init(&bc->opts);
    enh_error err = {0};
    if (policy && *policy) {
        const char *s = policy;
        while (*s == ' ')
            s++;
        enh_status st = *s == '{' ? enh_check_policy_from_json(s, strlen(s), &bc->opts.policy, &err)
                                  : enh_check_policy_parse(s, &bc->opts.policy, &err);
        if (st) {
            snprintf(msg, n, "--moderation-policy: %s", err.msg);
            return -1;
        }
    }
    /* without a report only the moderation runs; with --moderation it must run */
    int rep = report && *report;
    bc->opts.brisque = bc->opts.assess = rep ? ENH_CHECK_TRY : ENH_CHECK_SKIP;
    bc->opts.moderation = mode != ENH_MODERATION_OFF ? ENH_CHECK_REQUIRE : ENH_CHECK_TRY;
    bc->k = enh_checker_new(NULL, NULL, NULL, NULL, NULL);
    if (!bc->k) {
        snprintf(msg, n, "out of memory");
        return -1;
    }
    if (mode != ENH_MODERATION_OFF) { /* before any image: a missing classifier stops the run at once */
        const enh_classifier *c = NULL;
        if (enh_checker_classifier(bc->k, &c, &err)) {
            snprintf(msg, n, "--moderation %s needs the classifier (install it with `enhance models fetch %s`): %s",
                     mode == ENH_MODERATION_BLOCK ? "block" : "flag", enh_checker_classifier_name(bc->k), err.msg);
            return -1;
        }
    }
    if (rep) {
        if (!fresh && load_report(bc, report, msg, n))
            return -1;
        bc->fd = open(report, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0666);
        if (bc->fd < 0) {
            snprintf(msg, n, "--check-report %s: %s", report, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int cli_batch_check_was_blocked(const cli_batch_checker *bc, const char *rel)
{
    return bc->nblocked && bsearch(&rel, bc->blocked, bc->nblocked, sizeof *bc->blocked, cmp_str);
}

/* One whole line, one write(), then fsync: the report is never left with half a line. */
static void write_line(cli_batch_checker *bc, const char *rel, const enh_check_result *r, const char *action,
                       const char *error)
{
    if (bc->fd < 0)
        return;
    char *txt = enh_check_result_to_json(r, rel);
    json_error_t je;
    json_t *j = NULL;
    if (txt && enh_json_parse(txt, strlen(txt), 0, "the check's result", &j, &je, NULL))
        j = NULL; /* out of memory: no line (the image is checked again on resume), never a wrong one */
    free(txt);
    if (!j)
        return;
    /* out of memory: no line rather than one without its action or with bytes missing (a blocked
     * image whose line does not read back as blocked would be enhanced on resume) */
    int bad = json_object_set_new(j, "action", json_string(action));
    if (error)
        bad |= json_object_set_new(j, "error", json_string(error));
    char *line = bad ? NULL : enh_json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!line)
        return;
    size_t len = strlen(line);
    char *buf = realloc(line, len + 2);
    if (buf) {
        buf[len] = '\n';
        if (write(bc->fd, buf, len + 1) == (ssize_t)(len + 1))
            fsync(bc->fd);
        line = buf;
    }
    free(line);
}

int cli_batch_check_image(cli_batch_checker *bc, const char *path, const char *rel, enh_check_result *r, char *msg,
                          size_t n)
{
    VipsImage *img = NULL;
    enh_image_info info;
    enh_error err = {0};
    memset(r, 0, sizeof *r);
    enh_status st = enh_image_decode_file(path, bc->max_pixels, &img, &info, &err);
    if (!st) {
        bc->opts.jpeg_path = !strcmp(info.format, "jpeg") ? path : NULL;
        st = enh_check_run(bc->k, img, &bc->opts, r, &err);
        g_object_unref(img);
    }
    if (st) {
        snprintf(msg, n, "check: %s", err.msg);
        return -1;
    }
    if (r->moderation_ran && r->decision == ENH_CHECK_REVIEW)
        bc->nflagged++;
    if (bc->mode == ENH_MODERATION_BLOCK && r->moderation_ran && r->decision == ENH_CHECK_BLOCK) {
        bc->nblock_now++;
        write_line(bc, rel, r, "blocked", NULL);
        return 1;
    }
    return 0;
}

void cli_batch_check_record(cli_batch_checker *bc, const char *rel, const enh_check_result *r, const char *error)
{
    write_line(bc, rel, r, error ? "failed" : "enhanced", error);
}

void cli_batch_check_close(cli_batch_checker *bc)
{
    if (bc->fd >= 0)
        close(bc->fd);
    for (size_t i = 0; i < bc->nblocked; i++)
        free(bc->blocked[i]);
    free(bc->blocked);
    enh_checker_free(bc->k);
    memset(bc, 0, sizeof *bc);
    bc->fd = -1;
}
