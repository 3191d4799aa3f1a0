/* serve_test.c - fixtures and response checks of the server's HTTP tests (see serve_test.h). */
#include "serve_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/fsutil.h"

const char *const *g_cmd;
char g_tmp[64];
void *g_png, *g_big_png, *g_jpeg;
size_t g_png_len, g_big_png_len, g_jpeg_len;

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void make_images(void)
{
    VipsImage *x, *img;
    /* a 32x32 RGB gradient */
    vips_xyz(&x, 32, 32, NULL);
    VipsImage *b[3];
    vips_extract_band(x, &b[0], 0, NULL);
    vips_extract_band(x, &b[1], 1, NULL);
    vips_add(b[0], b[1], &b[2], NULL);
    VipsImage *rgb;
    vips_bandjoin(b, &rgb, 3, NULL);
    VipsImage *s;
    vips_linear1(rgb, &s, 4, 0, NULL);
    vips_cast_uchar(s, &img, NULL);
    vips_pngsave_buffer(img, &g_png, &g_png_len, NULL);
    vips_jpegsave_buffer(img, &g_jpeg, &g_jpeg_len, "Q", 90, NULL);
    g_object_unref(x);
    for (int i = 0; i < 3; i++)
        g_object_unref(b[i]);
    g_object_unref(rgb);
    g_object_unref(s);
    g_object_unref(img);
    VipsImage *big;
    vips_black(&big, 600, 600, "bands", 3, NULL);
    vips_pngsave_buffer(big, &g_big_png, &g_big_png_len, "compression", 9, NULL);
    g_object_unref(big);
}

int serve_test_setup(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SERVER_COMMAND [ARGS...]\n", argv[0]);
        return 2;
    }
    g_cmd = (const char *const *)argv + 1;
    if (VIPS_INIT(argv[0]))
        return 2;
    http_client_init();
    signal(SIGPIPE, SIG_IGN);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/enh-serve-test-XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 2;
    }
    make_images();
    return 0;
}

void serve_test_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
    g_free(g_png);
    g_free(g_big_png);
    g_free(g_jpeg);
}

char *url(const test_server *s, const char *path)
{
    static __thread char buf[512];
    snprintf(buf, sizeof buf, "%s%s", s->base, path);
    return buf;
}

json_t *json_body(const http_resp *r)
{
    return r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
}

void image_dims(const http_resp *r, int *w, int *h)
{
    *w = *h = 0;
    VipsImage *im = vips_image_new_from_buffer(r->body, r->len, "", NULL);
    if (!im) {
        vips_error_clear();
        return;
    }
    *w = vips_image_get_width(im);
    *h = vips_image_get_height(im);
    g_object_unref(im);
}

int write_text(const char *path, const char *text)
{
    enh_error err;
    if (enh_write_file_atomic(path, text, strlen(text), &err) == ENH_OK)
        return 1;
    fprintf(stderr, "cannot write %s: %s\n", path, err.msg);
    return 0;
}

int metric_value(const test_server *s, const char *line_prefix, double *v)
{
    http_resp r;
    http_do("GET", url(s, "/metrics"), NULL, 0, NULL, 5, &r);
    int ok = 0;
    if (r.body) {
        const char *p = strstr(r.body, line_prefix);
        if (p) {
            *v = atof(p + strlen(line_prefix));
            ok = 1;
        }
    }
    http_resp_free(&r);
    return ok;
}

#define EXPECT(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "  error response: " __VA_ARGS__);                \
            fprintf(stderr, "\n");                                            \
            ok = 0;                                                           \
        }                                                                     \
    } while (0)

int error_is(const http_resp *r, long code, const char *type, const char *msg_part)
{
    int ok = 1;
    EXPECT(r->status == code, "status %ld, expected %ld: %.300s", r->status, code, r->body ? r->body : "");
    json_t *doc = json_body(r);
    EXPECT(doc != NULL, "body is not JSON: %.200s", r->body ? r->body : "");
    if (!doc)
        return 0;
    json_t *e = json_object_get(doc, "error");
    EXPECT(json_is_object(e), "no \"error\" object");
    EXPECT(json_integer_value(json_object_get(e, "code")) == code, "\"code\" is not %ld", code);
    const char *t = json_string_value(json_object_get(e, "type"));
    const char *m = json_string_value(json_object_get(e, "message"));
    EXPECT(t && !strcmp(t, type), "type %s, expected %s", t ? t : "(none)", type);
    EXPECT(m && (!msg_part || strstr(m, msg_part)), "message '%s' lacks '%s'", m ? m : "",
           msg_part ? msg_part : "");
    json_t *d = json_object_get(e, "details");
    EXPECT(json_is_object(d) && json_is_string(json_object_get(d, "request_id")), "no details.request_id");
    EXPECT(r->request_id[0] != 0, "no X-Request-Id header");
    json_decref(doc);
    return ok;
}

int post_until_encode_deadline(const test_server *s, const char *path_prefix, const void *png, size_t len,
                               double timeout, int *deadline_ms, http_resp *r)
{
    const char *hdr[] = {"Content-Type: image/png", NULL};
    for (int tries = 1;; tries++) {
        char q[256];
        snprintf(q, sizeof q, "%sdeadline_ms=%d", path_prefix, *deadline_ms);
        http_do("POST", url(s, q), png, len, hdr, timeout, r);
        int early = r->status == 504 && r->body && !strstr(r->body, "while the result was encoded");
        if (!early || tries == 4)
            return tries;
        printf("deadline of %d ms passed before the encode (%.2f s): %.200s\n", *deadline_ms, r->seconds, r->body);
        int next = (int)(1500 * r->seconds);
        *deadline_ms = next > 2 * *deadline_ms ? next : 2 * *deadline_ms;
        http_resp_free(r);
    }
}

int raw_post(const test_server *s, const char *path, const void *png, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char hdr[1280];
    int n = snprintf(hdr, sizeof hdr,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, len);
    const char *parts[2] = {hdr, png};
    size_t lens[2] = {n > 0 && (size_t)n < sizeof hdr ? (size_t)n : 0, len};
    for (int i = 0; i < 2; i++)
        for (size_t off = 0; off < lens[i];) {
            ssize_t w = send(fd, parts[i] + off, lens[i] - off, MSG_NOSIGNAL);
            if (w <= 0) {
                close(fd);
                return -1;
            }
            off += (size_t)w;
        }
    return fd;
}

int has_answer(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}
