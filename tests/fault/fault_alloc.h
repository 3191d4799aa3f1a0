/* fault_alloc.h - allocation fault injection for the tests in tests/fault (SQLite style).
 *
 * The test programs are linked with -Wl,--wrap=malloc,calloc,realloc,strdup,strndup,
 * aligned_alloc,posix_memalign (tests/fault/CMakeLists.txt): every call to those functions
 * made by code linked statically into the program - enhance_lib (src/core .. src/serve), the
 * CLI files compiled in, the test itself - goes through fault_alloc.c, which counts it and can
 * make it fail. Calls made inside shared libraries (libvips, GLib, libjpeg, libpng, libc's own
 * fopen/realpath) are not redirected: GLib's g_malloc aborts by design when malloc fails, so
 * failing it would only test GLib's abort. jansson's allocations are covered too: the library
 * installs allocation functions of its own for it (src/core/json_mem.c), whose malloc call is
 * redirected like any other of ours.
 *
 * Counting is armed by fault_alloc_arm and stops at fault_alloc_disarm; the test's own
 * allocations outside that window are never failed. Thread-safe (atomic counters); for a
 * reproducible numbering run the request on one thread.
 */
#ifndef ENH_TESTS_FAULT_ALLOC_H
#define ENH_TESTS_FAULT_ALLOC_H

#include <stddef.h>

/* Starts counting. fail_at = 0: never fail (count only); N > 0: the N-th counted allocation
 * fails, and with persistent set every one after it fails too. */
void fault_alloc_arm(long fail_at, int persistent);
/* Stops counting and failing; returns the number of allocations counted while armed. */
long fault_alloc_disarm(void);
/* How many allocations failed since the last arm. */
long fault_alloc_failed(void);
/* The calling thread's allocations are never counted nor failed (a test's HTTP client while
 * the server runs on other threads of the process). */
void fault_alloc_exempt_this_thread(void);

#endif
