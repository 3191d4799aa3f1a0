/* fuzz.h - what every fuzz target in tests/fuzz defines, and the helpers they share.
 *
 * A target is one file: LLVMFuzzerTestOneInput feeds one input to one parser's real entry point
 * and frees everything it got back (a leak is a finding), and fuzz_seeds emits valid inputs that
 * reach deep code (generated in code: no third-party file is committed). Each target is built
 * twice: with libFuzzer (-DENH_FUZZ=ON, clang: fuzz_NAME) and, in every tree, with replay.c's
 * main (fuzz_NAME_replay: the seeds, the regression inputs in corpus/NAME and deterministic
 * mutations of both, bounded in time; CTest label `fuzz`). bench/fuzz/README.md has the commands.
 *
 * A broken rule that the sanitizers cannot see (an internal error for a user's input, a round
 * trip that changes a value) is reported with fuzz_fail, which aborts: in a harness, unlike the
 * library, that is how libFuzzer and CTest learn of it. Not thread-safe (one input at a time). */
#ifndef ENH_TESTS_FUZZ_H
#define ENH_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef void (*fuzz_emit_fn)(void *ctx, const char *name, const void *data, size_t len);
/* Calls emit once per seed input (name: a short file name for the seed corpus). */
void fuzz_seeds(fuzz_emit_fn emit, void *ctx);

/* Inputs made of two files (model description + weights) are "A" FUZZ_SPLIT "B"; without the
 * marker all of it is A and B is empty. */
#define FUZZ_SPLIT "\n#--fuzz-split--#\n"
void fuzz_split(const uint8_t *d, size_t n, size_t *alen, const uint8_t **b, size_t *blen);
/* Joins a and b with the marker into a malloc'd buffer (for fuzz_seeds). */
void *fuzz_join(const void *a, size_t alen, const void *b, size_t blen, size_t *len);

/* A private folder for the process (created on first use, removed at exit). */
const char *fuzz_tmpdir(void);
/* Writes n bytes to path; aborts when the disk refuses (not the parser's fault). */
void fuzz_write_file(const char *path, const void *p, size_t n);

/* Prints the message and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The rule every parser keeps: OK, or a failure whose class a user's input may cause
 * (EINVAL, EUNSUPPORTED, ETOOBIG, ENOTFOUND, ENOMEM) with a message in valid UTF-8 (the server
 * sends messages as JSON). Anything else fails. */
void fuzz_check_status(const char *what, enh_status st, const enh_error *e);
/* Inputs the parser accepted (targets count them; the replay driver prints the share, to show
 * that the mutants get past the first checks). */
extern unsigned long fuzz_accepted;

#endif
