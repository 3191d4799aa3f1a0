/* xorshift.h - the tests' reproducible random numbers (synthetic scenes, noise): xorshift64
 * (Marsaglia 2003) mapped to a double in [0, 1). The state is the caller's, so each test keeps
 * its own seed and sequence. */
#ifndef ENH_TESTS_XORSHIFT_H
#define ENH_TESTS_XORSHIFT_H

#include <stdint.h>

static inline double xorshift_unit(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}

#endif
