/* replay.c - the driver of the fuzz targets where libFuzzer is not used (the gcc release and
 * ASan trees, CTest label `fuzz`): runs every seed of the target (fuzz_seeds), every file
 * given (regression inputs: files, or folders of them), then deterministic mutants of all of
 * those - byte and bit edits, spans deleted, repeated or cut, numbers made extreme, splices
 * of two inputs - until --mutations per input are done or --seconds have passed. The seeds
 * and files always run in full; only the mutants are bounded by time, so the CTest run takes
 * seconds on a loaded machine and stays the same sequence of inputs (a failure names the
 * mutant's index: `--only N` reruns that one, `--save DIR` writes it).
 *
 *   fuzz_NAME_replay [--mutations N] [--seconds S] [--seed K] [--only I] [--save DIR]
 *                    [--write-seeds DIR] [FILE|DIR ...]
 * --write-seeds writes the seeds as files (the starting corpus of a libFuzzer run) and exits. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* the sanitizers' hook before they end the process (absent without them) */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

typedef struct {
    unsigned char *d;
    size_t n;
    char name[256];
} input;

typedef struct {
    input *v;
    size_t n, cap;
    const char *write_dir;
} inputs;

static void add(inputs *in, const char *name, const void *d, size_t n)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 16;
        in->v = realloc(in->v, in->cap * sizeof *in->v);
        if (!in->v)
            fuzz_fail("out of memory");
    }
    input *x = &in->v[in->n++];
    x->d = malloc(n ? n : 1);
    if (!x->d)
        fuzz_fail("out of memory");
    memcpy(x->d, d, n);
    x->n = n;
    snprintf(x->name, sizeof x->name, "%s", name);
}

static void emit(void *ctx, const char *name, const void *d, size_t n)
{
    inputs *in = ctx;
    if (in->write_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", in->write_dir, name);
        fuzz_write_file(path, d, n);
    }
    add(in, name, d, n);
}

