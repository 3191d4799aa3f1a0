/* test_fault_alloc.c - one enhance request with each of its allocations failed in turn (the
 * SQLite scheme): no crash, no leak, the right error class, never a wrong or partial output.
 *
 * The request is what `enhance in.png -o out.png` with a JSON operations document does:
 * enh_ops_from_json, then cli_job_run (src/cli/cli_job.c, compiled in): decode a small
 * synthetic PNG written by the test, filter denoise, auto colour + saturation, an AI upscale
 * (a synthetic x2 ncnn model written to the test's folder, loaded cold each time: the model
 * cache is emptied between runs), encode to PNG, written atomically into the folder. With
 * --model NAME the upscale runs that installed model instead (realesrgan-x4fast: x4, JPEG out;
 * exit 77 when it is not installed).
 *
 * How: the program is linked with -Wl,--wrap for malloc, calloc, realloc, strdup, strndup,
 * aligned_alloc and posix_memalign (fault_alloc.h), so only calls made by code linked into
 * the program - all of src/ (enhance_lib is static), the test - are counted and failed, and
 * jansson's (through the allocation functions src/core/json_mem.c installs for it). Allocations inside libvips and GLib are not failed:
 * g_malloc aborts by design when malloc returns NULL, so interposing malloc for the whole
 * process would test GLib's abort, not our code. What is covered is every failure our own
 * code must handle: enh_alloc/enh_calloc (core/mem.c), the plain libc calls of src/, and the
 * JSON documents we build and parse.
 *
 * Run 0 counts the request's allocations (C). Then, for N = 1..C (every --stride-th N), the
 * N-th allocation fails ("one-shot"), and again with the N-th and every later one failing
 * ("persistent"). Each run must:
 *  - return an error value: ENH_ENOMEM (anything else is reported with its message, as a
 *    wrong error class); or succeed with exactly the reference output (a fallback that
 *    recovered), never a different one;
 *  - leave nothing half-written: after a failure, no output file and no temporary in the folder;
 *  - leak nothing: under AddressSanitizer, LeakSanitizer checks after every run
 *    (__lsan_do_recoverable_leak_check); other builds print the heap in use (mallinfo2).
 * The request runs on one thread (pool and libvips) so that the N-th allocation is the same
 * one each time.
 * With --cold K the same is done to a process's first request (about 1700 allocations with the
 * synthetic model: libvips' operation classes, lookup tables, the pool, made once), every K-th N,
 * each in a fresh process (posix_spawn of this program with --cold-child), which must then serve
 * a second request with the reference output: one-time state left half-made by a failure
 * would show there, and a crash is seen by the parent.
 * Usage: test_fault_alloc [--stride K] [--cold K] [--model NAME] [--quiet] [--at N [--persistent]]
 * (--at: only that N, one-shot or persistent: to debug one finding). */
#include <dirent.h>
#include <malloc.h>
#include <spawn.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "../check.h"
#include "../nn/ncnn_synth.h"
#include "cli/cli_job.h"
#include "core/fsutil.h"
#include "core/pool.h"
#include "enhance/ops.h"
#include "fault_alloc.h"
#include "image/image_init.h"
#include "nn/model_cache.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#else
#define HAVE_LSAN 0
#endif

static char g_dir[256];
static char g_in[512], g_out[512], g_param[512], g_bin[512];
static const char *g_model;   /* NULL: the synthetic x2 model */
static char g_json[2048];

/* what one request returned */
typedef struct result {
    enh_status st;
    enh_error err;
} result;

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = p ? (size_t)n : 0;
    return p;
}

/* a file of the test's folder */
static void *read_file_at(const char *name, size_t *len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    return read_file(path, len);
}

/* a smooth colour pattern with some noise, as a PNG file */
static int make_input(const char *path, int w, int h)
{
    size_t n = (size_t)w * h * 3;
    unsigned char *buf = g_malloc(n);
    unsigned s = 12345;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int b = 0; b < 3; b++) {
                s = s * 1103515245u + 12345u;
                double v = 120 + 90 * sin(0.31 * x + 0.9 * b) * cos(0.19 * y - 0.5 * b) + (double)((s >> 16) % 21) - 10;
                buf[((size_t)y * w + x) * 3 + b] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    VipsImage *im = vips_image_new_from_memory_copy(buf, n, w, h, 3, VIPS_FORMAT_UCHAR);
    g_free(buf);
    VipsImage *t = NULL;
    int rc = !im || vips_copy(im, &t, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) ||
             vips_pngsave(t, path, NULL);
    if (im)
        g_object_unref(im);
    if (t)
        g_object_unref(t);
    return rc ? -1 : 0;
}

