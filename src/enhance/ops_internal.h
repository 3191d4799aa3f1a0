/* ops_internal.h - shared by the files of the operations model (ops_json.c, ops_schema.c);
 * not for other modules. Thread-safe (pure functions). */
#ifndef ENH_ENHANCE_OPS_INTERNAL_H
#define ENH_ENHANCE_OPS_INTERNAL_H

#include <jansson.h>

#include "enhance/ops_table.h"

/* The option's value in o as canonical JSON (new reference), or NULL when it is unset. */
json_t *enh_opt_json_value(const enh_opt *r, const enh_ops *o);

#endif
