/* cli_batch.h - folder mode: `enhance DIR -o OUTDIR [-r]`.
 *
 * Every image in DIR (known image suffix, or any other file whose header probes as an
 * accepted image; hidden files skipped; subfolders with -r) is enhanced into OUTDIR under
 * the same relative path, with the suffix of --format or else the input's (GIF -> .png,
 * HEIC -> .avif). Outputs are written atomically, so a present output is complete: it is
 * skipped when it is newer than its input, was made with the current options and still has
 * the size and SHA-256 recorded when it was finished (cli_batch_journal.h). The
 * options' hash and the time they were first used live in OUTDIR/.enhance-batch.json
 * (written atomically); outputs older than that time are redone. Rerunning after Ctrl-C
 * or kill -9 therefore resumes without redoing finished files; temporary files left by a
 * killed run (whose process is gone) are removed first. Bad files are reported and skipped.
 * Progress: a bar with count and ETA on a TTY, one line per file otherwise.
 * Not thread-safe (one batch per process). */
#ifndef ENH_CLI_BATCH_H
#define ENH_CLI_BATCH_H

#include "cli/cli_job.h"

/* Returns the exit code: 0 all done, 1 some file failed or bad usage, 130 interrupted. */
int cli_batch_run(const char *in_dir, const char *out_dir, const cli_settings *s);

/* Name of the state file inside OUTDIR. */
#define CLI_BATCH_STATE_FILE ".enhance-batch.json"

#endif
