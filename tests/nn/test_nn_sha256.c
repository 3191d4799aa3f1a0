/* test_nn_sha256.c - SHA-256 against the FIPS 180-4 examples, and the embedded model
 * manifest (every ncnn model has a .param/.bin pair, every tfjs model a model.json in its own
 * subfolder; scale, purpose, licence, pad multiple). */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "nn/manifest.h"
#include "nn/sha256.h"

int main(void)
{
    char hex[65];
    enh_sha256_hex("abc", 3, hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    enh_sha256_hex("", 0, hex);
    CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    enh_sha256_hex(m448, strlen(m448), hex);
    CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    /* one million 'a', fed in odd-sized pieces */
    enh_sha256 s;
    unsigned char d[32], a[1000];
    memset(a, 'a', sizeof a);
    enh_sha256_init(&s);
    size_t left = 1000000;
    for (size_t k = 1; left; k = k % 997 + 1) {
        size_t n = k < left ? k : left;
        enh_sha256_update(&s, a, n);
        left -= n;
    }
    enh_sha256_final(&s, d);
    CHECK(d[0] == 0xcd && d[1] == 0xc7 && d[2] == 0x6e && d[31] == 0xd0);

    /* manifest */
    int n;
    enh_error err;
    const enh_model_entry *e = enh_manifest_models(&n, &err);
    CHECK(e && n >= 5);
    CHECK(enh_manifest_find(enh_manifest_default_model()) != NULL);
    CHECK(!strcmp(enh_manifest_default_model(), "realesrgan-x4fast"));
    int ntfjs = 0, nlayers = 0;
    for (int i = 0; i < n; i++) {
        char p[4096], b[4096];
        CHECK(e[i].licence[0] && e[i].package[0] && e[i].version[0] && e[i].nfiles >= 2);
        if (e[i].format == ENH_MODEL_TFJS_LAYERS) {
            /* nsfwjs classifiers: moderation only, in their own subfolder, never an upscaler's files */
            nlayers++;
            CHECK(enh_model_is_classifier(&e[i]) && e[i].scale == 1 && !strcmp(e[i].files[0].file, "model.min.js"));
            CHECK(enh_model_files(&e[i], "/x", p, b, sizeof p, &err) == ENH_EUNSUPPORTED && strstr(err.msg, "moderation"));
            CHECK(enh_model_tfjs_path(&e[i], "/x", p, sizeof p, &err) == ENH_EUNSUPPORTED);
            snprintf(b, sizeof b, "/x/%s", e[i].name);
            CHECK(enh_model_folder(&e[i], "/x", p, sizeof p, &err) == ENH_OK && !strcmp(p, b));
            CHECK(!strcmp(enh_model_format_name(e[i].format), "tfjs-layers"));
        } else if (e[i].format == ENH_MODEL_NCNN) {
            CHECK_MSG(enh_model_files(&e[i], "/x", p, b, sizeof p, &err) == ENH_OK, "%s", e[i].name);
            CHECK(enh_model_tfjs_path(&e[i], "/x", p, sizeof p, &err) == ENH_EUNSUPPORTED);
            CHECK(e[i].scale >= 2 && e[i].scale <= 4 && e[i].pad_multiple == 1);
            CHECK(!strcmp(e[i].purpose, "photo") || !strcmp(e[i].purpose, "art"));
            CHECK(enh_model_folder(&e[i], "/x", p, sizeof p, &err) == ENH_OK && !strcmp(p, "/x"));
        } else {
            /* TF.js graph models (MAXIM): restorers at scale 1, in their own subfolder */
            ntfjs++;
            CHECK(enh_model_files(&e[i], "/x", p, b, sizeof p, &err) == ENH_EUNSUPPORTED);
            CHECK_MSG(enh_model_tfjs_path(&e[i], "/x", p, sizeof p, &err) == ENH_OK, "%s", e[i].name);
            snprintf(b, sizeof b, "/x/%s/model.json", e[i].name);
            CHECK_MSG(!strcmp(p, b), "%s", p);
            CHECK(e[i].scale == 1 && e[i].pad_multiple == 64 && !strcmp(e[i].files[0].file, "model.json"));
            CHECK(!strcmp(e[i].tarball_dir, "package/models") && !strcmp(enh_model_format_name(e[i].format), "tfjs"));
        }
    }
    CHECK(ntfjs == 4 && nlayers == 3);
    CHECK(!enh_model_is_classifier(enh_manifest_find("realesrgan-x4fast")));
    CHECK(enh_manifest_find("realesr-animevideov3-x3")->scale == 3);
    static const struct { const char *name, *purpose; int nfiles; } maxim[] = {
        {"maxim-denoising", "denoise", 23}, {"maxim-deblurring", "deblur", 23},
        {"maxim-enhancement", "lowlight", 15}, {"maxim-retouching", "retouch", 15}};
    for (int i = 0; i < 4; i++) {
        const enh_model_entry *m = enh_manifest_find(maxim[i].name);
        CHECK_MSG(m && m->format == ENH_MODEL_TFJS && m->nfiles == maxim[i].nfiles && !strcmp(m->purpose, maxim[i].purpose),
                  "%s", maxim[i].name);
        CHECK(m && !strcmp(m->version, "0.1.0") && !strcmp(m->licence, "MIT") && strstr(m->package, "@upscalerjs/maxim-"));
        CHECK(m && enh_model_bytes(m) > 70000000);
    }
    CHECK(enh_manifest_find("nope") == NULL);
    /* the models folder: the front end's rule over its environment, then what it sets; the
     * library reads no environment (HOME set here changes nothing) */
    char md[4096];
    enh_models_dir_rule("/some/where", "/xdg", "/home/u", md, sizeof md);
    CHECK(!strcmp(md, "/some/where"));
    enh_models_dir_rule("", "/xdg", "/home/u", md, sizeof md);
    CHECK(!strcmp(md, "/xdg/enhance/models"));
    enh_models_dir_rule(NULL, NULL, "/home/u", md, sizeof md);
    CHECK(!strcmp(md, "/home/u/.cache/enhance/models"));
    enh_models_dir_rule(NULL, NULL, NULL, md, sizeof md); /* the user's home from the password database */
    CHECK(strstr(md, "/.cache/enhance/models") != NULL);
    setenv("HOME", "/home/u", 1);
    setenv("ENHANCE_MODELS_DIR", "/ignored", 1);
    CHECK_MSG(!strcmp(enh_models_default_dir(), md), "%s", enh_models_default_dir());
    enh_models_set_default_dir("/some/where");
    CHECK(!strcmp(enh_models_default_dir(), "/some/where"));
    enh_models_set_default_dir(NULL);
    CHECK(!strcmp(enh_models_default_dir(), md));
    /* verification of a missing model says how to fetch it */
    CHECK(enh_model_verify(enh_manifest_find("realesrgan-x4fast"), "/nonexistent", &err) == ENH_ENOTFOUND);
    CHECK(strstr(err.msg, "enhance models fetch realesrgan-x4fast") != NULL);
    CHECK(enh_model_verify(enh_manifest_find("maxim-denoising"), "/nonexistent", &err) == ENH_ENOTFOUND);
    CHECK_MSG(strstr(err.msg, "/nonexistent/maxim-denoising/model.json") && strstr(err.msg, "fetch maxim-denoising"),
              "%s", err.msg);
    CHECK(!enh_model_installed(enh_manifest_find("maxim-denoising"), "/nonexistent"));
    CHECK_MAIN_END();
}
