/* fs helpers: temp paths keep the extension and the directory, commit replaces
 * atomically, discard leaves nothing, mkdirs is idempotent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "core/error.h"
#include "core/fsutil.h"

int main(void)
{
    char dir[] = "/tmp/enh_fsutil_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512], tmp[512], sub[512];
    snprintf(path, sizeof path, "%s/out.final.png", dir);
    enh_error err = {0};
    CHECK(enh_tmp_path_for(path, tmp, sizeof tmp, &err) == ENH_OK);
    CHECK(strncmp(tmp, dir, strlen(dir)) == 0);
    CHECK(strcmp(tmp + strlen(tmp) - 4, ".png") == 0);
    CHECK(strstr(tmp, "/.out.final.tmp-") != NULL);

    CHECK(enh_write_file_atomic(path, "hello", 5, &err) == ENH_OK);
    char *data = NULL;
    size_t len = 0;
    CHECK(enh_read_file(path, 100, &data, &len, &err) == ENH_OK);
    CHECK(len == 5 && memcmp(data, "hello", 5) == 0);
    free(data);
    CHECK(enh_read_file(path, 3, &data, &len, &err) == ENH_ETOOBIG);
    CHECK(strstr(err.msg, "limit") != NULL);
    CHECK(enh_read_file("/nonexistent/x", 3, &data, &len, &err) == ENH_ENOTFOUND);

    snprintf(sub, sizeof sub, "%s/a/b/c", dir);
    CHECK(enh_mkdirs(sub, &err) == ENH_OK);
    CHECK(enh_mkdirs(sub, &err) == ENH_OK);
    CHECK(enh_is_dir(sub));
    CHECK(enh_mkdirs(path, &err) != ENH_OK); /* a file is in the way */

    CHECK(enh_tmp_path_for(path, tmp, sizeof tmp, &err) == ENH_OK);
    FILE *f = fopen(tmp, "w");
    fputs("partial", f);
    fclose(f);
    enh_discard_tmp(tmp);
    CHECK(access(tmp, F_OK) != 0);

    CHECK(enh_fail(&err, ENH_EINVAL, "bad %d", 42) == ENH_EINVAL);
    enh_error_prefix(&err, "ctx");
    CHECK(strcmp(err.msg, "ctx: bad 42") == 0);
    CHECK(strcmp(enh_status_name(ENH_ETOOBIG), "too_large") == 0);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    CHECK_MAIN_END();
}
