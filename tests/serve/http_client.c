/* http_client.c - libcurl client and server-process helpers (see http_client.h). */
#include "http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"

void http_client_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    http_resp *r = ud;
    size_t add = sz * n;
    char *nb = realloc(r->body, r->len + add + 1);
    if (!nb)
        return 0;
    r->body = nb;
    memcpy(r->body + r->len, p, add);
    r->len += add;
    r->body[r->len] = 0;
    return add;
}

static void grab(const char *line, size_t n, const char *name, char *out, size_t out_size)
{
    size_t L = strlen(name);
    if (n <= L + 1 || strncasecmp(line, name, L) || line[L] != ':')
        return;
    const char *v = line + L + 1;
    size_t vn = n - L - 1;
    while (vn && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n'))
        vn--;
    if (vn >= out_size)
        vn = out_size - 1;
    memcpy(out, v, vn);
    out[vn] = 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    http_resp *r = ud;
    size_t len = sz * n;
    grab(p, len, "X-Request-Id", r->request_id, sizeof r->request_id);
    grab(p, len, "Retry-After", r->retry_after, sizeof r->retry_after);
    grab(p, len, "Content-Type", r->content_type, sizeof r->content_type);
    grab(p, len, "X-Image-Width", r->width, sizeof r->width);
    grab(p, len, "X-Image-Height", r->height, sizeof r->height);
    grab(p, len, "X-Model", r->model, sizeof r->model);
    grab(p, len, "Server-Timing", r->server_timing, sizeof r->server_timing);
    grab(p, len, "X-Timing-Queue-Ms", r->timing_queue, sizeof r->timing_queue);
    grab(p, len, "Content-Disposition", r->disposition, sizeof r->disposition);
    grab(p, len, "Location", r->location, sizeof r->location);
    grab(p, len, "Access-Control-Allow-Origin", r->allow_origin, sizeof r->allow_origin);
    return len;
}

int http_do(const char *method, const char *url, const void *body, size_t len, const char *const *headers,
            double timeout_s, http_resp *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    struct curl_slist *hl = NULL;
    int has_expect = 0;
    for (const char *const *h = headers; h && *h; h++) {
        hl = curl_slist_append(hl, *h);
        has_expect |= !strncasecmp(*h, "Expect:", 7);
    }
    if (!has_expect)
        hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip unless asked */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    if (timeout_s > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    double t0 = enh_now();
    CURLcode rc = curl_easy_perform(c);
    out->seconds = enh_now() - t0;
    out->curl_code = (int)rc;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

void http_resp_free(http_resp *r)
{
    free(r->body);
    r->body = NULL;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

int test_server_start(test_server *s, const char *const *cmd, const char *const *args)
{
    memset(s, 0, sizeof *s);
    snprintf(s->port_file, sizeof s->port_file, "/tmp/enh-serve-port-%d-%ld", (int)getpid(), (long)random());
    unlink(s->port_file);
    const char *argv[64];
    int n = 0;
    for (const char *const *p = cmd; *p && n < 40; p++)
        argv[n++] = *p;
    for (const char *const *p = args; p && *p && n < 58; p++)
        argv[n++] = *p;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = s->port_file;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 1000; i++) {
        char *txt = NULL;
        size_t len = 0;
        if (enh_is_file(s->port_file) && enh_read_file(s->port_file, 64, &txt, &len, NULL) == ENH_OK) {
            s->port = atoi(txt);
            free(txt);
            unlink(s->port_file);
            snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
            return s->port > 0 ? 0 : -1;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            return -1;
        }
        sleep_s(0.01);
    }
    return -1;
}

int test_server_wait_ready(test_server *s, double timeout_s)
{
    char url[128];
    snprintf(url, sizeof url, "%s/readyz", s->base);
    double until = enh_now() + timeout_s;
    while (enh_now() < until) {
        http_resp r;
        http_do("GET", url, NULL, 0, NULL, 2, &r);
        long st = r.status;
        http_resp_free(&r);
        if (st == 200)
            return 0;
        sleep_s(0.05);
    }
    return -1;
}

int test_server_wait_exit(test_server *s, int sig, double timeout_s)
{
    if (s->pid <= 0)
        return -1;
    if (sig)
        kill(s->pid, sig);
    double until = enh_now() + timeout_s;
    while (enh_now() < until) {
        int st;
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) {
            s->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        sleep_s(0.02);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    return -1;
}
