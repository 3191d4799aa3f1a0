/* json_mem.c - counting allocation functions for jansson (json_mem.h). */
#include "core/json_mem.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

static _Thread_local int t_failed;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void *counting_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        t_failed = 1;
    return p;
}

static void install(void) { json_set_alloc_funcs(counting_malloc, free); }

void enh_json_mem_begin(void)
{
    pthread_once(&g_once, install);
    t_failed = 0;
}

int enh_json_mem_failed(void) { return t_failed; }
