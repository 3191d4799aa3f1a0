#define _GNU_SOURCE
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_uint g_tmp_counter;

enh_status enh_tmp_path_for(const char *final_path, char *out, size_t out_size, enh_error *err)
{
    const char *slash = strrchr(final_path, '/');
    const char *base = slash ? slash + 1 : final_path;
    int dirlen = slash ? (int)(slash - final_path + 1) : 0;
    const char *dot = strrchr(base, '.');
    const char *ext = (dot && dot != base) ? dot : "";
    int baselen = (int)(strlen(base) - strlen(ext));
    unsigned n = atomic_fetch_add(&g_tmp_counter, 1);
    int w = snprintf(out, out_size, "%.*s.%.*s.tmp-%ld-%u%s", dirlen, final_path, baselen, base,
                     (long)getpid(), n, ext);
    if (w < 0 || (size_t)w >= out_size)
        return enh_fail(err, ENH_EINVAL, "output path too long: %s", final_path);
    return ENH_OK;
}

void enh_path_dir(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(out, n, "%.*s", (int)(slash - path), path);
    else
        snprintf(out, n, ".");
}

static void fsync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

enh_status enh_commit_tmp(const char *tmp_path, const char *final_path, enh_error *err)
{
    int fd = open(tmp_path, O_RDONLY);
    if (fd < 0)
        return enh_fail(err, ENH_EIO, "cannot open temporary file %s: %s", tmp_path, strerror(errno));
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp_path);
        return enh_fail(err, ENH_EIO, "cannot sync %s: %s", tmp_path, strerror(e));
    }
    close(fd);
    if (rename(tmp_path, final_path) != 0) {
        int e = errno;
        unlink(tmp_path);
        return enh_fail(err, ENH_EIO, "cannot rename %s to %s: %s", tmp_path, final_path, strerror(e));
    }
    fsync_dir_of(final_path);
    return ENH_OK;
}

void enh_discard_tmp(const char *tmp_path)
{
    if (tmp_path && *tmp_path)
        unlink(tmp_path);
}

enh_status enh_mkdirs(const char *path, enh_error *err)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0)
        return ENH_OK;
    if (len >= sizeof buf)
        return enh_fail(err, ENH_EINVAL, "path too long: %s", path);
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return enh_fail(err, ENH_EIO, "cannot create directory %s: %s", buf, strerror(errno));
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return enh_fail(err, ENH_EIO, "cannot create directory %s: %s", buf, strerror(errno));
    if (!enh_is_dir(buf))
        return enh_fail(err, ENH_EIO, "%s exists and is not a directory", buf);
    return ENH_OK;
}

enh_status enh_read_file(const char *path, size_t max_bytes, char **data, size_t *len, enh_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return enh_fail(err, errno == ENOENT ? ENH_ENOTFOUND : ENH_EIO, "cannot open %s: %s", path,
                        strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return enh_fail(err, ENH_EIO, "%s is not a regular file", path);
    }
    if ((size_t)st.st_size > max_bytes) {
        fclose(f);
        return enh_fail(err, ENH_ETOOBIG, "%s is %lld bytes, more than the limit of %zu", path,
                        (long long)st.st_size, max_bytes);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(f);
        return enh_fail(err, ENH_ENOMEM, "out of memory reading %s", path);
    }
    size_t got = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (got != (size_t)st.st_size) {
        free(buf);
        return enh_fail(err, ENH_EIO, "short read on %s", path);
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return ENH_OK;
}

enh_status enh_write_file_atomic(const char *path, const void *data, size_t len, enh_error *err)
{
    char tmp[4096];
    enh_status st = enh_tmp_path_for(path, tmp, sizeof tmp, err);
    if (st)
        return st;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return enh_fail(err, ENH_EIO, "cannot create %s: %s", tmp, strerror(errno));
    size_t w = fwrite(data, 1, len, f);
    int closed = fclose(f);
    if (w != len || closed != 0) {
        unlink(tmp);
        return enh_fail(err, ENH_EIO, "cannot write %s", path);
    }
    return enh_commit_tmp(tmp, path, err);
}

int enh_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int enh_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

double enh_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double enh_process_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
