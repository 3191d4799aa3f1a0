/* mem.h - aligned allocation for tensors and kernels.
 * enh_alloc returns 64-byte aligned memory (NULL on failure, never aborts) and must be
 * released with enh_free. A test hook can make allocations above a size fail, to test
 * the callers' fallbacks (e.g. the tiler retrying with smaller tiles). Thread-safe. */
#ifndef ENH_CORE_MEM_H
#define ENH_CORE_MEM_H

#include <stddef.h>

#define ENH_ALIGN 64

void *enh_alloc(size_t size);
void *enh_calloc(size_t n, size_t size);
void enh_free(void *p);

/* Test hook: every enh_alloc of more than `bytes` fails (0 disables). */
void enh_mem_set_fail_above(size_t bytes);

/* Peak resident set size of this process in bytes (from getrusage), 0 if unknown. */
size_t enh_peak_rss_bytes(void);
/* Current resident set size in bytes (from /proc/self/statm), 0 if unknown. */
size_t enh_current_rss_bytes(void);

#endif
