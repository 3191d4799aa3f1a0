#include "core/mem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static atomic_size_t g_fail_above = 0;

void enh_mem_set_fail_above(size_t bytes) { atomic_store(&g_fail_above, bytes); }

void *enh_alloc(size_t size)
{
    size_t lim = atomic_load(&g_fail_above);
    if (lim && size > lim)
        return NULL;
    if (size == 0)
        size = ENH_ALIGN;
    size_t rounded = (size + ENH_ALIGN - 1) / ENH_ALIGN * ENH_ALIGN;
    if (rounded < size)
        return NULL;
    return aligned_alloc(ENH_ALIGN, rounded);
}

void *enh_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = enh_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void enh_free(void *p) { free(p); }

size_t enh_peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (size_t)ru.ru_maxrss * 1024u;
}

size_t enh_current_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, res = 0;
    int ok = fscanf(f, "%lu %lu", &size, &res) == 2;
    fclose(f);
    return ok ? (size_t)res * (size_t)sysconf(_SC_PAGESIZE) : 0;
}
