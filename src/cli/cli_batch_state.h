/* cli_batch_state.h - folder mode's options state: OUTDIR/.enhance-batch.json records the hash
 * of the options the outputs are made with and the time they were first used ("since"), in the
 * file system's own clock; outputs older than that are redone (cli_batch.h).
 * Not thread-safe (one batch per process). Errors: -1 with err (the state cannot be written, or
 * memory ran out reading it: ENH_ENOMEM, never a state misread as absent, which would redo
 * every finished output). */
#ifndef ENH_CLI_BATCH_STATE_H
#define ENH_CLI_BATCH_STATE_H

#include <time.h>

#include "cli/cli_job.h"
#include "core/error.h"

/* since: the time the current options were first used in out_dir (the state is written, with
 * now, when it is absent, made with other options, or s->force); *fresh is set when that time
 * starts now. 0, or -1 with err. */
int cli_batch_state_establish(const char *out_dir, const cli_settings *s, struct timespec *since, int *fresh,
                              enh_error *err);

#endif
