/* hostile.c - see hostile.h. */
#include "hostile.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double h_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int h_connect(int port) { return h_connect_from(NULL, port); }

int h_connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    if (src) {
        inet_pton(AF_INET, src, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            close(fd);
            return -1;
        }
    }
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int h_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

char *h_read(int fd, double timeout_s, int *closed, double *first_s)
{
    size_t cap = 1 << 16, n = 0;
    char *out = calloc(1, cap);
    double t0 = h_now();
    *closed = 0;
    if (first_s)
        *first_s = timeout_s;
    while (out) {
        if (n + 65536 > cap) { /* answers may hold an image */
            char *nb = realloc(out, cap * 2);
            if (!nb)
                break;
            out = nb;
            cap *= 2;
        }
        double left = timeout_s - (h_now() - t0);
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            break;
        ssize_t r = recv(fd, out + n, cap - 1 - n, 0);
        if (r <= 0) {
            *closed = 1;
            break;
        }
        if (!n && first_s)
            *first_s = h_now() - t0;
        n += (size_t)r;
        out[n] = 0;
    }
    return out;
}

char *h_exchange(int port, const void *req, size_t len, double timeout_s, int *closed, double *first_s)
{
    int fd = h_connect(port);
    if (fd < 0) {
        *closed = 1;
        return calloc(1, 1);
    }
    h_send(fd, req, len); /* the server may answer and close before all is sent: fine */
    char *out = h_read(fd, timeout_s, closed, first_s);
    close(fd);
    return out;
}

int h_status(const char *a)
{
    int code = 0;
    if (a && sscanf(a, "HTTP/1.%*d %d", &code) == 1)
        return code;
    return 0;
}

int h_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

int h_fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    return h_dir_entries(path);
}

int h_fds_under(pid_t pid, const char *dir)
{
    char path[64], target[512];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    size_t dl = strlen(dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        char link[320];
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t k = readlink(link, target, sizeof target - 1);
        if (k > 0) {
            target[k] = 0;
            if (!strncmp(target, dir, dl) && target[dl] == '/')
                n++;
        }
    }
    closedir(d);
    return n;
}

int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t l = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}
