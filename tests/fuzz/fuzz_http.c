/* fuzz_http.c - the server's handling of what a client sends: request heads and bodies as they
 * arrive on a socket (libmicrohttpd's parser in front, then ours: the framing guard of
 * http_guard.c, routing, the query keys, the Content-Type and multipart handling, the operations
 * JSON, the probe and decode of the body, the asynchronous job routes). One server runs in the
 * process (loopback, any free port, no models: upscale=resample runs the real pipeline); each
 * input is written to a new connection whose sending side is then closed once the server is not
 * working on a request (see HALF_CLOSE_GRACE_S), and the answer is read until the server closes it or
 * falls silent for 100 ms after answering. No answer within 10 s is a finding (a hang).
 * Seeds: requests to every route, pipelined keep-alive requests, a chunked upload, a multipart
 * upload with operations, an upload through trusted proxies (X-Forwarded-For), the framing cases
 * the guard refuses. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/log.h"
#include "fuzz.h"
#include "image/image_init.h"
#include "serve/serve.h"
#include "serve/server_internal.h"

static enh_server *g_srv;
static int g_port;

static void stop_server(void)
{
    enh_serve_stop(g_srv);
    g_srv = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    enh_log_set_level(ENH_LOG_ERROR);
    enh_serve_options o;
    enh_serve_options_init(&o);
    snprintf(o.host, sizeof o.host, "127.0.0.1");
    o.port = 0;
    o.max_body_bytes = 256 << 10;
    o.max_pixels = 1 << 20;
    o.max_output_pixels = 4 << 20;
    o.io_threads = 1;
    o.http_threads = 1;
    o.cores = 1;
    o.max_connections = 16;
    o.header_timeout_s = 1; /* a mutant cut inside its headers waits for this */
    /* libmicrohttpd does not always see the half-close of a kept-alive connection (below): each
     * such connection stays until the idle timeout. At the default 75 s, 8 of them (half of the
     * 16 for one address) made the server refuse every later connection from the fuzzer, and a
     * run's coverage fell from 1030 edges (the seeds alone) to 409 once the corpus was loaded. */
    o.idle_timeout_s = 0.2;
    o.drain_timeout_s = 1;
    o.job_ttl_s = 1;
    o.job_max_bytes = 8 << 20;
    o.access_log = 0;
    /* the harness's own address is a trusted proxy: X-Forwarded-For is read (proxy_trust.c) */
    snprintf(o.trusted_proxies, sizeof o.trusted_proxies, "127.0.0.1, ::1");
    /* an empty model repository: without one the server loads and warms every installed model */
    snprintf(o.models_config, sizeof o.models_config, "%s/models.json", fuzz_tmpdir());
    fuzz_write_file(o.models_config, "{\"models\": []}", 14);
    enh_error e;
    enh_error_clear(&e);
    if (enh_serve_start(&o, &g_srv, &e) != ENH_OK)
        fuzz_fail("the server did not start: %s", e.msg);
    g_port = enh_serve_port(g_srv);
    atexit(stop_server);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The server cancels a request whose client half-closed (POLLRDHUP: the client went away, nginx's
 * 499). Half-closing as soon as the input was sent therefore cancelled every request that took
 * longer than the monitor's 20 ms period, and past about the 130th input of a corpus nothing
 * reached the end of the pipeline any more (coverage 1030 edges with the seeds alone, ~390 with
 * the corpus). So the sending side is closed only HALF_CLOSE_GRACE_S after the last byte
 * (libmicrohttpd's parse and the admission take well under it) and while no request is admitted:
 * then the server has answered, or waits for bytes that will not come (a cut request), and the
 * half-close ends that at once instead of after the header deadline. */
#define HALF_CLOSE_GRACE_S 0.005

static int server_working(void)
{
    pthread_mutex_lock(&g_srv->mu);
    int busy = g_srv->active != NULL;
    pthread_mutex_unlock(&g_srv->mu);
    return busy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fuzz_fail("socket");
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    /* at ~3000 connections a second the client's ephemeral ports run out (each closed one waits
     * in TIME_WAIT): after 766k executions connect() failed once with the server up. Such a
     * failure is the harness's, not the server's: wait for a port for up to 5 s. Any other
     * errno (ECONNREFUSED: the listener is gone) is a finding. */
    double tc = now_s();
    while (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int en = errno;
        if ((en != EADDRNOTAVAIL && en != EAGAIN && en != EINTR) || now_s() - tc > 5)
            fuzz_fail("connect to the server: %s (is it still up?)", strerror(en));
        usleep(10000);
        close(fd);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            fuzz_fail("socket");
    }
    /* send and read together: a large answer must not block the server while we still send */
    size_t off = 0;
    char buf[16384];
    double t0 = now_s();
    int closed_wr = 0;
    size_t got = 0;
    double t_sent = 0, t_recv = 0; /* when the last byte went out, and the last came in */
    for (;;) {
        double now = now_s();
        if (off == size && !closed_wr) {
            if (t_sent == 0)
                t_sent = now;
            /* pipelined requests after an answer are still worked on: wait for them too, but
             * not for a background job beyond 100 ms of silence */
            if (now - t_sent >= HALF_CLOSE_GRACE_S && (!server_working() || (got && now - t_recv >= 0.1))) {
                shutdown(fd, SHUT_WR);
                closed_wr = 1;
            }
        }
        int sending = off < size;
        struct pollfd p = {fd, (short)(POLLIN | (sending ? POLLOUT : 0)), 0};
        double left = 10 - (now - t0);
        if (left <= 0)
            fuzz_fail("no answer within 10 s of the request");
        /* libmicrohttpd does not always notice the half-close of a kept-alive connection
         * after answering: an answer followed by 100 ms of silence ends the exchange. Before
         * the half-close, look again every millisecond. */
        int wait_ms = closed_wr && got ? 100 : !sending && !closed_wr ? 1 : (int)(left * 1000) + 1;
        int pr = poll(&p, 1, wait_ms);
        if (pr == 0 && closed_wr && got)
            break;
        if (pr <= 0)
            continue;
        if (p.revents & POLLIN) {
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r <= 0)
                break; /* closed (or reset: a refused request may be cut) */
            if (!got && r >= 10 && !memcmp(buf, "HTTP/1.", 7) && buf[9] == '2')
                fuzz_accepted++; /* a 2xx answer */
            /* nothing here is big enough to exhaust memory (256 KB bodies, 1 MP): an
             * out_of_memory answer is a wrong error class (a path with a non-UTF-8 byte got one) */
            if (!got && r >= 12 && !memcmp(buf + 9, "503", 3) && memmem(buf, (size_t)r, "out_of_memory", 13))
                fuzz_fail("503 out_of_memory for a client's bytes: %.*s", (int)(r < 400 ? r : 400), buf);
            got += (size_t)r;
            t_recv = now_s();
        }
        if (sending && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0)
                off = size; /* the server closed its side: stop sending, read what it said */
            else
                off += (size_t)w;
        }
    }
    close(fd);
    return 0;
}

