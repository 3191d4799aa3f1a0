/* tfjs_container.h - reads TF.js model files as plain files or inside the `.min.js` wrappers the
 * nsfwjs npm package ships: a browserify/UMD bundle whose one module does
 * `X.exports = VALUE`, VALUE being either the model.json object written as a JavaScript object
 * literal (unquoted keys, `!0`/`!1` for true/false, `.5` numbers) or a string with the base64 of
 * one weight shard. Nothing is evaluated: the wrapper is located by text, and VALUE is parsed by
 * a small JSON-superset reader (objects, arrays, strings, numbers, true/false/null, !0/!1).
 *
 * Ownership: results are the caller's (json_decref / free). Thread-safety: reentrant.
 * Errors: ENH_ENOTFOUND (missing file), ENH_EINVAL (malformed: the message names the file and
 * the byte offset), ENH_ETOOBIG (a file over the size limit), ENH_ENOMEM. */
#ifndef ENH_NN_TFJS_CONTAINER_H
#define ENH_NN_TFJS_CONTAINER_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

/* Files above this are refused before reading (the largest nsfwjs shard is 5.6 MB). */
#define ENH_TFJS_CONTAINER_MAX_BYTES ((size_t)1 << 30)

/* Parses the JavaScript value at text[*pos] (JSON plus the literal forms above; nesting up to
 * 64 levels). On success *pos is just past it. `what` names the source in messages. */
enh_status enh_js_value_parse(const char *text, size_t len, size_t *pos, json_t **out, const char *what,
                              enh_error *err);

/* model.json content: a JSON file, or a .min.js wrapper around an object literal. */
enh_status enh_tfjs_read_json(const char *path, json_t **out, enh_error *err);

/* Strict base64 (RFC 4648 alphabet, '=' padding only at the end, length a multiple of 4) into a
 * new buffer. */
enh_status enh_base64_decode(const char *s, size_t n, unsigned char **out, size_t *out_len, const char *what,
                             enh_error *err);

/* One weight shard: dir/name as raw bytes when that file exists, else dir/name.min.js (the
 * base64 string inside the wrapper, decoded). */
enh_status enh_tfjs_read_shard(const char *dir, const char *name, unsigned char **out, size_t *out_len,
                               enh_error *err);

#endif
