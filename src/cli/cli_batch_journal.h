/* cli_batch_journal.h - the record of finished batch outputs: size and SHA-256 of each.
 *
 * An mtime says when an output was written, not that it is still intact: a file damaged
 * after the run (truncated by a full disk, overwritten by another tool) would otherwise be
 * "already done" forever. Each finished output is appended as one line
 * "<size> <sha256> <relative path>" to OUTDIR/CLI_BATCH_JOURNAL_FILE; a rerun skips an output
 * only when its current size and hash match its latest record. An output without a record
 * (e.g. the run was killed between the rename and the append) is simply redone.
 * Ownership: cli_journal owns its lines; free with cli_journal_free. Not thread-safe.
 * Errors: loading a missing or unreadable journal gives an empty one (everything is redone);
 * a failed append returns -1 (the output is then redone next time, nothing is lost). */
#ifndef ENH_CLI_BATCH_JOURNAL_H
#define ENH_CLI_BATCH_JOURNAL_H

#include <stddef.h>

#define CLI_BATCH_JOURNAL_FILE ".enhance-batch.done"

typedef struct cli_journal_rec {
    char *rel;            /* output path relative to OUTDIR */
    long long size;
    char sha256[65];
    size_t seq;           /* line number: orders records of one path */
} cli_journal_rec;

typedef struct cli_journal {
    cli_journal_rec *v;   /* sorted by rel after load; the latest record of a path wins */
    size_t n;
    char *path;           /* the journal file */
} cli_journal;

/* Reads OUTDIR's journal; fresh != 0 starts it empty (the options changed or --force).
 * Returns 0, or -1 on out of memory. */
int cli_journal_load(cli_journal *j, const char *out_dir, int fresh);
/* 1 when out_path (whose name in OUTDIR is rel) matches its record, else 0. */
int cli_journal_verify(const cli_journal *j, const char *rel, const char *out_path);
/* Hashes out_path and appends its record (flushed to the file before returning). */
int cli_journal_append(cli_journal *j, const char *rel, const char *out_path);
void cli_journal_free(cli_journal *j);

#endif