static void add_file(inputs *in, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fuzz_fail("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc(n > 0 ? (size_t)n : 1);
    if (!d || (n > 0 && fread(d, 1, (size_t)n, f) != (size_t)n))
        fuzz_fail("cannot read %s", path);
    fclose(f);
    add(in, path, d, (size_t)n);
    free(d);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_path(inputs *in, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return; /* a target without regression inputs has no folder */
    if (!S_ISDIR(st.st_mode)) {
        add_file(in, path);
        return;
    }
    DIR *dir = opendir(path);
    if (!dir)
        fuzz_fail("cannot list %s", path);
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
        sprintf(names[n++], "%s/%s", path, e->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof *names, by_name); /* the same order everywhere: a deterministic run */
    for (size_t i = 0; i < n; i++) {
        add_file(in, names[i]);
        free(names[i]);
    }
    free(names);
}

/* what is running, for the message when it crashes */
static char g_running[512];

static void on_crash(int sig)
{
    static const char m[] = "\nfuzz replay: crashed while running ";
    if (write(2, m, sizeof m - 1) < 0 || write(2, g_running, strlen(g_running)) < 0 || write(2, "\n", 1) < 0)
        _exit(128 + sig);
    if (sig) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

static void on_sanitizer_death(void) { on_crash(0); }

/* ---- mutations */
static uint64_t g_rs;
static unsigned rnd(unsigned n)
{
    g_rs ^= g_rs << 13;
    g_rs ^= g_rs >> 7;
    g_rs ^= g_rs << 17;
    return n ? (unsigned)(g_rs % n) : 0;
}

/* one edit of b[0..*n) (capacity cap) */
static void edit(unsigned char *b, size_t *n, size_t cap, const inputs *all)
{
    static const unsigned char bytes[] = {0, 1, 0x7f, 0x80, 0xff, '0', '9', '-', '"', '{', '}', '[', ']', ',', ':',
                                          '=', '&', '\n', '\r', ' ', '%', '.', 'e', '\\'};
    static const char *const numbers[] = {"0", "-1", "65536", "2147483647", "-2147483648", "4294967296",
                                          "99999999999999999999", "1e308", "-0.0", "NaN", "1e-310"};
    static const uint32_t words[] = {0, 0xffffffffu, 0x7fffffffu, 0x80000000u, 0x10000u, 0x7fc00000u, 0x7f800000u};
    size_t p = *n ? rnd((unsigned)*n) : 0;
    switch (rnd(10)) {
    case 0: /* flip a bit */
        if (*n)
            b[p] ^= (unsigned char)(1u << rnd(8));
        break;
    case 1: /* an interesting byte */
        if (*n)
            b[p] = bytes[rnd(sizeof bytes)];
        break;
    case 2: /* insert a byte */
        if (*n < cap) {
            memmove(b + p + 1, b + p, *n - p);
            b[p] = rnd(2) ? bytes[rnd(sizeof bytes)] : (unsigned char)rnd(256);
            (*n)++;
        }
        break;
    case 3: { /* delete a span */
        size_t l = 1 + rnd(rnd(4) ? 8 : 256);
        if (l > *n - p)
            l = *n - p;
        memmove(b + p, b + p + l, *n - p - l);
        *n -= l;
        break;
    }
    case 4: { /* repeat a span from elsewhere */
        if (!*n)
            break;
        size_t q = rnd((unsigned)*n), l = 1 + rnd(rnd(4) ? 16 : 512);
        if (l > *n - q)
            l = *n - q;
        if (*n + l > cap)
            break;
        unsigned char *tmp = malloc(l);
        memcpy(tmp, b + q, l);
        memmove(b + p + l, b + p, *n - p);
        memcpy(b + p, tmp, l);
        free(tmp);
        *n += l;
        break;
    }
    case 5: /* cut the tail */
        *n = p;
        break;
    case 6: { /* a decimal number made extreme */
        size_t k = p;
        while (k < *n && !(b[k] >= '0' && b[k] <= '9'))
            k++;
        if (k == *n)
            break;
        size_t e = k;
        while (e < *n && ((b[e] >= '0' && b[e] <= '9') || b[e] == '.'))
            e++;
        const char *r = numbers[rnd(sizeof numbers / sizeof *numbers)];
        size_t rl = strlen(r);
        if (*n - (e - k) + rl > cap)
            break;
        memmove(b + k + rl, b + e, *n - e);
        memcpy(b + k, r, rl);
        *n = *n - (e - k) + rl;
        break;
    }
    case 7: /* a 32-bit word (binary headers, weights) */
        if (*n >= 4) {
            uint32_t w = words[rnd(sizeof words / sizeof *words)];
            memcpy(b + rnd((unsigned)*n - 3), &w, 4);
        }
        break;
    case 8: { /* splice: the tail from another input */
        const input *o = &all->v[rnd((unsigned)all->n)];
        if (!o->n)
            break;
        size_t q = rnd((unsigned)o->n), l = o->n - q;
        if (p + l > cap)
            l = cap - p;
        memcpy(b + p, o->d + q, l);
        *n = p + l;
        break;
    }
    default: /* a run of one byte */
        if (*n) {
            size_t l = 1 + rnd(32);
            if (l > *n - p)
                l = *n - p;
            memset(b + p, rnd(2) ? 0xff : (int)rnd(256), l);
        }
        break;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: fuzz_NAME_replay [--mutations N] [--seconds S] [--seed K] [--only I] [--save DIR] "
                    "[--write-seeds DIR] [FILE|DIR ...]\n");
    exit(1);
}

int main(int argc, char **argv)
{
    long mutations = 100, only = -1;
    double seconds = 10;
    unsigned long long seed = 20261206;
    const char *save = NULL;
    inputs in = {0};
    char **files = calloc((size_t)argc, sizeof *files);
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--mutations") && i + 1 < argc)
            mutations = atol(argv[++i]);
        else if (!strcmp(a, "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(a, "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(a, "--only") && i + 1 < argc)
            only = atol(argv[++i]);
        else if (!strcmp(a, "--save") && i + 1 < argc)
            save = argv[++i];
        else if (!strcmp(a, "--write-seeds") && i + 1 < argc)
            in.write_dir = argv[++i];
        else if (a[0] == '-')
            usage();
        else
            files[nfiles++] = argv[i];
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    fuzz_seeds(emit, &in);
    if (in.write_dir) {
        printf("%zu seeds written to %s\n", in.n, in.write_dir);
        for (size_t i = 0; i < in.n; i++)
            free(in.v[i].d);
        free(in.v);
        free(files);
        return 0;
    }
    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    signal(SIGFPE, on_crash);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_sanitizer_death);
    size_t nseeds = in.n;
    for (int i = 0; i < nfiles; i++)
        add_path(&in, files[i]);
    free(files);
    double t0 = now_s();
    if (only < 0)
        for (size_t i = 0; i < in.n; i++) {
            snprintf(g_running, sizeof g_running, "input %s", in.v[i].name);
            LLVMFuzzerTestOneInput(in.v[i].d, in.v[i].n);
        }
    double t_inputs = now_s() - t0;
    unsigned long seeds_ok = fuzz_accepted;
    /* mutant k: input k % in.n with 1-4 edits from a generator seeded by (seed, k) */
    long done = 0, total = mutations * (long)in.n;
    for (long k = only >= 0 ? only : 0; in.n && k < total; k++) {
        if (only < 0 && now_s() - t0 > seconds)
            break;
        const input *x = &in.v[(size_t)k % in.n];
        g_rs = (seed ^ ((unsigned long long)k * 0x9E3779B97F4A7C15ull)) | 1;
        for (int w = 0; w < 4; w++)
            rnd(2);
        size_t cap = 2 * x->n + 1024, n = x->n;
        unsigned char *b = malloc(cap);
        memcpy(b, x->d, n);
        int edits = 1 + (int)rnd(4);
        for (int e = 0; e < edits; e++)
            edit(b, &n, cap, &in);
        if (save) {
            char path[4096];
            snprintf(path, sizeof path, "%s/mutant-%ld", save, k);
            fuzz_write_file(path, b, n);
        }
        snprintf(g_running, sizeof g_running, "mutant %ld of %s (rerun: --only %ld [--seed %llu] --save DIR)", k,
                 x->name, k, seed);
        /* an exact-size copy: a read past the end is caught by ASan */
        unsigned char *exact = malloc(n ? n : 1);
        memcpy(exact, b, n);
        free(b);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
        done++;
        if (only >= 0)
            break;
    }
    snprintf(g_running, sizeof g_running, "nothing: a leak found at exit may be from any input (rerun with fewer)");
    printf("%zu seeds and %zu regression inputs in %.2f s (%lu accepted); %ld of %ld mutants (seed %llu) in %.2f s "
           "(%lu accepted)\n", nseeds, in.n - nseeds, t_inputs, seeds_ok, done, total, seed, now_s() - t0 - t_inputs,
           fuzz_accepted - seeds_ok);
    for (size_t i = 0; i < in.n; i++)
        free(in.v[i].d);
    free(in.v);
    return 0;
}
