/* outcome.h - the error class of a request that failed ("invalid_image", "queue_full",
 * "out_of_memory", ...): the JSON error body's "type" and the metrics' reason label. The
 * scheduler records it on the job; the HTTP layer (http_status.c) turns it into a status code,
 * so the scheduler knows nothing of HTTP. Thread-safety: pure functions. */
#ifndef ENH_SERVE_OUTCOME_H
#define ENH_SERVE_OUTCOME_H

#include "core/error.h"

/* Where a request is: its stage, or where it failed. DONE also stands for request parsing. */
typedef enum { STAGE_DECODE = 0, STAGE_PIPELINE, STAGE_ENCODE, STAGE_DONE } serve_stage;

/* The class of a failure with status st in stage ("ok" for ENH_OK); a static string. */
const char *serve_outcome_type(enh_status st, serve_stage stage);

#endif
