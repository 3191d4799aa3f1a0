/* json_mem.c - counting allocation functions for jansson (json_mem.h). */
#include "core/json_mem.h"

#include <pthread.h>
#include <stdlib.h>

static _Thread_local int t_failed, t_parsing;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void *counting_malloc(size_t n)
{
    /* After one failure a parse gets no more memory: jansson's lexer, having dropped a character
     * of a string (the failure), decodes the string's escapes again from what it kept and
     * asserts on the broken escape (assert(0) in lex_scan_string, jansson 2.14; seen under
     * tests/fault: test_fault_json aborted). Failing the string's own allocation, which comes
     * first, makes it give up instead. */
    if (t_parsing && t_failed)
        return NULL;
    void *p = malloc(n);
    if (!p)
        t_failed = 1;
    return p;
}

static void install(void) { json_set_alloc_funcs(counting_malloc, free); }

/* The window in which jansson's failures are counted (and made sticky); 1 when one failed. */
static void watch_begin(void)
{
    pthread_once(&g_once, install);
    t_failed = 0;
    t_parsing = 1;
}

static int watch_end(void)
{
    t_parsing = 0;
    return t_failed;
}

enh_status enh_json_parse(const char *text, size_t len, size_t flags, const char *what, json_t **out,
                          json_error_t *je, enh_error *err)
{
    watch_begin();
    json_t *root = json_loadb(text, len, flags, je);
    if (watch_end()) { /* a parse that lost memory may have lost characters too */
        json_decref(root);
        *out = NULL;
        return enh_fail(err, ENH_ENOMEM, "out of memory while parsing %s", what);
    }
    *out = root;
    return ENH_OK;
}

char *enh_json_dumps(const json_t *json, size_t flags)
{
    watch_begin();
    char *s = json_dumps(json, flags);
    if (watch_end()) {
        free(s);
        return NULL;
    }
    return s;
}

void enh_json_build_begin(void)
{
    pthread_once(&g_once, install);
    t_failed = 0;
    t_parsing = 0;
}

int enh_json_build_end(void) { return t_failed; }
