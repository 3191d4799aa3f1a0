/* test_nn_fuzz.c - thousands of random truncations, bit flips and byte edits of an ncnn
 * model (the synthetic one, and the real realesrgan-x4fast files when installed) must
 * never crash or leak (run under ASan/UBSan in the suite): each either loads - and then
 * builds and runs on a small input or fails cleanly - or fails with a message. */
#include "../check.h"
#include "core/fsutil.h"
#include "nn/ncnn.h"
#include "nn_util.h"
#include "ncnn_synth.h"

static unsigned long long rs = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return n ? (unsigned)(rs % n) : 0;
}

typedef struct {
    int ok, failed, built, ran;
} tally;

static void one(const char *param, size_t plen, const unsigned char *bin, size_t blen, int build, int run, tally *t)
{
    enh_graph *g = NULL;
    enh_error err = {0};
    enh_status st = enh_ncnn_parse(param, plen, bin, blen, "fuzz.param", "fuzz.bin", &g, &err);
    if (st != ENH_OK) {
        CHECK_MSG(g == NULL && err.msg[0] != '\0', "failure without a message (status %d)", st);
        t->failed++;
        return;
    }
    t->ok++;
    if (!build) {
        enh_graph_free(g);
        return;
    }
    enh_model *m = NULL;
    if (enh_model_from_graph(g, &m, &err) != ENH_OK)
        return;
    t->built++;
    const enh_model_info *info = enh_model_get_info(m);
    if (run && info->scale > 0 && info->scale <= 8 && info->in_channels <= 4) {
        int h = 3 + (int)rnd(4), w = 3 + (int)rnd(4);
        size_t ws = enh_model_workspace_bytes(m, 1, h, w);
        size_t nout = (size_t)info->out_channels * h * w * info->scale * info->scale;
        if (ws && ws < ((size_t)64 << 20) && nout < ((size_t)16 << 20)) {
            float *in = calloc((size_t)info->in_channels * h * w, sizeof(float)), *out = malloc(nout * sizeof(float));
            if (enh_model_run(m, in, 1, h, w, out, NULL, &err) == ENH_OK)
                t->ran++;
            free(in);
            free(out);
        }
    }
    enh_model_free(m);
}

static void mutate(char *p, size_t *plen, unsigned char *b, size_t *blen, size_t pcap, size_t bcap)
{
    static const char alphabet[] = "0123456789=,- \n.e-+xX\t-23310";
    switch (rnd(8)) {
    case 0: *plen = rnd((unsigned)*plen + 1); break;                       /* truncate param */
    case 1: if (*plen) p[rnd((unsigned)*plen)] ^= (char)(1u << rnd(8)); break; /* flip a bit */
    case 2: if (*plen) p[rnd((unsigned)*plen)] = alphabet[rnd(sizeof alphabet - 1)]; break;
    case 3: *blen = rnd((unsigned)*blen + 1); break;                       /* truncate bin */
    case 4: if (*blen) b[rnd((unsigned)*blen)] ^= (unsigned char)(1u << rnd(8)); break;
    case 5: if (*blen >= 4) memset(b + rnd((unsigned)*blen - 3), 0xff, 4); break;
    case 6: if (*plen + 1 < pcap) { size_t at = rnd((unsigned)*plen + 1); memmove(p + at + 1, p + at, *plen - at); p[at] = alphabet[rnd(sizeof alphabet - 1)]; (*plen)++; } break;
    default: if (*blen + 4 < bcap) { memset(b + *blen, (int)rnd(256), 4); *blen += 4; } break;
    }
}

int main(void)
{
    tally t = {0};
    /* the unmutated synthetic model loads */
    unsigned char bin0[SYNTH_BIN_LEN + 256], bin[SYNTH_BIN_LEN + 256];
    char param[4096];
    synth_bin(bin0);
    one(synth_param, strlen(synth_param), bin0, SYNTH_BIN_LEN, 1, 1, &t);
    CHECK(t.ok == 1 && t.ran == 1);
    for (int it = 0; it < 3000; it++) {
        size_t plen = strlen(synth_param), blen = SYNTH_BIN_LEN;
        memcpy(param, synth_param, plen);
        memcpy(bin, bin0, blen);
        int edits = 1 + (int)rnd(3);
        for (int e = 0; e < edits; e++)
            mutate(param, &plen, bin, &blen, sizeof param, sizeof bin);
        one(param, plen, bin, blen, 1, 1, &t);
    }
    printf("synthetic: %d loaded (%d built, %d ran), %d rejected\n", t.ok, t.built, t.ran, t.failed);
    CHECK(t.failed > 1000 && t.ok > 100);

    /* the real x4fast files */
    char pp[4096], bp[4096];
    if (nn_find_model("realesrgan-x4fast", pp, bp, sizeof pp)) {
        printf("real model: realesrgan-x4fast not installed, skipped that part\n");
        CHECK_MAIN_END();
    }
    char *rp, *rb;
    size_t rpl, rbl;
    enh_error err;
    CHECK(enh_read_file(pp, 1 << 20, &rp, &rpl, &err) == ENH_OK);
    CHECK(enh_read_file(bp, 16 << 20, &rb, &rbl, &err) == ENH_OK);
    char *p2 = malloc(rpl + 64);
    unsigned char *b2 = malloc(rbl + 64);
    tally r = {0};
    for (int it = 0; it < 200; it++) {
        size_t plen = rpl, blen = rbl;
        memcpy(p2, rp, rpl);
        memcpy(b2, rb, rbl);
        mutate(p2, &plen, b2, &blen, rpl + 64, rbl + 64);
        one(p2, plen, b2, blen, r.built < 25, r.ran < 8, &r);
    }
    printf("realesrgan-x4fast: %d loaded (%d built, %d ran), %d rejected\n", r.ok, r.built, r.ran, r.failed);
    CHECK(r.failed > 50 && r.ok > 15);
    free(p2);
    free(b2);
    free(rp);
    free(rb);
    CHECK_MAIN_END();
}