/* One request; the allocation counter is armed around exactly what a request does. */
static result request(long fail_at, int persistent, long *count)
{
    result r;
    memset(&r, 0, sizeof r);
    enh_model_cache_clear(); /* the model's load is part of the request (cold) */
    unlink(g_out);
    cli_settings s;
    memset(&s, 0, sizeof s);
    s.nn = *enh_nn_options_default();
    s.max_pixels = 100000000ULL;
    s.quiet = 1;
    cli_job_result jr;
    fault_alloc_arm(fail_at, persistent);
    r.st = enh_ops_from_json(g_json, strlen(g_json), &s.ops, &r.err);
    if (r.st == ENH_OK)
        r.st = cli_job_run(g_in, g_out, &s, NULL, NULL, NULL, &jr, &r.err);
    *count = fault_alloc_disarm();
    return r;
}

/* 1 when the folder holds only the test's own files (no output, no temporary) */
static int folder_clean(const char **why)
{
    DIR *d = opendir(g_dir);
    if (!d) {
        *why = "cannot list the folder";
        return 0;
    }
    int clean = 1;
    struct dirent *e;
    static char name[300];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "in.png") ||
            !strcmp(e->d_name, "synth.param") || !strcmp(e->d_name, "synth.bin") || !strcmp(e->d_name, "ref.out"))
            continue;
        snprintf(name, sizeof name, "%s", e->d_name);
        *why = name;
        clean = 0;
    }
    closedir(d);
    return clean;
}

