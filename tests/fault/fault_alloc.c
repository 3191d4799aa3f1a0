/* fault_alloc.c - the --wrap'ed allocation functions of fault_alloc.h. The real functions are
 * reached as __real_* (the linker's name for the unwrapped symbol; under ASan that is ASan's
 * interceptor, so its leak and overflow checks still see every block). */
#include "fault_alloc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);

static atomic_int g_armed;
static atomic_long g_count, g_fail_at, g_failed;
static atomic_int g_persistent;
static _Thread_local int t_exempt;

void fault_alloc_exempt_this_thread(void) { t_exempt = 1; }

void fault_alloc_arm(long fail_at, int persistent)
{
    atomic_store(&g_count, 0);
    atomic_store(&g_failed, 0);
    atomic_store(&g_fail_at, fail_at);
    atomic_store(&g_persistent, persistent);
    atomic_store(&g_armed, 1);
}

long fault_alloc_disarm(void)
{
    atomic_store(&g_armed, 0);
    return atomic_load(&g_count);
}

long fault_alloc_failed(void) { return atomic_load(&g_failed); }

/* Called for each failed allocation: a place for a debugger's breakpoint
 * (gdb -ex 'break fault_alloc_failing' --args test_fault_alloc --at N). */
void fault_alloc_failing(void);
__attribute__((noinline)) void fault_alloc_failing(void) { __asm__ volatile(""); }

/* 1 when this allocation must fail */
static int should_fail(void)
{
    if (!atomic_load(&g_armed) || t_exempt)
        return 0;
    long k = atomic_fetch_add(&g_count, 1) + 1;
    long at = atomic_load(&g_fail_at);
    if (at > 0 && (k == at || (k > at && atomic_load(&g_persistent)))) {
        atomic_fetch_add(&g_failed, 1);
        errno = ENOMEM;
        fault_alloc_failing();
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return should_fail() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n)
{
    /* realloc(p, 0) frees: not an allocation that can fail */
    if (p && n == 0)
        return __real_realloc(p, n);
    return should_fail() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return should_fail() ? NULL : __real_strndup(s, n); }
void *__wrap_aligned_alloc(size_t align, size_t n)
{
    return should_fail() ? NULL : __real_aligned_alloc(align, n);
}
int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    if (should_fail())
        return ENOMEM;
    return __real_posix_memalign(p, align, n);
}
