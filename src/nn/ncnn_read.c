/* ncnn_read.c - the readers the ncnn loader (ncnn_load.c) and the layer translators
 * (ncnn_layers.c) share: layer parameters by id, and weights from the .bin (fp32, or fp16
 * behind its tag), checked for size and finiteness. A leaf, so the two files do not depend on
 * each other. Thread-safety: no shared state. Errors: enh_status + a message with the layer
 * and the byte offset. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "nn/ncnn_internal.h"

int ncnn_pi(const ncnn_params *pd, int id, int def) { return pd->set[id] == 1 ? pd->v[id].i : def; }
float ncnn_pf(const ncnn_params *pd, int id, float def) { return pd->set[id] == 1 ? pd->v[id].f : def; }

/* ---- .bin reader ---- */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

enh_status ncnn_read_raw(ncnn_bin *r, size_t n, float **out, const char *layer, const char *what,
                         enh_error *err)
{
    *out = NULL;
    if (n == 0 || n > (SIZE_MAX / 8))
        return enh_fail(err, ENH_EINVAL, "layer '%s': %s has an invalid size %zu", layer, what, n);
    if (r->len - r->off < n * 4)
        return enh_fail(err, ENH_EINVAL,
                        "layer '%s': %s needs %zu bytes at byte offset %zu of %s, but only %zu remain "
                        "(truncated or mismatched .bin)", layer, what, n * 4, r->off, r->name, r->len - r->off);
    float *d = enh_alloc(n * sizeof *d);
    if (!d)
        return enh_fail(err, ENH_ENOMEM, "layer '%s': out of memory for %s", layer, what);
    memcpy(d, r->data + r->off, n * 4);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(d[i])) {
            enh_free(d);
            return enh_fail(err, ENH_EINVAL, "layer '%s': %s at byte offset %zu of %s holds a non-finite value",
                            layer, what, r->off + i * 4, r->name);
        }
    r->off += n * 4;
    *out = d;
    return ENH_OK;
}

enh_status ncnn_read_tagged(ncnn_bin *r, size_t n, float **out, const char *layer, const char *what,
                            enh_error *err)
{
    *out = NULL;
    if (r->len - r->off < 4)
        return enh_fail(err, ENH_EINVAL, "layer '%s': %s tag expected at byte offset %zu of %s, but the file ends",
                        layer, what, r->off, r->name);
    size_t tag_off = r->off;
    uint32_t tag = (uint32_t)r->data[r->off] | (uint32_t)r->data[r->off + 1] << 8 |
                   (uint32_t)r->data[r->off + 2] << 16 | (uint32_t)r->data[r->off + 3] << 24;
    r->off += 4;
    if (tag == 0 || tag == 0x0002C056u)
        return ncnn_read_raw(r, n, out, layer, what, err);
    if (tag != 0x01306B47u) {
        r->off = tag_off;
        return enh_fail(err, ENH_EUNSUPPORTED,
                        "layer '%s': %s at byte offset %zu of %s has weight encoding tag 0x%08X "
                        "(supported: fp16 0x01306B47, fp32 0x00000000)", layer, what, tag_off, r->name, tag);
    }
    if (n == 0 || n > (SIZE_MAX / 8))
        return enh_fail(err, ENH_EINVAL, "layer '%s': %s has an invalid size %zu", layer, what, n);
    size_t bytes = (n * 2 + 3) / 4 * 4;
    if (r->len - r->off < bytes)
        return enh_fail(err, ENH_EINVAL,
                        "layer '%s': fp16 %s needs %zu bytes at byte offset %zu of %s, but only %zu remain "
                        "(truncated or mismatched .bin)", layer, what, bytes, r->off, r->name, r->len - r->off);
    float *d = enh_alloc(n * sizeof *d);
    if (!d)
        return enh_fail(err, ENH_ENOMEM, "layer '%s': out of memory for %s", layer, what);
    const unsigned char *s = r->data + r->off;
    for (size_t i = 0; i < n; i++) {
        d[i] = half_to_float((uint16_t)(s[2 * i] | s[2 * i + 1] << 8));
        if (!isfinite(d[i])) {
            enh_free(d);
            return enh_fail(err, ENH_EINVAL, "layer '%s': %s at byte offset %zu of %s holds a non-finite fp16 value",
                            layer, what, r->off + 2 * i, r->name);
        }
    }
    r->off += bytes;
    *out = d;
    return ENH_OK;
}
