/* test_tf_model_cache.c - the TF.js model cache (tf_model_cache.h): an unknown name, an ncnn
 * name, a model that is not installed and one whose files are corrupt each fail with a message
 * that says what to do, and nothing stays cached. When maxim-enhancement (the smaller MAXIM) is
 * installed: two gets share one model (one load), its info is RGB -> RGB at scale 1, and clear
 * frees it once released. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "nn/manifest.h"
#include "nn/tf_model_cache.h"

int main(void)
{
    enh_error err;
    enh_tf_model *m = NULL;
    CHECK(enh_tf_model_cache_get("no-such-model", "/nonexistent", &m, &err) == ENH_ENOTFOUND && !m);
    CHECK_MSG(strstr(err.msg, "maxim-denoising") && strstr(err.msg, "model.json"), "%s", err.msg);
    CHECK(enh_tf_model_cache_get("realesrgan-x4fast", "/nonexistent", &m, &err) == ENH_EUNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "ncnn"), "%s", err.msg);
    CHECK(enh_tf_model_cache_get("maxim-denoising", "/nonexistent", &m, &err) == ENH_ENOTFOUND);
    CHECK_MSG(strstr(err.msg, "enhance models fetch maxim-denoising"), "%s", err.msg);
    CHECK(enh_tf_model_cache_get("", NULL, &m, &err) == ENH_EINVAL);

    /* the right sizes, the wrong bytes (sparse files: no disk used): refused as corrupt */
    char tmp[] = "/tmp/enh-tfcache-XXXXXX", cmd[8192];
    CHECK(mkdtemp(tmp) != NULL);
    const enh_model_entry *e = enh_manifest_find("maxim-retouching");
    CHECK(e != NULL);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/maxim-retouching", tmp);
    CHECK(system(cmd) == 0);
    for (int i = 0; e && i < e->nfiles; i++) {
        snprintf(cmd, sizeof cmd, "truncate -s %zu %s/maxim-retouching/%s", e->files[i].bytes, tmp, e->files[i].file);
        CHECK(system(cmd) == 0);
    }
    CHECK(enh_model_installed(e, tmp));
    CHECK(enh_tf_model_cache_get("maxim-retouching", tmp, &m, &err) == ENH_EINVAL);
    CHECK_MSG(strstr(err.msg, "corrupt") && strstr(err.msg, "fetch --force maxim-retouching"), "%s", err.msg);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
    CHECK(enh_tf_model_cache_clear() == 0);

    const enh_model_entry *en = enh_manifest_find("maxim-enhancement");
    if (!en || !enh_model_installed(en, NULL)) {
        printf("maxim-enhancement not installed: the loading half is skipped\n");
        CHECK_MAIN_END();
    }
    enh_tf_model *a = NULL, *b = NULL;
    CHECK_MSG(enh_tf_model_cache_get("maxim-enhancement", NULL, &a, &err) == ENH_OK, "%s", err.msg);
    CHECK_MSG(enh_tf_model_cache_get("maxim-enhancement", NULL, &b, &err) == ENH_OK, "%s", err.msg);
    CHECK(a && a == b);
    if (a) {
        const enh_tf_model_info *info = enh_tf_model_get_info(a);
        CHECK(info->in_channels == 3 && info->out_channels == 3 && info->scale == 1 && info->weight_bytes > 1000000);
    }
    enh_tf_model_cache_release(a);
    CHECK(enh_tf_model_cache_clear() == 1); /* b still holds it */
    enh_tf_model_cache_release(b);
    CHECK(enh_tf_model_cache_clear() == 0);
    CHECK_MAIN_END();
}
