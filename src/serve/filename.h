/* filename.h - the name a result is downloaded under: the uploaded file's stem, what was done,
 * the output format's extension (garden.jpg + upscale=photo x4 -> garden_x4_photo.jpg), sent
 * as Content-Disposition by POST /v1/enhance and GET /v1/jobs/ID/result.
 * Thread-safety: re-entrant. Errors: none (a name that cannot be used becomes "image"). */
#ifndef ENH_SERVE_FILENAME_H
#define ENH_SERVE_FILENAME_H

#include <stddef.h>

#include "enhance/ops.h"

/* original: the client's file name (may be NULL or have a path; only [A-Za-z0-9._-] of its
 * stem are kept, at most 64); scale: the factor applied (0 = none); mime: the result's type. */
void serve_result_filename(const char *original, const enh_ops *ops, double scale, const char *mime, char *out,
                           size_t n);
/* A Content-Disposition value for it (`attachment` or `inline`). */
void serve_content_disposition(const char *kind, const char *filename, char *out, size_t n);

#endif
