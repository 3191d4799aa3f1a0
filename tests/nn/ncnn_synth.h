/* ncnn_synth.h - a small valid ncnn model written in memory (for loader tests and fuzzing):
 * Input -> Split -> Conv(3->4, fp16 weights, bias) -> PReLU(4) -> Conv(4->12, fp32 weights,
 * LeakyReLU 0.2 fused via 9=2) -> PixelShuffle x2, + nearest x2 of the input. */
#ifndef ENH_TESTS_NCNN_SYNTH_H
#define ENH_TESTS_NCNN_SYNTH_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char synth_param[] =
    "7767517\n"
    "8 9\n"
    "Input            in    0 1 data\n"
    "Split            sp    1 2 data a b\n"
    "Convolution      conv0 1 1 a c0 0=4 1=3 4=1 5=1 6=108\n"
    "PReLU            prelu 1 1 c0 p0 0=4\n"
    "Convolution      conv1 1 1 p0 c1 0=12 1=3 4=1 5=1 6=432 9=2 -23310=1,2.000000e-01\n"
    "PixelShuffle     ps    1 1 c1 ps 0=2\n"
    "Interp           up    1 1 b up 0=1 1=2.000000e+00 2=2.000000e+00\n"
    "BinaryOp         add   2 1 ps up out 0=0\n";

/* byte layout of the .bin */
#define SYNTH_CONV0_TAG 0
#define SYNTH_CONV0_BIAS (4 + 216)
#define SYNTH_PRELU (SYNTH_CONV0_BIAS + 16)
#define SYNTH_CONV1_TAG (SYNTH_PRELU + 16)
#define SYNTH_CONV1_W (SYNTH_CONV1_TAG + 4)
#define SYNTH_CONV1_BIAS (SYNTH_CONV1_W + 432 * 4)
#define SYNTH_BIN_LEN (SYNTH_CONV1_BIAS + 48)

static uint16_t synth_half(float f) /* small normal values only */
{
    uint32_t b;
    memcpy(&b, &f, 4);
    uint32_t sign = (b >> 16) & 0x8000;
    int exp = (int)((b >> 23) & 0xff) - 127 + 15;
    if (exp <= 0)
        return (uint16_t)sign;
    return (uint16_t)(sign | (uint32_t)exp << 10 | ((b >> 13) & 0x3ff));
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void putf(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put32(p, v);
}

/* fills bin[SYNTH_BIN_LEN] with deterministic weights */
static void synth_bin(unsigned char *bin)
{
    put32(bin + SYNTH_CONV0_TAG, 0x01306B47u);
    for (int i = 0; i < 108; i++) {
        uint16_t h = synth_half(((i * 37) % 17 - 8) / 32.f);
        bin[4 + 2 * i] = (unsigned char)h;
        bin[4 + 2 * i + 1] = (unsigned char)(h >> 8);
    }
    for (int i = 0; i < 4; i++)
        putf(bin + SYNTH_CONV0_BIAS + 4 * i, 0.01f * i);
    for (int i = 0; i < 4; i++)
        putf(bin + SYNTH_PRELU + 4 * i, 0.1f + 0.05f * i);
    put32(bin + SYNTH_CONV1_TAG, 0);
    for (int i = 0; i < 432; i++)
        putf(bin + SYNTH_CONV1_W + 4 * i, ((i * 13) % 23 - 11) / 64.f);
    for (int i = 0; i < 12; i++)
        putf(bin + SYNTH_CONV1_BIAS + 4 * i, -0.02f * i);
}

/* Writes the model as dir/synth.param and dir/synth.bin and puts their paths in param and
 * bin (cap bytes each). Returns 1 on success, 0 if a path is too long or a write fails. */
static inline int synth_write_files(const char *dir, char *param, char *bin, size_t cap)
{
    if ((size_t)snprintf(param, cap, "%s/synth.param", dir) >= cap ||
        (size_t)snprintf(bin, cap, "%s/synth.bin", dir) >= cap)
        return 0;
    unsigned char b[SYNTH_BIN_LEN];
    synth_bin(b);
    FILE *f = fopen(param, "w");
    int ok = f && fputs(synth_param, f) >= 0;
    if (f)
        ok = !fclose(f) && ok;
    f = ok ? fopen(bin, "wb") : NULL;
    ok = f && fwrite(b, 1, sizeof b, f) == sizeof b;
    if (f)
        ok = !fclose(f) && ok;
    return ok;
}

#endif
