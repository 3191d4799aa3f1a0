/* test_nn_ort.c - parity with ONNX Runtime (the published implementation of the same math):
 * our output on the peer harness's input crops vs ORT's unclamped float output, >= 45 dB.
 * Uses the harness's benchmark outputs (.cache/bench/ort_<model>_<S>.f32) when present,
 * else runs ORT itself when the harness is installed (node + onnxruntime-node + converted
 * models), else skips (77) saying how to set it up. Harness locations: $ENH_PEERS_DIR,
 * <repo>/.cache/peers, <repo>/../shared/peers. Slow (x4plus): release tree only. */
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "../check.h"
#include "core/fsutil.h"
#include "nn_util.h"

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static const char *find_peers(void)
{
    static char buf[4096];
    const char *env = getenv("ENH_PEERS_DIR");
    const char *cands[3] = {env, ENH_SOURCE_DIR "/.cache/peers", ENH_SOURCE_DIR "/../shared/peers"};
    for (int i = 0; i < 3; i++) {
        if (!cands[i])
            continue;
        snprintf(buf, sizeof buf, "%s/ort_bench.mjs", cands[i]);
        if (exists(buf)) {
            snprintf(buf, sizeof buf, "%s", cands[i]);
            return buf;
        }
    }
    return NULL;
}

static int compare_files(const char *model, int S, const char *in_png, const char *ort_f32);

/* 1 compared, 0 skipped */
static int compare(const char *peers, const char *model, const char *short_name, int S)
{
    char in_png[4608], ort_f32[4608], cmd[32768], made[32] = "";
    snprintf(in_png, sizeof in_png, "%s/.cache/bench/in_%d.png", peers, S);
    snprintf(ort_f32, sizeof ort_f32, "%s/.cache/bench/ort_%s_%d.f32", peers, short_name, S);
    if (!exists(in_png) || !exists(ort_f32)) {
        char onnx[4608], node_mod[4608], img[4608], tmp[] = "/tmp/enh-ort-XXXXXX";
        snprintf(onnx, sizeof onnx, "%s/.cache/onnx/%s.onnx", peers, model);
        snprintf(node_mod, sizeof node_mod, "%s/.cache/node/node_modules/onnxruntime-node", peers);
        snprintf(img, sizeof img, "%s/.cache/images/astronaut.png", peers);
        if (!exists(onnx) || !exists(node_mod) || !exists(img) || !mkdtemp(tmp)) {
            printf("  %s %d: no ORT output and the harness is not set up (cp -r ../shared/peers .cache/peers && "
                   "(cd .cache/peers && ./setup.sh && ./bench.sh))\n", model, S);
            return 0;
        }
        snprintf(in_png, sizeof in_png, "%s/in.png", tmp);
        snprintf(ort_f32, sizeof ort_f32, "%s/ort.f32", tmp);
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && node ort_bench.mjs --model '%s' --image '%s' --size %d --threads 2 --runs 1 --warmup 0 "
                 "--in-png '%s' --out-f32 '%s' >/dev/null 2>&1", peers, onnx, img, S, in_png, ort_f32);
        if (system(cmd) != 0 || !exists(ort_f32)) {
            printf("  %s %d: running ORT failed (%s)\n", model, S, cmd);
            return 0;
        }
        printf("  %s %d: ORT run now (%s)\n", model, S, tmp);
        snprintf(made, sizeof made, "%s", tmp);
    }
    int rc = compare_files(model, S, in_png, ort_f32);
    if (made[0]) {
        unlink(in_png);
        unlink(ort_f32);
        rmdir(made);
    }
    return rc;
}

static int compare_files(const char *model, int S, const char *in_png, const char *ort_f32)
{
    enh_model *m = nn_load_or_skip(model);
    if (!m)
        return 0;
    VipsImage *im = vips_image_new_from_file(in_png, NULL);
    CHECK(im && vips_image_get_width(im) == S && vips_image_get_height(im) == S && vips_image_get_bands(im) >= 3);
    if (!im) {
        enh_model_free(m);
        return 0;
    }
    size_t sz, nout = (size_t)3 * 16 * S * S;
    unsigned char *px = vips_image_write_to_memory(im, &sz);
    int bands = vips_image_get_bands(im);
    float *in = enh_alloc((size_t)3 * S * S * 4), *out = enh_alloc(nout * 4);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < S * S; i++)
            in[(size_t)k * S * S + i] = px[(size_t)i * bands + k] / 255.f;
    enh_error err;
    char *ort;
    size_t olen;
    CHECK(enh_model_run(m, in, 1, S, S, out, NULL, &err) == ENH_OK);
    CHECK(enh_read_file(ort_f32, 1 << 28, &ort, &olen, &err) == ENH_OK && olen == nout * 4);
    if (olen == nout * 4) {
        double d = nn_max_diff(out, (float *)ort, nout), psnr = nn_psnr(out, (float *)ort, nout);
        printf("  %s %dx%d -> %dx%d: max |ours - ORT| = %.3g, PSNR %.1f dB (kernels %s)\n", model, S, S, 4 * S, 4 * S,
               d, psnr, enh_model_kernel_name(m));
        CHECK_MSG(psnr >= 45, "%s: PSNR %.1f dB < 45", model, psnr);
    }
    free(ort);
    g_free(px);
    g_object_unref(im);
    enh_free(in);
    enh_free(out);
    enh_model_free(m);
    return 1;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 1;
    const char *peers = find_peers();
    if (!peers) {
        printf("SKIP: peer harness not found ($ENH_PEERS_DIR, .cache/peers, ../shared/peers)\n");
        return SKIP_CODE;
    }
    printf("peer harness: %s\n", peers);
    int n = compare(peers, "realesrgan-x4fast", "x4fast", 64);
    n += compare(peers, "realesrgan-x4plus", "x4plus", 32);
    if (!n) {
        printf("SKIP: no ORT reference available\n");
        return SKIP_CODE;
    }
    CHECK_MAIN_END();
}
