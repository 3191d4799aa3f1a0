/* test_hostile_framing.c - strict framing on a raw socket, and probes behind a full server.
 * - ambiguous framing is a 400 and the connection closed, nothing after it runs: two
 *   Content-Length headers, Content-Length with Transfer-Encoding, a Transfer-Encoding other
 *   than chunked alone (it used to hang), two Transfer-Encoding headers, and bad chunk sizes
 *   (not hex, negative, "0x", trailing blank, data longer or shorter than its size:
 *   libmicrohttpd's own 400); a chunk size past 64 bits is its 413, also closed;
 * - with the main port's connection cap taken by connections that send nothing, the probe
 *   listener (--probe-port) still answers /healthz and /readyz at once, and only them; one
 *   address cannot take the probe listener's own connections either.
 * Runs test_hostile_framing SERVER_CMD... */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "../serve/serve_test.h"
#include "hostile.h"

#define POST "POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
#define CHUNKED POST "Transfer-Encoding: chunked\r\n\r\n"

static void test_framing(const test_server *s)
{
    static const struct {
        const char *name, *req;
        int code;
    } t[] = {
        {"two Content-Length", POST "Content-Length: 5\r\nContent-Length: 46\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
         400},
        {"Content-Length with chunked", POST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         400},
        {"Transfer-Encoding gzip", POST "Transfer-Encoding: gzip\r\n\r\nhello", 400},
        {"Transfer-Encoding gzip, chunked", POST "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400},
        {"two Transfer-Encoding", POST "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         400},
        {"chunk size not hex", CHUNKED "zz\r\nhello\r\n0\r\n\r\n", 400},
        {"negative chunk size", CHUNKED "-5\r\nhello\r\n0\r\n\r\n", 400},
        {"chunk size 0x5", CHUNKED "0x5\r\nhello\r\n0\r\n\r\n", 400},
        {"chunk size with a blank", CHUNKED "5 \r\nhello\r\n0\r\n\r\n", 400},
        {"chunk longer than its size", CHUNKED "3\r\nhello\r\n0\r\n\r\n", 400},
        {"chunk shorter than its size", CHUNKED "9\r\nhello\r\n0\r\n\r\n", 400},
        {"chunk size past 64 bits", CHUNKED "fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 413},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int closed;
        double secs;
        char *o = h_exchange(s->port, t[i].req, strlen(t[i].req), 5, &closed, &secs);
        int n = 0;
        for (const char *p = o; (p = strstr(p, "HTTP/1.1 ")); p++)
            n++;
        CHECK_MSG(h_status(o) == t[i].code && closed && n == 1 && secs < 2, "%s: want %d and closed: %s after %.2f s: %.200s",
                  t[i].name, t[i].code, closed ? "closed" : "open", secs, o);
        free(o);
    }
}

static void test_probes(const test_server *s, int probe_port)
{
    /* the main port's 8 connections held by clients that send one byte */
    int hogs[12], nh = 0;
    for (int i = 0; i < 8; i++) {
        hogs[nh] = h_connect(s->port);
        if (hogs[nh] >= 0 && !h_send(hogs[nh], "G", 1))
            nh++;
    }
    sleep_ms(300);
    static const char hz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    static const char rz[] = "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int closed;
    double secs;
    char *o = h_exchange(s->port, hz, sizeof hz - 1, 1, &closed, &secs);
    CHECK_MSG(h_status(o) != 200, "the main port answered with its cap taken (the test holds no slot?): %.100s", o);
    free(o);
    double worst = 0;
    for (int i = 0; i < 10; i++) {
        o = h_exchange(probe_port, i % 2 ? rz : hz, i % 2 ? sizeof rz - 1 : sizeof hz - 1, 5, &closed, &secs);
        CHECK_MSG(h_status(o) == 200, "probe port, main port full: %.200s", o);
        worst = secs > worst ? secs : worst;
        free(o);
    }
    printf("probes: /healthz and /readyz on --probe-port with the main port's 8 connections taken: slowest %.1f ms\n",
           worst * 1000);
    CHECK_MSG(worst < 1.0, "a probe took %.3f s", worst);
    /* the probe port's own 16 connections cannot be taken from one address (4 each): with 16
     * trickling from 127.0.0.3, a probe from 127.0.0.1 still gets in */
    int phogs[16], np = 0;
    for (int i = 0; i < 16; i++) {
        phogs[np] = h_connect_from("127.0.0.3", probe_port);
        if (phogs[np] >= 0)
            h_send(phogs[np], "G", 1), np++;
    }
    sleep_ms(300);
    o = h_exchange(probe_port, hz, sizeof hz - 1, 5, &closed, &secs);
    CHECK_MSG(h_status(o) == 200 && secs < 1.0, "probe port with 16 connections from one other address: %.3f s %.100s",
              secs, o);
    free(o);
    for (int i = 0; i < np; i++)
        close(phogs[i]);
    static const char api[] = "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    o = h_exchange(probe_port, api, sizeof api - 1, 5, &closed, &secs);
    CHECK_MSG(h_status(o) == 404 && strstr(o, "probe port"), "the API on the probe port: %.200s", o);
    free(o);
    for (int i = 0; i < nh; i++)
        close(hogs[i]);
    sleep_ms(300);
    http_resp r;
    http_do("GET", url(s, "/healthz"), NULL, 0, NULL, 5, &r);
    CHECK_MSG(r.status == 200, "the main port after the hogs left: %ld", r.status);
    http_resp_free(&r);
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    char models[96], pp[16];
    snprintf(models, sizeof models, "%s/models", g_tmp);
    CHECK(mkdir(models, 0700) == 0);
    setenv("ENHANCE_MODELS_DIR", models, 1);
    int probe_port = h_free_port();
    snprintf(pp, sizeof pp, "%d", probe_port);
    test_server s;
    const char *args[] = {"--log-level", "warn", "--max-connections", "8", "--max-client-connections", "8",
                          "--probe-port", pp, "--header-timeout", "30", NULL};
    if (test_server_start(&s, g_cmd, args) != 0 || test_server_wait_ready(&s, 30) != 0) {
        CHECK_MSG(0, "the server did not start");
    } else {
        test_framing(&s);
        test_probes(&s, probe_port);
        CHECK(test_server_wait_exit(&s, SIGTERM, 20) == 0);
    }
    serve_test_teardown();
    CHECK_MAIN_END();
}
