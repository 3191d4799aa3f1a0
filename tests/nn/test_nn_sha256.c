/* test_nn_sha256.c - SHA-256 against the FIPS 180-4 examples, and the embedded model
 * manifest (every model has a verified .param/.bin pair, scale, purpose, licence). */
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
    for (int i = 0; i < n; i++) {
        char p[4096], b[4096];
        CHECK_MSG(enh_model_files(&e[i], "/x", p, b, sizeof p, &err) == ENH_OK, "%s", e[i].name);
        CHECK(e[i].scale >= 2 && e[i].scale <= 4 && e[i].licence[0] && e[i].package[0] && e[i].version[0]);
        CHECK(!strcmp(e[i].purpose, "photo") || !strcmp(e[i].purpose, "art"));
    }
    CHECK(enh_manifest_find("realesr-animevideov3-x3")->scale == 3);
    CHECK(enh_manifest_find("nope") == NULL);
    /* models folder from the environment */
    setenv("ENHANCE_MODELS_DIR", "/some/where", 1);
    CHECK(!strcmp(enh_models_default_dir(), "/some/where"));
    unsetenv("ENHANCE_MODELS_DIR");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    CHECK(!strcmp(enh_models_default_dir(), "/xdg/enhance/models"));
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    CHECK(!strcmp(enh_models_default_dir(), "/home/u/.cache/enhance/models"));
    /* verification of a missing model says how to fetch it */
    CHECK(enh_model_verify(enh_manifest_find("realesrgan-x4fast"), "/nonexistent", &err) == ENH_ENOTFOUND);
    CHECK(strstr(err.msg, "enhance models fetch realesrgan-x4fast") != NULL);
    CHECK_MAIN_END();
}
