/* tfjs_load.h - TF.js graph-model reader (model.json + shards -> tf_graph).
 * Ownership: *out is the caller's (tf_graph_free). Thread-safety: reentrant.
 * Errors: ENH_ENOTFOUND (missing file or shard), ENH_EINVAL (malformed JSON, bad shapes,
 * short shards), ENH_EUNSUPPORTED (an op or encoding this runtime does not have), ENH_ENOMEM
 * (never a misread document: json_mem.h); the message names the file and the node or weight. */
#ifndef ENH_NN_TFJS_LOAD_H
#define ENH_NN_TFJS_LOAD_H

#include "nn/tf_graph.h"

enh_status enh_tfjs_load_graph(const char *model_json, tf_graph **out, enh_error *err);

#endif
