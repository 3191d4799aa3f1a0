/* brisque_yml_internal.h - what the FileStorage YAML reader's files share (brisque_yml.c: the
 * document and its block structure, brisque_yml_flow.c: [ ] and { } lists, brisque_yml_node.c:
 * the node helpers and error recording): the parser state and the helpers. Not a public interface. Thread-safety: a parser is one call's.
 * Errors: a helper that fails records the first error in p->st / p->err and returns -1 or NULL. */
#ifndef ENH_ENHANCE_BRISQUE_YML_INTERNAL_H
#define ENH_ENHANCE_BRISQUE_YML_INTERNAL_H

#include <stddef.h>

#include "enhance/brisque_yml.h"

typedef struct {
    char *b;
    size_t n, pos;
    int line;
    size_t nodes;
    int depth;
    const char *name;
    enh_error *err;
    enh_status st;
} parser;

static inline int peek(const parser *p) { return p->pos < p->n ? (unsigned char)p->b[p->pos] : -1; }
static inline int peek_at(const parser *p, size_t k) { return p->pos + k < p->n ? (unsigned char)p->b[p->pos + k] : -1; }
static inline int at_eol(const parser *p) { int c = peek(p); return c < 0 || c == '\n' || c == '\r'; }

/* The text of a node without one (compared by address when the parse finishes). */
extern const char yml_empty_text[1];
/* Records the error (the first one only), naming the file and line; returns -1. */
int yml_fail(parser *p, enh_status code, const char *what);
/* A node of the document (counted against ENH_YML_MAX_NODES); NULL on failure. */
enh_yml_node *yml_new_node(parser *p, enh_yml_type t);
void yml_free_node(enh_yml_node *n);
/* Appends kid (and key, owned, for a mapping); frees both on failure. */
int yml_add_kid(parser *p, enh_yml_node *parent, char *key, enh_yml_node *kid);
/* A scalar of the text [s, s+len) of the private copy. */
enh_yml_node *yml_scalar(parser *p, size_t s, size_t len);
/* A mapping key [s, s+len), trailing blanks cut (owned: malloc'd). */
char *yml_copy_key(parser *p, size_t s, size_t len);
/* One nesting level more (counted against ENH_YML_MAX_DEPTH); -1 beyond. */
int yml_enter(parser *p);
/* A value inside (or starting) a flow collection at p->pos (brisque_yml_flow.c; the only
 * function of that file the block parser calls). */
enh_yml_node *yml_parse_flow(parser *p);

#endif