/* ---- seeds */
static void req(fuzz_emit_fn emit, void *ctx, const char *name, const char *head, const void *body, size_t blen)
{
    size_t hl = strlen(head);
    char *d = malloc(hl + blen);
    memcpy(d, head, hl);
    if (blen)
        memcpy(d + hl, body, blen);
    emit(ctx, name, d, hl + blen);
    free(d);
}

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    req(emit, ctx, "healthz.http", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", NULL, 0);
    req(emit, ctx, "pipelined.http",
        "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc.1\r\n\r\n"
        "GET /v1/ops HTTP/1.1\r\nHost: x\r\n\r\nHEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        NULL, 0);
    req(emit, ctx, "page.http", "GET /?x=1 HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n", NULL, 0);
    req(emit, ctx, "options.http",
        "OPTIONS /v1/enhance HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\nAccess-Control-Request-Method: POST\r\n\r\n",
        NULL, 0);
    req(emit, ctx, "job-missing.http",
        "GET /v1/jobs/0123456789abcdef0123456789abcdef HTTP/1.1\r\nHost: x\r\n\r\n"
        "DELETE /v1/jobs/zz/result HTTP/1.1\r\nHost: x\r\n\r\n",
        NULL, 0);
    req(emit, ctx, "dup-length.http",
        "POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 5\r\n"
        "Content-Length: 46\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        NULL, 0);
    req(emit, ctx, "length-and-chunked.http",
        "POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        NULL, 0);
    /* a 12 x 8 PNG, raw, chunked and in a multipart body */
    if (enh_image_init(&(enh_error){0}) != ENH_OK)
        return;
    VipsImage *im = NULL;
    void *png = NULL;
    size_t plen = 0;
    if (vips_black(&im, 12, 8, "bands", 3, NULL) || vips_image_write_to_buffer(im, ".png", &png, &plen, NULL)) {
        vips_error_clear();
        if (im)
            g_object_unref(im);
        return;
    }
    g_object_unref(im);
    char head[1024];
    snprintf(head, sizeof head,
             "POST /v1/enhance?upscale=resample&scale=2&format=jpeg&quality=80&filename=a.png HTTP/1.1\r\n"
             "Host: x\r\nContent-Type: image/png\r\nX-Priority: high\r\nContent-Length: %zu\r\n\r\n",
             plen);
    req(emit, ctx, "enhance.http", head, png, plen);
    snprintf(head, sizeof head,
             "POST /v1/enhance?format=png HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
             "X-Forwarded-For: 198.51.100.7, [2001:db8::2]:443\r\nX-Forwarded-For: 10.0.0.1\r\n"
             "Content-Length: %zu\r\n\r\n",
             plen);
    req(emit, ctx, "forwarded.http", head, png, plen);
    snprintf(head, sizeof head,
             "POST /v1/jobs?upscale=resample&scale=1.5&width=50%%25 HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/octet-stream\r\nX-Deadline-Ms: 2000\r\nContent-Length: %zu\r\n\r\n",
             plen);
    req(emit, ctx, "job.http", head, png, plen);
    /* chunked: the PNG in two chunks */
    size_t h1 = plen / 2;
    char *ch = malloc(plen + 256);
    size_t n = (size_t)sprintf(ch, "%zx\r\n", h1);
    memcpy(ch + n, png, h1), n += h1;
    n += (size_t)sprintf(ch + n, "\r\n%zx\r\n", plen - h1);
    memcpy(ch + n, (char *)png + h1, plen - h1), n += plen - h1;
    n += (size_t)sprintf(ch + n, "\r\n0\r\n\r\n");
    req(emit, ctx, "chunked.http",
        "POST /v1/enhance?upscale=resample&scale=2 HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        ch, n);
    free(ch);
    /* multipart */
    static const char ops[] = "{\"restorations\":{\"upscale\":\"resample\",\"scale\":2},\"output\":{\"format\":\"webp\"}}";
    char *mp = malloc(plen + 512);
    n = (size_t)sprintf(mp, "--B0\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n%s\r\n--B0\r\n"
                            "Content-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\n"
                            "Content-Type: image/png\r\n\r\n",
                        ops);
    memcpy(mp + n, png, plen), n += plen;
    n += (size_t)sprintf(mp + n, "\r\n--B0--\r\n");
    snprintf(head, sizeof head,
             "POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B0\r\n"
             "Content-Length: %zu\r\n\r\n",
             n);
    req(emit, ctx, "multipart.http", head, mp, n);
    free(mp);
    g_free(png);
}
