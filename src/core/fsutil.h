/* fsutil.h - file-system helpers: atomic output, directories, small file reads.
 *
 * Atomic output: write to the path from enh_tmp_path_for() (same directory, hidden,
 * unique per process), then enh_commit_tmp() fsyncs and renames it over the final path,
 * so a reader never sees a half-written file; enh_discard_tmp() removes it on failure.
 * All functions are thread-safe and return enh_status with a message in *err. */
#ifndef ENH_CORE_FSUTIL_H
#define ENH_CORE_FSUTIL_H

#include <stddef.h>
#include "core/error.h"

/* Writes "<dir>/.<base>.tmp-<pid>-<n><ext>" into out (keeps the extension so encoders
 * that pick a format from the suffix still work). */
enh_status enh_tmp_path_for(const char *final_path, char *out, size_t out_size, enh_error *err);
enh_status enh_commit_tmp(const char *tmp_path, const char *final_path, enh_error *err);
void enh_discard_tmp(const char *tmp_path);

/* mkdir -p; mode 0755. */
enh_status enh_mkdirs(const char *path, enh_error *err);

/* Reads a whole file (up to max_bytes) into a malloc'd buffer (NUL-terminated, not counted). */
enh_status enh_read_file(const char *path, size_t max_bytes, char **data, size_t *len, enh_error *err);
/* Atomically writes data to path. */
enh_status enh_write_file_atomic(const char *path, const void *data, size_t len, enh_error *err);

/* The folder of path into out: what comes before its last '/' ("" for "/name"), "." when it
 * has none. Truncated to n bytes. */
void enh_path_dir(const char *path, char *out, size_t n);

int enh_is_dir(const char *path);
int enh_is_file(const char *path);

/* Monotonic clock in seconds. */
double enh_now(void);
/* CPU time of the whole process (all threads) in seconds: unlike wall time, not inflated
 * when a shared machine preempts us (benchmarks report both). */
double enh_process_cpu_seconds(void);

#endif
