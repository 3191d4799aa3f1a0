/* cli_batch_state.c - folder mode's options state, OUTDIR/.enhance-batch.json (cli_batch_state.h). */
#include "cli/cli_batch_state.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_batch.h"
#include "core/fsutil.h"
#include "core/json_mem.h"

/* The hash of the canonical operations JSON (enh_ops_to_json), not of the struct's bytes:
 * padding, unused bytes after the model name's terminator and the struct's layout would
 * otherwise decide whether a rerun resumes. -1 when out of memory (a hash of nothing would
 * match no state and redo every finished output). */
static int options_hash(const cli_settings *s, uint64_t *out)
{
    /* moderation decides which inputs are enhanced, not what an output is: changing it must
     * not redo the finished outputs (off is left out of the JSON, so older states still match) */
    enh_ops ops = s->ops;
    ops.moderation = ENH_MODERATION_OFF;
    char *json = enh_ops_to_json(&ops);
    if (!json)
        return -1;
    uint64_t h = 1469598103934665603ULL;
    const char *salt = "enhance-batch-v2";
    for (const char *p = salt; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = json; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    free(json);
    /* --precision lives outside enh_ops (in the runtime options, s->nn); bf16 output differs
     * from fp32, so it is part of the options. */
    enh_precision prec = s->nn.precision == ENH_PRECISION_DEFAULT ? ENH_PRECISION_FP32 : s->nn.precision;
    for (const char *p = enh_precision_name(prec); *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    *out = h;
    return 0;
}

static int write_state(const char *path, const char *hash, long long sec, long nsec, enh_error *err)
{
    json_t *j = json_pack("{s:i, s:s, s:I, s:I, s:s}", "version", 1, "options_hash", hash, "since_sec",
                          (json_int_t)sec, "since_nsec", (json_int_t)nsec, "note",
                          "enhance folder-mode state: outputs newer than 'since' made with these options are "
                          "complete; delete this file to redo everything");
    char *txt = j ? enh_json_dumps(j, JSON_INDENT(2)) : NULL; /* never a state a few bytes short */
    json_decref(j);
    if (!txt) {
        enh_fail(err, ENH_ENOMEM, "out of memory");
        return -1;
    }
    enh_status st = enh_write_file_atomic(path, txt, strlen(txt), err);
    free(txt);
    return st ? -1 : 0;
}

/* Reads the state; returns 1 when it exists and matches hash (since filled), 0 otherwise, -1
 * (err) when memory runs out: a state misread then would redo every finished output. */
static int read_state(const char *path, const char *hash, struct timespec *since, enh_error *err)
{
    char *text = NULL;
    size_t len = 0;
    enh_error rerr;
    enh_status st = enh_read_file(path, 1 << 20, &text, &len, &rerr);
    if (st == ENH_ENOMEM) {
        *err = rerr;
        return -1;
    }
    if (st) /* absent, unreadable or too large to be ours: start afresh */
        return 0;
    json_error_t je;
    json_t *j = NULL;
    st = enh_json_parse(text, len, 0, "the batch state", &j, &je, err);
    free(text);
    if (st)
        return -1;
    if (!j)
        return 0;
    const char *h = json_string_value(json_object_get(j, "options_hash"));
    json_t *sec = json_object_get(j, "since_sec"), *nsec = json_object_get(j, "since_nsec");
    int ok = h && !strcmp(h, hash) && json_is_integer(sec) && json_is_integer(nsec) && json_integer_value(sec) > 0;
    if (ok) {
        since->tv_sec = (time_t)json_integer_value(sec);
        since->tv_nsec = (long)json_integer_value(nsec);
    }
    json_decref(j);
    return ok;
}

/* The time options were first used, in the file system's own clock (mtime of the state).
 * *fresh is set when that time starts now (new options or --force). */
int cli_batch_state_establish(const char *out_dir, const cli_settings *s, struct timespec *since, int *fresh,
                              enh_error *err)
{
    char hash[32];
    uint64_t h = 0;
    if (options_hash(s, &h)) {
        enh_fail(err, ENH_ENOMEM, "out of memory");
        return -1;
    }
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)h);
    char *path = malloc(strlen(out_dir) + sizeof "/" CLI_BATCH_STATE_FILE);
    if (!path) {
        enh_fail(err, ENH_ENOMEM, "out of memory");
        return -1;
    }
    sprintf(path, "%s/%s", out_dir, CLI_BATCH_STATE_FILE);
    int rc = 0, have = s->force ? 0 : read_state(path, hash, since, err);
    *fresh = 0;
    if (have < 0) {
        rc = -1;
    } else if (!have) {
        *fresh = 1;
        struct stat st;
        if (write_state(path, hash, 0, 0, err) || stat(path, &st) != 0) {
            rc = -1;
        } else {
            *since = st.st_mtim;
            rc = write_state(path, hash, (long long)since->tv_sec, since->tv_nsec, err);
        }
    }
    free(path);
    return rc;
}
