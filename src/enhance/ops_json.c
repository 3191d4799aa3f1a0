/* ops_json.c - PLACEHOLDER until issue 6 lands: JSON <-> enh_ops. */
#include <stdlib.h>
#include <string.h>

#include "enhance/ops.h"

enh_status enh_ops_from_json(const char *json, size_t len, enh_ops *ops, enh_error *err)
{
    (void)json;
    (void)len;
    enh_ops_init(ops);
    return enh_fail(err, ENH_EUNSUPPORTED, "JSON operations are not available yet");
}

char *enh_ops_to_json(const enh_ops *ops)
{
    (void)ops;
    return strdup("{}");
}

const char *enh_ops_schema_json(void) { return "{}"; }