static size_t heap_in_use(void)
{
#if HAVE_LSAN
    return 0;
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

typedef struct tally {
    int runs, enomem, other, recovered, wrong, partial, leaks;
} tally;

/* Runs N = first..last (every stride-th) in one mode; returns the tally. */
static tally sweep(long first, long last, int stride, int persistent, const void *ref, size_t ref_len, int quiet)
{
    tally t;
    memset(&t, 0, sizeof t);
    for (long n = first; n <= last; n += stride) {
        long c = 0;
        result r = request(n, persistent, &c);
        long failed = fault_alloc_failed();
        t.runs++;
        const char *why = NULL;
        if (r.st == ENH_OK) {
            size_t len = 0;
            void *out = read_file(g_out, &len);
            int same = out && len == ref_len && !memcmp(out, ref, len);
            free(out);
            if (failed == 0 || same) {
                t.recovered++;
            } else {
                t.wrong++;
                CHECK_MSG(same, "%s #%ld: succeeded after a failed allocation with a different output (%zu bytes, "
                          "reference %zu)", persistent ? "persistent" : "one-shot", n, len, ref_len);
            }
            unlink(g_out);
        } else if (r.st == ENH_ENOMEM) {
            t.enomem++;
        } else {
            t.other++;
            CHECK_MSG(r.st == ENH_ENOMEM, "%s #%ld: error class %d, not ENH_ENOMEM: %s",
                      persistent ? "persistent" : "one-shot", n, (int)r.st, r.err.msg);
        }
        if (r.st != ENH_OK && !folder_clean(&why)) {
            t.partial++;
            CHECK_MSG(0, "%s #%ld: failed (%s) but left %s in the folder", persistent ? "persistent" : "one-shot",
                      n, r.err.msg, why);
            unlink(g_out);
        }
#if HAVE_LSAN
        if (__lsan_do_recoverable_leak_check()) {
            t.leaks++;
            CHECK_MSG(0, "%s #%ld: leak (report above); the request returned %d: %s",
                      persistent ? "persistent" : "one-shot", n, (int)r.st, r.err.msg);
        }
#endif
        if (!quiet)
            printf("%s #%ld: status %d, %ld allocation(s) failed of %ld%s%s\n", persistent ? "persistent" : "one-shot",
                   n, (int)r.st, failed, c, r.st ? ": " : "", r.st ? r.err.msg : "");
    }
    return t;
}

/* --cold-child N P: this process's first request, with the N-th allocation failing (P: from N
 * on), then a request without failures, which must give the reference output (ref.out, written
 * by the parent): one-time state that a failure left half-made would show there. Exit 0 when
 * both are right, 1 otherwise (printed). */
static int cold_child(long n, int persistent)
{
    size_t ref_len = 0;
    void *ref = read_file_at("ref.out", &ref_len);
    long c = 0;
    result r = request(n, persistent, &c);
    long failed = fault_alloc_failed();
    const char *mode = persistent ? "cold persistent" : "cold one-shot", *why = NULL;
    int bad = 0;
    if (r.st == ENH_OK) {
        size_t len = 0;
        void *out = read_file(g_out, &len);
        if (failed && !(out && ref && len == ref_len && !memcmp(out, ref, len))) {
            printf("%s #%ld: succeeded after a failed allocation with a different output\n", mode, n);
            bad = 1;
        }
        free(out);
    } else if (r.st != ENH_ENOMEM) {
        printf("%s #%ld: error class %d, not ENH_ENOMEM: %s\n", mode, n, (int)r.st, r.err.msg);
        bad = 1;
    }
    if (r.st != ENH_OK && !folder_clean(&why)) {
        printf("%s #%ld: failed (%s) but left %s in the folder\n", mode, n, r.err.msg, why);
        bad = 1;
    }
    unlink(g_out);
    result r2 = request(0, 0, &c);
    size_t len = 0;
    void *out = read_file(g_out, &len);
    if (r2.st != ENH_OK || !out || !ref || len != ref_len || memcmp(out, ref, len)) {
        printf("%s #%ld: the next request of the process failed or differs: %s\n", mode, n,
               r2.st ? r2.err.msg : "a different output");
        bad = 1;
    }
    free(out);
    free(ref);
    unlink(g_out);
    return bad;
}

/* Runs the cold children for N = 1..count (every stride-th), both modes; returns the failures. */
static int cold_sweep(const char *self, long count, int stride, int quiet)
{
    int bad = 0, runs = 0;
    for (int persistent = 0; persistent < 2; persistent++)
        for (long n = 1; n <= count; n += stride) {
            char ns[32];
            snprintf(ns, sizeof ns, "%ld", n);
            char *args[] = {(char *)self, "--cold-child", g_dir, ns, persistent ? "1" : "0", NULL,
                            NULL, NULL};
            if (g_model) {
                args[5] = "--model";
                args[6] = (char *)g_model;
            }
            pid_t pid;
            int status = 0;
            extern char **environ;
            runs++;
            if (posix_spawn(&pid, self, NULL, NULL, args, environ) != 0 || waitpid(pid, &status, 0) != pid) {
                CHECK_MSG(0, "cannot run %s", self);
                return bad + 1;
            }
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                bad++;
                CHECK_MSG(0, "%s #%ld in a fresh process: %s %d", persistent ? "persistent" : "one-shot", n,
                          WIFSIGNALED(status) ? "killed by signal" : "exit status",
                          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            } else if (!quiet) {
                printf("cold %s #%ld: ok\n", persistent ? "persistent" : "one-shot", n);
            }
        }
    printf("cold: %d runs in fresh processes, %d wrong\n", runs, bad);
    return bad;
}

int main(int argc, char **argv)
{
    int stride = 1, quiet = 0, persistent_only = 0, cold_stride = 0, child_persistent = 0;
    long at = 0, child_at = 0;
    const char *child_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stride") && i + 1 < argc)
            stride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cold") && i + 1 < argc)
            cold_stride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cold-child") && i + 3 < argc) {
            child_dir = argv[++i];
            child_at = atol(argv[++i]);
            child_persistent = atoi(argv[++i]);
        }
        else if (!strcmp(argv[i], "--at") && i + 1 < argc)
            at = atol(argv[++i]);
        else if (!strcmp(argv[i], "--persistent"))
            persistent_only = 1;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            g_model = argv[++i];
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else {
            fprintf(stderr, "usage: %s [--stride K] [--cold K] [--model NAME] [--quiet] [--at N [--persistent]]\n",
                    argv[0]);
            return 2;
        }
    }
    if (stride < 1)
        stride = 1;
    enh_error err = {0};
    if (enh_pool_default_set_threads(1) != 0 || enh_image_init(&err) != ENH_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 2;
    }
    vips_concurrency_set(1);

    if (child_dir) {
        snprintf(g_dir, sizeof g_dir, "%s", child_dir);
    } else {
        snprintf(g_dir, sizeof g_dir, "/tmp/enh-fault-XXXXXX");
        if (!mkdtemp(g_dir))
            return 2;
    }
    snprintf(g_in, sizeof g_in, "%s/in.png", g_dir);
    snprintf(g_param, sizeof g_param, "%s/synth.param", g_dir);
    snprintf(g_bin, sizeof g_bin, "%s/synth.bin", g_dir);
    unsigned char bin[SYNTH_BIN_LEN];
    synth_bin(bin);
    if (child_dir) {
        ;
    } else if (make_input(g_in, g_model ? 24 : 40, g_model ? 20 : 30) || write_file(g_param, synth_param, strlen(synth_param)) ||
        write_file(g_bin, bin, sizeof bin)) {
        fprintf(stderr, "setup: cannot write the test files in %s\n", g_dir);
        return 2;
    }
    if (g_model) {
        snprintf(g_out, sizeof g_out, "%s/out.jpg", g_dir);
        snprintf(g_json, sizeof g_json,
                 "{\"restorations\": {\"denoise\": 40, \"upscale\": \"photo\", \"model\": \"%s\", \"scale\": 4},"
                 " \"adjustments\": {\"auto_color\": true, \"saturation\": 15},"
                 " \"output\": {\"format\": \"jpeg\", \"quality\": 85}}",
                 g_model);
    } else {
        snprintf(g_out, sizeof g_out, "%s/out.png", g_dir);
        snprintf(g_json, sizeof g_json,
                 "{\"restorations\": {\"denoise\": 40, \"upscale\": \"photo\", \"model\": \"%s\", \"scale\": 2},"
                 " \"adjustments\": {\"auto_color\": true, \"saturation\": 15},"
                 " \"output\": {\"format\": \"png\"}}",
                 g_param);
    }

    /* run 0: the reference output and the number of allocations. Twice: the first run of the
     * process also makes one-time state (libvips' operation classes, the pool, lookup tables:
     * about 1800 more allocations of ours with the synthetic model; --cold fails those), kept
     * for the process's life; the sweep fails the second, a request of a process that has
     * served one. */
    if (child_dir)
        return cold_child(child_at, child_persistent);
    long count = 0, count2 = 0, count_cold = 0;
    result r = request(0, 0, &count_cold);
    if (r.st == ENH_ENOTFOUND && g_model) {
        printf("SKIP: %s\n", r.err.msg);
        return 77;
    }
    CHECK_MSG(r.st == ENH_OK, "the request without failures: %s", r.err.msg);
    r = request(0, 0, &count);
    r = request(0, 0, &count2);
    CHECK_MSG(r.st == ENH_OK && count2 == count, "a second run made %ld allocations, the first %ld", count2, count);
    size_t ref_len = 0;
    void *ref = read_file(g_out, &ref_len);
    CHECK(ref && ref_len > 0);
    if (!ref || r.st != ENH_OK)
        CHECK_MAIN_END();
    unlink(g_out);
