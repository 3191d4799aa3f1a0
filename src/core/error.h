/* error.h - status codes and error messages shared by every module.
 *
 * Contract: library functions return an enh_status (ENH_OK == 0) and, on failure,
 * fill the caller's enh_error (which may be NULL) with a one-line message that says
 * what went wrong and, where possible, how to fix it; the message is valid UTF-8 (bytes of user
 * text quoted in it that are not are replaced by '?': it goes into JSON). Library code never exits or
 * aborts on bad input. enh_error is a plain value: no ownership, no threading rules.
 */
#ifndef ENH_CORE_ERROR_H
#define ENH_CORE_ERROR_H

#include <stddef.h>

typedef enum enh_status {
    ENH_OK = 0,
    ENH_EINVAL,       /* malformed input or bad argument (user can fix) */
    ENH_EUNSUPPORTED, /* valid but unsupported format / operation */
    ENH_ETOOBIG,      /* exceeds a configured limit (pixels, bytes) */
    ENH_EIO,          /* file system or stream failure */
    ENH_ENOMEM,       /* allocation failed */
    ENH_ENOTFOUND,    /* missing file / model / key */
    ENH_ECANCELLED,   /* caller cancelled the work */
    ENH_ETIMEOUT,     /* deadline exceeded */
    ENH_EBUSY,        /* queue full, try again later */
    ENH_EINTERNAL     /* a bug or an unexpected library failure */
} enh_status;

#define ENH_ERROR_MSG_MAX 1024

typedef struct enh_error {
    enh_status code;
    char msg[ENH_ERROR_MSG_MAX];
} enh_error;

/* Formats the message into *err (if err is non-NULL) and returns code. */
enh_status enh_fail(enh_error *err, enh_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to an existing message; returns err->code (or ENH_EINTERNAL if err is NULL). */
enh_status enh_error_prefix(enh_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void enh_error_clear(enh_error *err);

/* Replaces, in place, every byte of s that is not part of a valid UTF-8 sequence by '?' (what
 * enh_fail does to its message): for text that quotes a client's bytes and goes into JSON. */
void enh_utf8_clean(char *s);

/* Stable lower-case name of a status ("invalid_input", "too_large", ...). */
const char *enh_status_name(enh_status code);

#endif
