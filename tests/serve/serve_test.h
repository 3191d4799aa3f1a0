/* serve_test.h - fixtures shared by the HTTP test programs of the server (test_serve_http,
 * test_serve_lifecycle, test_serve_model): the server command line, a temporary folder,
 * small test images, and response checks.
 *
 * The checks return 1 when the response is as expected and print what differs otherwise;
 * they do not count failures themselves (tests/check.h keeps its counters per program), so
 * callers wrap them: CHECK_ERROR below, or CHECK(write_text(...)).
 * Not thread-safe except url(), json_body() and image_dims(), which request threads use. */
#ifndef ENH_TESTS_SERVE_SERVE_TEST_H
#define ENH_TESTS_SERVE_SERVE_TEST_H

#include <jansson.h>
#include <stddef.h>

#include "http_client.h"

/* Set by serve_test_setup: the server command (argv after the program's own options), a
 * fresh temporary folder, a 32x32 RGB gradient as PNG and JPEG, a black 600x600 PNG. */
extern const char *const *g_cmd;
extern char g_tmp[64];
extern void *g_png, *g_big_png, *g_jpeg;
extern size_t g_png_len, g_big_png_len, g_jpeg_len;

/* argv: PROGRAM SERVER_COMMAND [ARGS...]. Returns 0, or 2 after printing why (usage, libvips). */
int serve_test_setup(int argc, char **argv);
/* Removes the temporary folder, frees the images. */
void serve_test_teardown(void);

void sleep_ms(int ms);
/* s->base + path, in a per-thread buffer (valid until the thread's next call). */
char *url(const test_server *s, const char *path);
/* The body parsed as JSON (json_decref it), NULL when it is not JSON. */
json_t *json_body(const http_resp *r);
/* The decoded image's size (0x0 when the body is not an image). */
void image_dims(const http_resp *r, int *w, int *h);
/* Writes text to path atomically; 1 on success. */
int write_text(const char *path, const char *text);
/* GET /metrics: the number after the line starting with line_prefix; 1 when found. */
int metric_value(const test_server *s, const char *line_prefix, double *v);

/* Posts a PNG (len bytes) to path on a connection of its own and reads nothing: the fd (close
 * it to make the client go away at a chosen moment), -1 on failure. */
int raw_post(const test_server *s, const char *path, const void *png, size_t len);
/* 1 when an answer is waiting on fd (from raw_post). */
int has_answer(int fd);

/* POSTs a PNG to path_prefix + "deadline_ms=<*deadline_ms>" until the answer is not a 504
 * saying the deadline passed before the encode (a loaded machine): each retry raises the
 * deadline to twice itself, or to 1.5 times that answer's time if more; at most 4 tries.
 * *deadline_ms: the first deadline in, the last one out; r: the last answer (free it).
 * Returns the number of tries. */
int post_until_encode_deadline(const test_server *s, const char *path_prefix, const void *png, size_t len,
                               double timeout, int *deadline_ms, http_resp *r);

/* 1 when r is the server's error JSON {"error": {"code", "type", "message", "details":
 * {"request_id"}}} with this status and type and a message containing msg_part (NULL: any). */
int error_is(const http_resp *r, long code, const char *type, const char *msg_part);
#define CHECK_ERROR(r, code, type, msg_part) CHECK_MSG(error_is((r), (code), (type), (msg_part)), "error response")

#endif
