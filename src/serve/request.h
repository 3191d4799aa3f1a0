/* request.h - parsing the parts of an enhance request that are not HTTP plumbing:
 * flat query keys -> enh_ops (+ server parameters), multipart/form-data bodies, bearer
 * tokens compared in constant time, request ids.
 *
 * Query keys (all optional; unknown keys are ENH_EINVAL naming the key):
 *   upscale=photo|art|quality|resample|off  scale=F  model=NAME  auto=BOOL
 *   decompress|denoise|deblur|sharpen=off|auto|0..100 (decompress also moderate|strong)
 *   auto_color|auto_exposure=BOOL  hdr=0..100  exposure|contrast|saturation|sharpness|temperature|tint=-100..100
 *   width|height=PX or N%  resize=F  fit=inside|bounds|cover|crop|fill|pad|canvas  gravity=centre|center|smart
 *   padding=PX  background=R,G,B[,A]  format=jpeg|png|webp|avif|tiff  quality=1..100  metadata=BOOL
 *   bit_depth=8|16  progressive=BOOL  lossless=BOOL
 *   priority=high|normal|batch  deadline_ms=N  (server parameters, not operations)
 * BOOL is true|false|1|0|yes|no|on|off; a key given without a value means true.
 *
 * Ownership: parts returned by serve_multipart_parse point into the caller's body (no copy).
 * Thread-safety: all functions are re-entrant. Errors: enh_status + message naming the key.
 */
#ifndef ENH_SERVE_REQUEST_H
#define ENH_SERVE_REQUEST_H

#include <stddef.h>

#include "core/error.h"
#include "enhance/ops.h"
#include "serve/batcher.h"

typedef struct serve_params {
    serve_priority priority; /* default normal */
    double deadline_ms;      /* 0 = the model's default */
    int has_ops;             /* a query key set an operation */
} serve_params;

void serve_params_init(serve_params *p);

/* Applies one query key to ops / params. value may be NULL (key without '='). */
enh_status serve_query_apply(const char *key, const char *value, enh_ops *ops, serve_params *p, enh_error *err);

enh_status serve_priority_from_name(const char *name, serve_priority *p, enh_error *err);
const char *serve_priority_name(serve_priority p);

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
