/* json_mem.h - JSON parsing (and writing) with jansson's allocation failures made visible.
 * jansson (2.14) does not always report a failed allocation: when the lexer's string buffer
 * cannot grow it drops the character and parses on (measured: an operations JSON whose model
 * path lost one character, under tests/fault), and other failures come back as syntax errors
 * ("string or '}' expected"). Every parser of a JSON document therefore goes through
 * enh_json_parse, which answers ENH_ENOMEM when an allocation of jansson's failed on this
 * thread during the parse, whatever jansson returned; after one failure the rest of the parse
 * gets no memory either (jansson would otherwise abort on an escape it cut: json_mem.c).
 * The first call installs counting allocation functions for the process
 * (json_set_alloc_funcs; malloc and free underneath, so memory from before stays valid).
 * Documents built in memory can be checked the same way (enh_json_build_begin/_end).
 * Ownership: *out is the caller's (json_decref). Thread-safe (the count is per thread).
 * Errors: ENH_ENOMEM only ("out of memory while parsing <what>"); text that is not JSON is not
 * an error here: *out is NULL and je says why, for the caller's own message and class. */
#ifndef ENH_CORE_JSON_MEM_H
#define ENH_CORE_JSON_MEM_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

/* json_loadb(text, len, flags, je) with allocation failures detected (see above). */
enh_status enh_json_parse(const char *text, size_t len, size_t flags, const char *what, json_t **out,
                          json_error_t *je, enh_error *err);
/* json_dumps(json, flags), NULL when an allocation failed during it: jansson's writer also
 * returns text with characters missing then (measured under tests/fault: a check's JSON 1 to 6
 * bytes short). The text is the caller's (free). */
char *enh_json_dumps(const json_t *json, size_t flags);
/* A document built between enh_json_build_begin and enh_json_build_end (this thread) may miss a
 * member when enh_json_build_end returns 1: one of jansson's allocations failed, and the _new
 * insert and append functions skip a value that could not be made without the callers seeing it
 * unless each return is checked. For builders with many inserts; not to be interleaved with
 * enh_json_parse or enh_json_dumps (they open their own window). */
void enh_json_build_begin(void);
int enh_json_build_end(void);

#endif
