/* test_fault_json.c - every JSON parser of a document from outside (or re-read from our own
 * text) run with each of its allocations failed in turn (the scheme of test_fault_alloc.c):
 * the answer must be ENH_ENOMEM with a message saying "out of memory", or success with exactly
 * the result of a run without failures - never a document parsed a character short (jansson
 * drops characters when its buffers cannot grow: src/core/json_mem.h) nor "invalid JSON" -, no
 * crash, and no leak (LeakSanitizer after every run in the sanitizer tree).
 *
 * The parsers: the operations JSON (enh_ops_from_json), the embedded model manifest
 * (enh_manifest_parse, and enh_manifest_models parsing it again after a failed first parse), a
 * TF.js model.json with its shard (enh_tfjs_load_graph), a layers model.json in nsfwjs's .min.js
 * wrapper (enh_tfjs_read_json: the container's own literal reader), BRISQUE's FileStorage YAML
 * (enh_yml_parse: not JSON, a model file all the same), a moderation policy
 * (enh_check_policy_from_json), a check's JSON with the assessment it re-reads
 * (enh_check_result_to_json), the server's moderation details of a job (serve_check_details),
 * the server's model configuration (serve_models_config_parse) and the batch's check report read
 * back on resume (cli_batch_check_open), a line written to it (cli_batch_check_record: a check's
 * JSON re-read), and the batch's options state (cli_batch_state_establish: a state
 * misread as absent would redo every finished output; src/cli/cli_batch_check.c and
 * cli_batch_state.c compiled in).
 * Each result is compared by a digest made after the allocations are disarmed. The cases are in
 * fault_json_models.c and fault_json_checks.c (fault_json.h); this file is the sweep.
 * The check's result is one whose assessment did not run, unless --with-assessment: then the
 * assessment's JSON is made and re-read too (enh_assessment_to_json, assess_report.c, left a
 * member out when its insert failed: 42 of 850 runs gave a check JSON a member short, until it
 * checked every insert).
 * Usage: test_fault_json [--stride K] [--only NAME] [--verbose] [--with-assessment] */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "fault_alloc.h"
#include "fault_json.h"
#include "nn/manifest.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#else
#define HAVE_LSAN 0
#endif

/* ---- digests: a result as bytes, made with the allocations disarmed ---- */

void put(blob *b, const void *p, size_t n)
{
    if (!n)
        return; /* b->p may still be NULL: memcpy's arguments must not be */
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 64;
        char *q = realloc(b->p, cap);
        if (!q)
            abort(); /* the test's own memory, never failed */
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

void putf(blob *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void put_text(blob *b, char *s)
{
    putf(b, "%s", s ? s : "(null)");
    free(s);
}

/* One run: the status, its message and the digest; *count the allocations made. */
static enh_status one(const parser *p, long fail_at, int persistent, long *count, enh_error *err, blob *b)
{
    memset(err, 0, sizeof *err);
    b->n = 0;
    if (p->prepare)
        p->prepare();
    fault_alloc_arm(fail_at, persistent);
    enh_status st = p->run(err);
    *count = fault_alloc_disarm();
    p->digest(st, b);
    return st;
}

/* Every stride-th allocation of p, one-shot then persistent; returns the number of runs. */
static int sweep(const parser *p, int stride, int verbose)
{
    enh_error err;
    blob ref = {0}, b = {0};
    long count = 0;
    enh_status st = one(p, 0, 0, &count, &err, &ref);
    CHECK_MSG(st == ENH_OK, "%s: the run without failures: %s", p->name, err.msg);
#if HAVE_LSAN
    CHECK_MSG(!__lsan_do_recoverable_leak_check(), "%s: leaks without any failure", p->name);
#endif
    int runs = 0, enomem = 0, same = 0;
    for (int persistent = 0; persistent < 2 && st == ENH_OK; persistent++)
        for (long n = 1; n <= count; n += stride) {
            long c = 0;
            enh_status s = one(p, n, persistent, &c, &err, &b);
            const char *mode = persistent ? "persistent" : "one-shot";
            runs++;
            if (s == ENH_OK) {
                int eq = b.n == ref.n && !memcmp(b.p, ref.p, b.n);
                same += eq;
                CHECK_MSG(eq, "%s %s #%ld: succeeded with a different result (%zu bytes, reference %zu)", p->name, mode,
                          n, b.n, ref.n);
            } else {
                enomem += s == ENH_ENOMEM;
                CHECK_MSG(s == ENH_ENOMEM && strstr(err.msg, "out of memory"),
                          "%s %s #%ld: status %d, not ENH_ENOMEM with \"out of memory\": %s", p->name, mode, n, (int)s,
                          err.msg);
            }
#if HAVE_LSAN
            CHECK_MSG(!__lsan_do_recoverable_leak_check(), "%s %s #%ld: leak (report above); status %d: %s", p->name,
                      mode, n, (int)s, err.msg);
#endif
            if (verbose)
                printf("%s %s #%ld: status %d%s%s\n", p->name, mode, n, (int)s, s ? ": " : "", s ? err.msg : "");
        }
    printf("%-8s %4ld allocations, %4d runs: %4d ENH_ENOMEM, %4d the reference result\n", p->name, count, runs, enomem,
           same);
    free(ref.p);
    free(b.p);
    return runs;
}

/* enh_manifest_models: a first parse that runs out of memory says so, and the next call parses
 * again (the manifest is not left empty for the process's life). Run before anything else of
 * this process reads the manifest. */
static void manifest_retry(void)
{
    int n = -1;
    enh_error err = {0};
    fault_alloc_arm(1, 1);
    const enh_model_entry *e = enh_manifest_models(&n, &err);
    fault_alloc_disarm();
    CHECK_MSG(!e && n == 0 && err.code == ENH_ENOMEM, "a manifest parse without memory: %d models, status %d: %s", n,
              (int)err.code, err.msg);
    CHECK(enh_manifest_find("realesrgan-x4fast") != NULL);
    e = enh_manifest_models(&n, &err);
    CHECK_MSG(e && n > 0, "the manifest after a failed first parse: %d models", n);
}

int main(int argc, char **argv)
{
    int stride = 1, verbose = 0, with_assessment = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stride") && i + 1 < argc)
            stride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--verbose"))
            verbose = 1;
        else if (!strcmp(argv[i], "--with-assessment"))
            with_assessment = 1;
        else {
            fprintf(stderr, "usage: %s [--stride K] [--only NAME] [--verbose] [--with-assessment]\n", argv[0]);
            return 2;
        }
    }
    if (stride < 1)
        stride = 1;
    manifest_retry();
    char dir[] = "/tmp/enh-fault-json-XXXXXX";
    if (!mkdtemp(dir) || fj_models_setup(dir) || fj_checks_setup(dir, with_assessment)) {
        fprintf(stderr, "setup: cannot write the test files in %s\n", dir);
        return 2;
    }
    const struct {
        const parser *v;
        int n;
    } sets[] = {{fj_model_cases, fj_model_ncases}, {fj_check_cases, fj_check_ncases}};
    int runs = 0;
    for (size_t k = 0; k < sizeof sets / sizeof *sets; k++)
        for (int i = 0; i < sets[k].n; i++)
            if (!only || !strcmp(only, sets[k].v[i].name))
                runs += sweep(&sets[k].v[i], stride, verbose);
    printf("%d runs\n", runs);
    fj_checks_teardown();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK_MAIN_END();
}
