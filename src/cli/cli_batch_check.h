/* cli_batch_check.h - folder mode's checks: `--moderation flag|block` and `--check-report
 * FILE.jsonl` (enhance/check.h on each input before it is enhanced).
 *
 * Each image processed gets one JSON line in the report: the check (decision, probabilities,
 * BRISQUE, assessment) plus "image" (its path relative to DIR) and "action" ("enhanced",
 * "blocked": refused by --moderation block and not enhanced, or "failed" with "error"). A line
 * is written with one write() on an O_APPEND descriptor and fsync'd, after the image's fate is
 * known, so the report never holds half a line or a line for work that was lost: a run killed
 * mid-image leaves no line for it, and the rerun (which redoes that image) writes it. Like the
 * batch journal, a fresh run (new options, --force) starts the report empty and a resumed run
 * appends; images already recorded as blocked are not checked again (their line stands), and
 * a torn last line (a crash mid-write) is cut off before appending.
 *
 * Ownership: cli_batch_checker owns the checker and the report descriptor. Not thread-safe
 * (one batch per process). Errors: -1 with a message in msg (the report cannot be opened or
 * written, the policy is bad, the classifier is missing with --moderation).
 */
#ifndef ENH_CLI_BATCH_CHECK_H
#define ENH_CLI_BATCH_CHECK_H

#include <stddef.h>

#include "enhance/check.h"
#include "enhance/ops.h"

typedef struct cli_batch_checker {
    enh_checker *k;
    enh_check_opts opts;
    enh_moderation mode;
    unsigned long long max_pixels; /* the decode's pixel cap (the batch's --max-pixels) */
    int fd;                 /* the report, or -1 */
    char **blocked;         /* images recorded as blocked by an earlier run (sorted) */
    size_t nblocked;
    size_t nblock_now, nflagged; /* this run: blocked, and flagged for review */
} cli_batch_checker;

/* 1 when folder mode needs a checker (a report or moderation asked for). */
int cli_batch_check_wanted(const char *report, enh_moderation mode);
/* report may be NULL; policy NULL or "" = the defaults; fresh = start the report empty. */
int cli_batch_check_open(cli_batch_checker *bc, const char *report, enh_moderation mode, const char *policy,
                         int fresh, char *msg, size_t n);
/* 1 when an earlier run recorded rel as blocked (still blocked: skip it, no new line). */
int cli_batch_check_was_blocked(const cli_batch_checker *bc, const char *rel);
/* Checks the image at path. *r gets the result; returns 1 when --moderation block refuses it
 * (its line is written then), 0 to go on, -1 on an error (message in msg: the image is failed). */
int cli_batch_check_image(cli_batch_checker *bc, const char *path, const char *rel, enh_check_result *r, char *msg,
                          size_t n);
/* The line of an image that went on: action "enhanced" (error NULL) or "failed". */
void cli_batch_check_record(cli_batch_checker *bc, const char *rel, const enh_check_result *r, const char *error);
void cli_batch_check_close(cli_batch_checker *bc);

#endif
