/* hostile.h - raw-socket helpers for the hostile-client tests (tests/hostile): requests
 * written byte for byte as an attacker would, answers read with bounded waits, and the
 * server process's open descriptors (leak checks). Not thread-safe. */
#ifndef ENH_TESTS_HOSTILE_HOSTILE_H
#define ENH_TESTS_HOSTILE_HOSTILE_H

#include <stddef.h>
#include <sys/types.h>

double h_now(void);
/* A connected TCP socket to 127.0.0.1:port, -1 on failure. */
int h_connect(int port);
/* The same from source address src (any 127/8 address works on Linux: two clients on one
 * machine), -1 on failure. */
int h_connect_from(const char *src, int port);
/* Sends all of data (0, or -1 when the peer closed). */
int h_send(int fd, const void *data, size_t len);
/* Reads until the peer closes or timeout_s passes; the bytes (malloc'd, NUL-terminated; an
 * image body may hold NULs: find it by Content-Length);
 * *closed = 1 when the peer closed; *first_s = time to the first byte (timeout_s if none). */
char *h_read(int fd, double timeout_s, int *closed, double *first_s);
/* Connects, sends req, reads as h_read, closes. */
char *h_exchange(int port, const void *req, size_t len, double timeout_s, int *closed, double *first_s);
/* The status code of a raw answer ("HTTP/1.1 400 ..."), 0 when none. */
int h_status(const char *answer);
/* Open descriptors of process pid (from /proc), -1 when unreadable. */
int h_fd_count(pid_t pid);
/* Open descriptors of process pid on files in dir (an anonymous O_TMPFILE file shows as
 * "dir/#N (deleted)"), -1 when unreadable. */
int h_fds_under(pid_t pid, const char *dir);
/* Files in dir (not . and ..), -1 when unreadable. */
int h_dir_entries(const char *dir);
/* A TCP port free right now on 127.0.0.1. */
int h_free_port(void);

#endif
