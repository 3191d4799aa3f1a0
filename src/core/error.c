#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Replaces every byte that does not start or continue a valid UTF-8 sequence by '?': messages
 * quote what users send (query keys, part names) and end up in JSON, which must be UTF-8 - the
 * server's error answer for a query key with a 0xff byte could not be made, and the client got
 * no answer. Also repairs a sequence cut by the message's size limit. */
void enh_utf8_clean(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned c = *p, n = 0, lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        unsigned k = 1;
        for (; n && k <= n; k++, lo = 0x80, hi = 0xbf)
            if (p[k] < lo || p[k] > hi)
                break;
        if (!n || k <= n) {
            *p++ = '?';
            continue;
        }
        p += n + 1;
    }
}

enh_status enh_fail(enh_error *err, enh_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        enh_utf8_clean(err->msg);
        err->code = code;
    }
    return code;
}

enh_status enh_error_prefix(enh_error *err, const char *fmt, ...)
{
    if (!err)
        return ENH_EINTERNAL;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix);
    size_t cap = sizeof err->msg;
    if (plen + 2 >= cap)
        plen = cap - 3;
    size_t olen = strnlen(err->msg, cap - 1);
    if (plen + 2 + olen >= cap)
        olen = cap - 1 - plen - 2;
    memmove(err->msg + plen + 2, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->msg[plen + 2 + olen] = '\0';
    enh_utf8_clean(err->msg);
    return err->code;
}

void enh_error_clear(enh_error *err)
{
    if (err) {
        err->code = ENH_OK;
        err->msg[0] = '\0';
    }
}

const char *enh_status_name(enh_status code)
{
    switch (code) {
    case ENH_OK: return "ok";
    case ENH_EINVAL: return "invalid_input";
    case ENH_EUNSUPPORTED: return "unsupported";
    case ENH_ETOOBIG: return "too_large";
    case ENH_EIO: return "io_error";
    case ENH_ENOMEM: return "out_of_memory";
    case ENH_ENOTFOUND: return "not_found";
    case ENH_ECANCELLED: return "cancelled";
    case ENH_ETIMEOUT: return "deadline_exceeded";
    case ENH_EBUSY: return "busy";
    case ENH_EINTERNAL: return "internal";
    }
    return "unknown";
}