#if HAVE_LSAN
    CHECK_MSG(!__lsan_do_recoverable_leak_check(), "the request leaks without any failure");
#endif
    size_t heap0 = heap_in_use();
    printf("the request makes %ld allocations of our own; failing every %d-th in turn\n", count, stride);

    if (at > 0) {
        sweep(at, at, 1, persistent_only, ref, ref_len, 0);
        CHECK_MAIN_END();
    }
    if (cold_stride > 0) {
        char refpath[600];
        snprintf(refpath, sizeof refpath, "%s/ref.out", g_dir);
        CHECK(write_file(refpath, ref, ref_len) == 0);
        printf("the first request of a process makes %ld allocations; failing every %d-th in a fresh process\n",
               count_cold, cold_stride);
        cold_sweep("/proc/self/exe", count_cold, cold_stride, quiet);
        unlink(refpath);
    }
    tally one = sweep(1, count, stride, 0, ref, ref_len, quiet);
    tally per = sweep(1, count, stride, 1, ref, ref_len, quiet);
    for (int k = 0; k < 2; k++) {
        const tally *t = k ? &per : &one;
        printf("%s: %d runs: %d ENH_ENOMEM, %d recovered with the reference output, %d other error class, "
               "%d wrong output, %d partial output, %d leaking\n",
               k ? "persistent" : "one-shot", t->runs, t->enomem, t->recovered, t->other, t->wrong, t->partial,
               t->leaks);
    }
#if !HAVE_LSAN
    /* No leak detector here: the heap in use is printed, not checked. It grows by about 640 bytes
     * per request with or without failures (400 requests without any: 1.94 -> 2.20 MB), memory
     * that LeakSanitizer finds still reachable; the sanitizer tree's per-run check is the test. */
    size_t heap1 = heap_in_use();
    printf("heap in use: %zu bytes after the reference run, %zu after %d runs\n", heap0, heap1, one.runs + per.runs);
#else
    (void)heap0;
#endif
    free(ref);
    unlink(g_in);
    unlink(g_param);
    unlink(g_bin);
    rmdir(g_dir);
    CHECK_MAIN_END();
}
