/* web.h - the "try it" page (web/index.html) embedded at build time (module.cmake).
 * Read-only data; thread-safe. */
#ifndef ENH_SERVE_WEB_H
#define ENH_SERVE_WEB_H

#include <stddef.h>

extern const unsigned char enh_serve_web_index[];
extern const size_t enh_serve_web_index_len;

#endif
