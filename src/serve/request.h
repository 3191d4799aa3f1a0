/* request.h - parsing the parts of an enhance request that are not HTTP plumbing:
 * flat query keys -> enh_ops (+ server parameters), multipart/form-data bodies, bearer
 * tokens compared in constant time, request ids.
 *
 * Query keys (all optional; unknown keys are ENH_EINVAL listing the known ones): one per
 * option of the operations table (enhance/ops_table.h; `enhance ops --describe` maps each to
 * its CLI flag and JSON path), with the values of the operations JSON, e.g. upscale=photo|art|quality|
 * resample|off|F, denoise=off|auto|0..100, width=PX|N%, fit=cover, metadata=keep,
 * background=R,G,B[,A]|#rrggbb, kernel=cubic. `enhance serve --help` lists them all.
 * A key without a value means true (auto_color, sharpen=auto, metadata=keep).
 *   priority=high|normal|batch  deadline_ms=N  (server parameters, not operations)
 *
 * Ownership: parts returned by serve_multipart_parse point into the caller's body (no copy).
 * Thread-safety: all functions are re-entrant. Errors: enh_status + message naming the key.
 */
#ifndef ENH_SERVE_REQUEST_H
#define ENH_SERVE_REQUEST_H

#include <stddef.h>

#include "core/error.h"
#include "enhance/ops.h"
#include "enhance/ops_table.h"
#include "serve/batcher.h"

typedef struct serve_params {
    serve_priority priority; /* default normal */
    double deadline_ms;      /* 0 = the model's default */
    int has_ops;             /* a query key set an operation */
    enh_ops_state ops_state; /* what the query keys set so far (rules that span keys) */
} serve_params;

void serve_params_init(serve_params *p);

/* Applies one query key to ops / params. value may be NULL (key without '='). */
enh_status serve_query_apply(const char *key, const char *value, enh_ops *ops, serve_params *p, enh_error *err);

enh_status serve_priority_from_name(const char *name, serve_priority *p, enh_error *err);

typedef struct serve_part {
    char name[64];
    char filename[256];
    char content_type[128];
    const char *data;
    size_t len;
} serve_part;

/* Parses a multipart/form-data body. content_type is the request's Content-Type header
 * (the boundary comes from it). At most max_parts parts are returned. */
enh_status serve_multipart_parse(const char *content_type, const char *body, size_t len, serve_part *parts,
                                 int max_parts, int *nparts, enh_error *err);

/* 1 when a and b are equal; the time taken depends only on the lengths. */
int serve_secret_equal(const char *a, size_t alen, const char *b, size_t blen);

/* Random 32-hex-digit id into out (>= 33 bytes). */
void serve_new_request_id(char *out);
/* 1 when a client-supplied id is acceptable to echo (1..128 chars of [A-Za-z0-9._:-]). */
int serve_request_id_ok(const char *id);

#endif
