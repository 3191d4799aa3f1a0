/* sha256.h - SHA-256 (FIPS 180-4), used to verify model files. Pure, thread-safe
 * (state is the caller's). enh_sha256_file returns ENH_EIO / ENH_ENOTFOUND with a message. */
#ifndef ENH_NN_SHA256_H
#define ENH_NN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct enh_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char buf[64];
    size_t used;
} enh_sha256;

void enh_sha256_init(enh_sha256 *s);
void enh_sha256_update(enh_sha256 *s, const void *data, size_t len);
void enh_sha256_final(enh_sha256 *s, unsigned char digest[32]);
/* hex: 65 bytes (64 lower-case hex digits + NUL) */
void enh_sha256_hex(const void *data, size_t len, char hex[65]);
enh_status enh_sha256_file(const char *path, char hex[65], size_t *bytes, enh_error *err);

#endif
