/* json_mem.h - jansson's allocation failures made visible to the parsers.
 * jansson (2.14) does not always report a failed allocation: when the lexer's string buffer
 * cannot grow it drops the character and parses on (measured: an operations JSON whose model
 * path lost one character, under tests/fault), and other failures come back as syntax errors
 * ("string or '}' expected"). A parser therefore calls enh_json_mem_begin() before json_loadb
 * and enh_json_mem_failed() after it: non-zero when an allocation of jansson's failed on this
 * thread in between, whatever jansson returned, so the caller answers ENH_ENOMEM.
 * The first enh_json_mem_begin() installs counting allocation functions for the process
 * (json_set_alloc_funcs; malloc and free underneath, so memory from before stays valid).
 * Thread-safe (the count is per thread). */
#ifndef ENH_CORE_JSON_MEM_H
#define ENH_CORE_JSON_MEM_H

void enh_json_mem_begin(void);
int enh_json_mem_failed(void);

#endif
