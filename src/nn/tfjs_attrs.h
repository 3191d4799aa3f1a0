/* tfjs_attrs.h - the attributes of a TF.js graph model's nodes (model.json's modelTopology.node[]
 * .attr), for tfjs_load.c. Pure functions of their arguments (thread-safe); nothing to free.
 * Errors: ENH_EINVAL for a malformed or out-of-range attribute, ENH_EUNSUPPORTED for a valid one
 * this runtime does not run (a data type, padding or layout), each naming the file and node. */
#ifndef ENH_NN_TFJS_ATTRS_H
#define ENH_NN_TFJS_ATTRS_H

#include <jansson.h>

#include "core/error.h"
#include "nn/tf_graph.h"

/* node.attr[key], or NULL. */
json_t *tfjs_attr(json_t *node, const char *key);
/* "DT_FLOAT"/"float32", "DT_INT32"/"int32", "DT_BOOL"/"bool" into *dt; -1 for anything else. */
int tfjs_parse_dtype_name(const char *s, tf_dtype *dt);
/* Fills n's data type, strides, dilations, padding, axis, masks, squeeze dims and Einsum
 * equation from the node's attributes (n->op and n->name already set); file names the model in
 * messages. */
enh_status tfjs_parse_attrs(json_t *jn, tf_node *n, const char *file, enh_error *err);

#endif
