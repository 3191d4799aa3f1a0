/* cli_job.h - what `enhance` runs for one image: decode -> pipeline -> encode, plus the
 * settings shared by single-file and folder mode, exit codes and Ctrl-C handling.
 * Not thread-safe (one job at a time per process; the work inside uses the pool). */
#ifndef ENH_CLI_JOB_H
#define ENH_CLI_JOB_H

#include <stdatomic.h>
#include <stddef.h>

#include "cli/cli_progress.h"
#include "core/error.h"
#include "enhance/ops.h"
#include "enhance/pipeline.h"
#include "image/image_probe.h"
#include "nn/nn_options.h"

typedef struct cli_settings {
    enh_ops ops;
    enh_nn_options nn;     /* the AI models' runtime options: the process default (ENHANCE_*,
                              cli_env.h) with --precision on top */
    unsigned long long max_pixels;
    size_t memory_limit;   /* 0 = default */
    int threads;           /* 0 = default */
    int explain;
    int quiet;
    int progress;          /* draw progress bars */
    int recursive;
    int force;             /* folder mode: redo complete outputs too */
    const char *check_report;      /* folder mode: --check-report FILE.jsonl (cli_batch_check.h), or NULL */
    const char *moderation_policy; /* --moderation-policy SPEC for ops.moderation and the report, or NULL */
} cli_settings;

typedef struct cli_job_result {
    enh_image_info in;
    enh_format out_format;
    int out_width, out_height;
    long long out_bytes;
    double seconds;
    enh_pipeline_report report;
} cli_job_result;

/* Called with the job's own fraction done (0..1) and a short phase name. */
typedef void (*cli_job_progress_fn)(void *user, const char *phase, double fraction);

/* Runs one image to `out_path` (parent directories are created). The output format is
 * ops.format, else the suffix of out_path, else the input's. */
enh_status cli_job_run(const char *in_path, const char *out_path, const cli_settings *s, atomic_int *cancel,
                       cli_job_progress_fn progress, void *progress_user, cli_job_result *r, enh_error *err);

/* 0 ok; 1 bad input/usage (user can fix); 2 internal error; 130 interrupted. */
int cli_exit_code(enh_status st);

/* SIGINT/SIGTERM set *cli_cancel_flag() (a second Ctrl-C kills at once). */
void cli_install_signal_handlers(void);
atomic_int *cli_cancel_flag(void);

#endif
