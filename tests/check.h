/* check.h - minimal assertion macros for the CTest executables.
 * CHECK(cond) records a failure (with file:line) and continues; CHECK_MAIN_END returns
 * the exit status CTest reads. Tests that need fixtures or mocking may use cmocka. */
#ifndef ENH_TESTS_CHECK_H
#define ENH_TESTS_CHECK_H
#include <math.h>
#include <stdio.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        check_count++;                                                              \
        if (!(cond)) {                                                              \
            check_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                                        \
    do {                                                                            \
        check_count++;                                                              \
        if (!(cond)) {                                                              \
            check_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                           \
            fprintf(stderr, "\n");                                                  \
        }                                                                           \
    } while (0)

#define CHECK_NEAR(a, b, tol) CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g (tol %g)", (double)(a), (double)(b), (double)(tol))

#define CHECK_MAIN_END()                                                             \
    do {                                                                             \
        printf("%d checks, %d failed\n", check_count, check_failures);               \
        return check_failures ? 1 : 0;                                               \
    } while (0)

#endif
