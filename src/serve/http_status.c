/* http_status.c - the HTTP status code of an error class (outcome.h): the HTTP layer's half
 * of a finished request's mapping (the scheduler records the class only). Pure function. */
#include <string.h>

#include "serve/server_internal.h"

int serve_http_code(const char *type)
{
    static const struct { const char *type; int code; } map[] = {
        {"ok", 200},
        {"invalid_image", 400},
        {"invalid_request", 400},
        {"unauthorized", 401},
        {"not_found", 404},
        {"too_large", 413},
        {"unsupported_media_type", 415},
        {"unprocessable", 422},
        {"moderation_blocked", 422},
        {"model_not_found", 422},
        {"queue_full", 429},
        {"cancelled", 499}, /* the client went away (nginx's code; never seen by that client) */
        {"out_of_memory", 503},
        {"unavailable", 503},
        {"deadline_exceeded", 504},
    };
    for (size_t i = 0; type && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(type, map[i].type))
            return map[i].code;
    return 500; /* "internal" and anything unknown */
}
