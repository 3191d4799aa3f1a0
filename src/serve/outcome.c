/* outcome.c - see outcome.h. */
#include "serve/outcome.h"

const char *serve_outcome_type(enh_status st, serve_stage stage)
{
    switch (st) {
    case ENH_OK: return "ok";
    case ENH_EINVAL:
        if (stage == STAGE_DECODE)
            return "invalid_image";
        return stage == STAGE_DONE ? "invalid_request" : "unprocessable";
    case ENH_EUNSUPPORTED: return stage == STAGE_DECODE ? "unsupported_media_type" : "unprocessable";
    case ENH_ENOTFOUND: return "model_not_found";
    case ENH_ETOOBIG: return "too_large";
    case ENH_EBUSY: return "queue_full";
    case ENH_ETIMEOUT: return "deadline_exceeded";
    case ENH_ECANCELLED: return "cancelled";
    case ENH_ENOMEM: return "out_of_memory";
    default: return "internal";
    }
}
