/* test_serve_guard.c - hostile clients on loopback (raw sockets, bounded waits): two
 * Content-Length headers are a 400 and the bytes after the first length never run as a second
 * request; Content-Length with Transfer-Encoding is a 400; a POST with hundreds or thousands of
 * query keys is a 400 at once (it used to hang 105 s); connections trickling their headers a
 * byte at a time (slowloris) from one address do not starve /healthz for another address, and
 * are closed at the header deadline however they trickle.
 * Runs test_serve_guard SERVER_CMD... */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "serve_test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connection to the server from source address src (any 127/8 address works on Linux). */
static int connect_from(const test_server *s, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, src, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    a.sin_port = htons((uint16_t)s->port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends req (len bytes) and reads until the server closes or timeout_s passes; *secs: time
 * to the first byte of the answer (timeout_s when none). Returns the bytes read (malloc'd). */
static char *exchange(const test_server *s, const char *src, const char *req, size_t len, double timeout_s,
                      double *secs)
{
    int fd = connect_from(s, src);
    char *out = calloc(1, 1 << 16);
    size_t n = 0;
    double t0 = now_s();
    *secs = timeout_s;
    if (fd < 0 || !out) {
        close(fd);
        return out;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may answer and close before the body is sent: fine */
        off += (size_t)w;
    }
    while (n < (1 << 16) - 1) {
        double left = timeout_s - (now_s() - t0);
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            break;
        ssize_t r = recv(fd, out + n, (1 << 16) - 1 - n, 0);
        if (r <= 0)
            break;
        if (!n)
            *secs = now_s() - t0;
        n += (size_t)r;
    }
    close(fd);
    return out;
}

static int count(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        k++;
    return k;
}

static void test_framing(const test_server *s)
{
    double t;
    /* the first length (5) would end the body at "hello" and run the rest as a second request */
    static const char dup[] = "POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                              "Content-Length: 5\r\nContent-Length: 46\r\n\r\n"
                              "helloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    char *o = exchange(s, "127.0.0.1", dup, sizeof dup - 1, 5, &t);
    CHECK_MSG(!strncmp(o, "HTTP/1.1 400", 12) && strstr(o, "Content-Length"), "duplicate length: %.300s", o);
    CHECK_MSG(count(o, "HTTP/1.1 ") == 1, "a second request ran: %.600s", o);
    free(o);
    static const char both[] = "POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    o = exchange(s, "127.0.0.1", both, sizeof both - 1, 5, &t);
    CHECK_MSG(!strncmp(o, "HTTP/1.1 400", 12), "length with chunked: %.300s", o);
    free(o);
}

static void test_query_keys(const test_server *s)
{
    int counts[] = {65, 400, 3000};
    const char *paths[] = {"/v1/enhance", "/nowhere"};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        for (size_t p = 0; p < 2; p++) {
            size_t cap = (size_t)counts[i] * 12 + 8192;
            char *req = malloc(cap);
            size_t n = (size_t)snprintf(req, cap, "POST %s?", paths[p]);
            for (int k = 0; k < counts[i]; k++)
                n += (size_t)snprintf(req + n, cap - n, "%sk%d=1", k ? "&" : "", k);
            n += (size_t)snprintf(req + n, cap - n, " HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                                                    "Content-Length: 5000\r\n\r\n");
            memset(req + n, 'x', 5000);
            n += 5000;
            double t;
            char *o = exchange(s, "127.0.0.1", req, n, 5, &t);
            CHECK_MSG(!strncmp(o, "HTTP/1.1 4", 10) && t < 1.0, "%d keys on %s: %.3f s: %.200s", counts[i],
                      paths[p], t, o);
            if (counts[i] > 1000)
                CHECK_MSG(strncmp(o, "HTTP/1.1 400", 12) == 0 || strncmp(o, "HTTP/1.1 414", 12) == 0,
                          "%d keys: %.200s", counts[i], o);
            else
                CHECK_MSG(strstr(o, "query parameters") != NULL, "%d keys on %s: %.300s", counts[i], paths[p], o);
            free(o);
            free(req);
        }
    }
}

#define NSLOW 120

static void test_slowloris(const test_server *s)
{
    int fds[NSLOW];
    int open_n = 0;
    for (int i = 0; i < NSLOW; i++) {
        fds[i] = connect_from(s, "127.0.0.1");
        if (fds[i] >= 0 && send(fds[i], "G", 1, MSG_NOSIGNAL) == 1)
            open_n++;
    }
    CHECK(open_n > 40);
    double t0 = now_s();
    int closed = 0;
    double worst = 0;
    /* trickle a byte every 0.25 s on every connection for 3 s (the header deadline is 1 s) */
    for (int round = 0; round < 12; round++) {
        double t;
        static const char hz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        char *o = exchange(s, "127.0.0.2", hz, sizeof hz - 1, 3, &t);
        CHECK_MSG(!strncmp(o, "HTTP/1.1 200", 12), "healthz under slowloris (round %d): %.100s", round, o);
        worst = t > worst ? t : worst;
        free(o);
        sleep_ms(250);
        for (int i = 0; i < NSLOW; i++)
            if (fds[i] >= 0)
                send(fds[i], "E", 1, MSG_NOSIGNAL);
    }
    for (int i = 0; i < NSLOW; i++) {
        if (fds[i] < 0)
            continue;
        char b[64];
        struct pollfd p = {fds[i], POLLIN, 0};
        ssize_t r = poll(&p, 1, 0) > 0 ? recv(fds[i], b, sizeof b, MSG_DONTWAIT) : 1;
        if (r == 0 || (r < 0 && errno != EAGAIN))
            closed++;
        close(fds[i]);
    }
    printf("slowloris: %d of %d trickling connections closed after %.1f s (header deadline 1 s); "
           "slowest /healthz from another address %.1f ms\n",
           closed, open_n, now_s() - t0, worst * 1000);
    CHECK_MSG(closed == NSLOW, "%d of %d trickling connections still open", NSLOW - closed, NSLOW);
    CHECK_MSG(worst < 1.0, "/healthz took %.3f s", worst);
    /* the address is served again */
    http_resp r;
    http_do("GET", url(s, "/healthz"), NULL, 0, NULL, 5, &r);
    CHECK(r.status == 200);
    http_resp_free(&r);
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    test_server s;
    const char *args[] = {"--log-level", "warn", "--header-timeout", "1", "--max-client-connections", "32", NULL};
    if (test_server_start(&s, g_cmd, args) != 0 || test_server_wait_ready(&s, 30) != 0) {
        CHECK_MSG(0, "the server did not start");
    } else {
        test_framing(&s);
        test_query_keys(&s);
        test_slowloris(&s);
        CHECK(test_server_wait_exit(&s, SIGTERM, 20) == 0);
    }
    serve_test_teardown();
    CHECK_MAIN_END();
}
