/* brisque_yml.h - a reader for the YAML that OpenCV's FileStorage writes (the BRISQUE model and
 * range files): block mappings and sequences by indentation, flow [ ] and { } collections that
 * may span lines, plain and quoted scalars, tags (!!opencv-matrix) and the %YAML / --- header.
 * Not a general YAML parser: no anchors, aliases, multi-line plain scalars or block scalars.
 *
 * Ownership: enh_yml_load returns a document freed with enh_yml_free; nodes and their text
 * belong to the document. Thread-safety: a loaded document is immutable.
 * Errors: ENH_ENOTFOUND (no such file), ENH_EIO, ENH_ETOOBIG (over ENH_YML_MAX_BYTES, nesting
 * or node limits), ENH_EINVAL (malformed: the message names the file and line), ENH_ENOMEM. */
#ifndef ENH_ENHANCE_BRISQUE_YML_H
#define ENH_ENHANCE_BRISQUE_YML_H

#include <stddef.h>

#include "core/error.h"

#define ENH_YML_MAX_BYTES (16u << 20) /* the LIVE model is 0.57 MB, 28.7 k values */
#define ENH_YML_MAX_DEPTH 32
#define ENH_YML_MAX_NODES (1u << 18) /* about 20 MB of nodes at most */

typedef enum { ENH_YML_SCALAR, ENH_YML_SEQ, ENH_YML_MAP } enh_yml_type;

typedef struct enh_yml_node enh_yml_node;
struct enh_yml_node {
    enh_yml_type type;
    int line;          /* 1-based line where the node starts */
    const char *text;  /* scalar: its text (NUL-terminated, unquoted); "" for an empty value */
    const char *tag;   /* "!!opencv-matrix" or NULL */
    size_t n;          /* children of a sequence or mapping */
    enh_yml_node **kids;
    const char **keys; /* mapping keys, parallel to kids */
};

typedef struct enh_yml_doc enh_yml_doc;

/* Parses the file at path; *out is NULL on failure. */
enh_status enh_yml_load(const char *path, enh_yml_doc **out, enh_error *err);
/* Parses a buffer (a copy is kept); name is used in messages. */
enh_status enh_yml_parse(const char *data, size_t size, const char *name, enh_yml_doc **out, enh_error *err);
void enh_yml_free(enh_yml_doc *d);

const enh_yml_node *enh_yml_root(const enh_yml_doc *d);
const char *enh_yml_name(const enh_yml_doc *d);
/* The child of a mapping with this key, or NULL (also when m is not a mapping). */
const enh_yml_node *enh_yml_get(const enh_yml_node *m, const char *key);
/* A scalar as a finite number (C-locale syntax, the whole text); 0 on success, -1 otherwise. */
int enh_yml_number(const enh_yml_node *n, double *v);

#endif
