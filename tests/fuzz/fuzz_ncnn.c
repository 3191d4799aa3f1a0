/* fuzz_ncnn.c - the ncnn model loader (enh_ncnn_parse: .param text + .bin weights, in memory),
 * then what a loaded model goes through: the model build (shape checks, fusions, weight
 * packing, the memory plan) and a run on a small zero input when the model is small enough.
 * Input: the .param text, FUZZ_SPLIT, the .bin bytes. Seeds: two small synthetic models
 * covering most layer types (tests/nn/ncnn_synth.h and one written here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/ncnn_synth.h"
#include "fuzz.h"
#include "nn/model.h"
#include "nn/ncnn.h"
#include "nn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t plen, blen;
    const uint8_t *b;
    fuzz_split(data, size, &plen, &b, &blen);
    /* exact-size copies: the parser sees buffers it cannot read past unnoticed */
    char *param = malloc(plen ? plen : 1);
    unsigned char *bin = malloc(blen ? blen : 1);
    memcpy(param, data, plen);
    memcpy(bin, b, blen);
    enh_graph *g = NULL;
    enh_error e;
    enh_error_clear(&e);
    enh_status st = enh_ncnn_parse(param, plen, bin, blen, "fuzz.param", "fuzz.bin", &g, &e);
    fuzz_check_status("enh_ncnn_parse", st, &e);
    if (st == ENH_OK && !g)
        fuzz_fail("enh_ncnn_parse: OK without a graph");
    if (st != ENH_OK && g)
        fuzz_fail("enh_ncnn_parse: a graph with a failure");
    free(param);
    free(bin);
    if (st != ENH_OK)
        return 0;
    enh_model *m = NULL;
    enh_error_clear(&e);
    st = enh_model_from_graph(g, &m, &e); /* takes g, also on failure */
    fuzz_check_status("enh_model_from_graph", st, &e);
    if (st != ENH_OK)
        return 0;
    fuzz_accepted++; /* built: past the parser and the model's checks */
    const enh_model_info *info = enh_model_get_info(m);
    if (info->scale > 0 && info->scale <= 8 && info->in_channels > 0 && info->in_channels <= 4) {
        const int h = 5, w = 6;
        size_t ws = enh_model_workspace_bytes(m, 1, h, w);
        size_t nout = (size_t)info->out_channels * h * w * info->scale * info->scale;
        if (ws && ws < ((size_t)64 << 20) && nout < ((size_t)16 << 20)) {
            float *in = calloc((size_t)info->in_channels * h * w, sizeof(float));
            float *out = malloc((nout ? nout : 1) * sizeof(float));
            enh_error_clear(&e);
            fuzz_check_status("enh_model_run", enh_model_run(m, in, 1, h, w, out, NULL, &e), &e);
            free(in);
            free(out);
        }
    }
    enh_model_free(m);
    return 0;
}

/* Input -> Split -> depthwise 3x3 -> ReLU(0.1) -> Deconvolution 4x4/2 (x2), + bilinear x2 of the
 * input (Eltwise sum) -> Clip -> Sigmoid */
static const char param2[] = "7767517\n"
                             "9 10\n"
                             "Input                  in  0 1 data\n"
                             "Split                  sp  1 2 data a b\n"
                             "ConvolutionDepthWise   dw  1 1 a d 0=3 1=3 4=1 5=1 6=27 7=3\n"
                             "ReLU                   r   1 1 d r 0=1.000000e-01\n"
                             "Deconvolution          up  1 1 r u 0=3 1=4 3=2 4=1 5=1 6=144\n"
                             "Interp                 ib  1 1 b bb 0=2 1=2.000000e+00 2=2.000000e+00\n"
                             "Eltwise                e   2 1 u bb s 0=1\n"
                             "Clip                   c   1 1 s cc 0=0.000000e+00 1=1.000000e+00\n"
                             "Sigmoid                sg  1 1 cc out\n";

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    unsigned char bin[SYNTH_BIN_LEN];
    synth_bin(bin);
    size_t n;
    void *d = fuzz_join(synth_param, strlen(synth_param), bin, sizeof bin, &n);
    emit(ctx, "synth.ncnn", d, n);
    free(d);
    /* param2's weights: dw tag + 27 + 3 bias, deconv tag + 144 + 3 bias (fp32) */
    unsigned char b2[4 + 27 * 4 + 12 + 4 + 144 * 4 + 12];
    memset(b2, 0, sizeof b2);
    unsigned char *p = b2 + 4;
    for (int i = 0; i < 27; i++, p += 4)
        putf(p, ((i * 7) % 11 - 5) / 16.f);
    for (int i = 0; i < 3; i++, p += 4)
        putf(p, 0.05f * i);
    p += 4; /* tag 0: fp32 */
    for (int i = 0; i < 144; i++, p += 4)
        putf(p, ((i * 5) % 13 - 6) / 32.f);
    for (int i = 0; i < 3; i++, p += 4)
        putf(p, -0.03f * i);
    d = fuzz_join(param2, strlen(param2), b2, sizeof b2, &n);
    emit(ctx, "layers.ncnn", d, n);
    free(d);
}
