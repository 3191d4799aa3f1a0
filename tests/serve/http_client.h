/* http_client.h - a small libcurl client and server-process helpers for the serve tests
 * and the load generator. Thread-safe after http_client_init(). */
#ifndef ENH_TESTS_SERVE_HTTP_CLIENT_H
#define ENH_TESTS_SERVE_HTTP_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

typedef struct http_resp {
    long status;      /* 0 when no answer came */
    int curl_code;
    char *body;
    size_t len;
    char request_id[160], retry_after[32], content_type[128], width[16], height[16], model[96];
    char server_timing[256], timing_queue[32];
    char disposition[256], location[128], allow_origin[128]; /* Content-Disposition, Location, CORS */
    double seconds;
} http_resp;

void http_client_init(void);
/* headers: NULL-terminated list of "Name: value" (may be NULL). timeout_s 0 = none. */
int http_do(const char *method, const char *url, const void *body, size_t len, const char *const *headers,
            double timeout_s, http_resp *out);
void http_resp_free(http_resp *r);

typedef struct test_server {
    pid_t pid;
    int port;
    char base[64];
    char port_file[128];
} test_server;

/* Starts `argv0 [pre...] args... --port 0 --port-file F`; waits for the port (10 s). */
int test_server_start(test_server *s, const char *const *cmd, const char *const *args);
/* Polls GET /readyz until 200 (timeout_s). */
int test_server_wait_ready(test_server *s, double timeout_s);
/* Sends sig; waits up to timeout_s for exit; returns the exit status, -1 on timeout (then kills). */
int test_server_wait_exit(test_server *s, int sig, double timeout_s);

#endif
