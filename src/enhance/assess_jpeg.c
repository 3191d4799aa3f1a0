/* assess_jpeg.c - JPEG quality: read from the file's quantisation table, or estimated from
 * decoded pixels.
 *
 * From the file: the first DQT table with id 0 (luminance) is compared with the IJG standard
 * luminance table scaled for every quality 1..100 (libjpeg's jpeg_quality_scaling:
 * S = q < 50 ? 5000 / q : 200 - 2q, entry = clamp((base * S + 50) / 100, 1, 255)); the quality
 * with the smallest absolute difference wins. Exact for libjpeg / libjpeg-turbo / Pillow /
 * libvips output, a close guess for other encoders.
 *
 * From pixels (no file, or a PNG that was once a JPEG): JPEG quantises each 8x8 DCT
 * coefficient to a multiple of its table step Q, and decoding adds only rounding noise, so the
 * orthonormal DCT of decoded luma on the original grid clusters at multiples of Q. For the
 * low-frequency positions we score every candidate step Q (5..160) by how close coefficients with
 * |c| >= 1.5 lie to a non-zero multiple of Q (Epanechnikov kernel, half-width 2: libjpeg's integer
 * IDCT and 8-bit RGB rounding spread decoded coefficients by about +-1.5); a multiple of the
 * true step scores worse (odd multiples miss) and divisors score the same, so we take the largest
 * Q scoring within 90 % of the best. Positions whose best score is below 0.55 (chance level is
 * ~2.7 / Q) carry no evidence. The steps found are fitted to the scaled IJG table in log space.
 * Blocks with a clipped R, G or B sample (0 or 255) are skipped: clipping breaks the lattice. Steps
 * below 5 cannot be told from chance, so quality above ~85 reads as -1 (unknown).
 * Thread-safe; no allocation beyond a few hundred KiB of scratch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enhance/assess.h"

static const int g_std_luma[64] = {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
                                   14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
                                   18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
                                   49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};

static const int g_zigzag[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
                                 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
                                 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
                                 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

static int ijg_entry(int base, int q)
{
    long s = q < 50 ? 5000 / q : 200 - 2 * q;
    long v = (base * s + 50) / 100;
    return v < 1 ? 1 : v > 255 ? 255 : (int)v;
}

/* Best IJG quality for a full table in natural order. */
static int quality_from_table(const int table[64])
{
    int best_q = -1;
    long best_err = -1;
    for (int q = 1; q <= 100; q++) {
        long e = 0;
        for (int i = 0; i < 64; i++)
            e += labs((long)ijg_entry(g_std_luma[i], q) - table[i]);
        if (best_err < 0 || e < best_err) {
            best_err = e;
            best_q = q;
        }
    }
    return best_q;
}

int enh_jpeg_file_quality(const char *path)
{
    if (!path || !*path)
        return -1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char buf[1 << 16];
    int q = -1;
    if (fgetc(f) != 0xFF || fgetc(f) != 0xD8)
        goto out;
    for (;;) {
        int c = fgetc(f);
        if (c == EOF)
            goto out;
        if (c != 0xFF)
            goto out; /* lost sync: give up, this is only a hint */
        int m;
        do
            m = fgetc(f);
        while (m == 0xFF);
        if (m == EOF || m == 0xD9 || m == 0xDA)
            goto out;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue;
        int hi = fgetc(f), lo = fgetc(f);
        if (hi == EOF || lo == EOF)
            goto out;
        int len = (hi << 8 | lo) - 2;
        if (len < 0 || (size_t)len > sizeof buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
            goto out;
        if (m != 0xDB)
            continue;
        int p = 0;
        while (p < len) {
            int pq = buf[p] >> 4, tq = buf[p] & 15;
            int n = pq ? 128 : 64;
            if (p + 1 + n > len)
                goto out;
            if (tq == 0) {
                int table[64];
                for (int k = 0; k < 64; k++)
                    table[g_zigzag[k]] = pq ? (buf[p + 1 + 2 * k] << 8 | buf[p + 2 + 2 * k]) : buf[p + 1 + k];
                q = quality_from_table(table);
                goto out;
            }
            p += 1 + n;
        }
    }
out:
    fclose(f);
    return q;
}

#define NPOS 10
#define MAX_BLOCKS 16384
/* natural-order positions used: DC and the lowest AC frequencies */
static const int g_pos[NPOS] = {0, 1, 8, 9, 2, 16, 10, 17, 3, 24};

/* Step estimate for one coefficient position; 0 = no evidence. */
static int find_step(const float *c, int n)
{
    double scores[161] = {0};
    double best = 0;
    int used = 0;
    for (int i = 0; i < n; i++)
        used += fabsf(c[i]) >= 1.5f;
    if (used < 30)
        return 0;
    for (int q = 5; q <= 160; q++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            double a = fabs(c[i]);
            if (a < 1.5)
                continue;
            double k = floor(a / q + 0.5);
            if (k < 1)
                k = 1;
            double d = (a - k * q) / 2.0;
            if (d < 1 && d > -1)
                s += 1 - d * d;
        }
        scores[q] = s / used;
        if (scores[q] > best)
            best = scores[q];
    }
    if (best < 0.55)
        return 0;
    for (int q = 160; q >= 5; q--)
        if (scores[q] >= 0.9 * best)
            return q;
    return 0;
}

int enh_jpeg_estimate_quality(const unsigned char *rgb, const float *luma, int w, int h, int ox, int oy)
{
    int bx = (w - ox) / 8, by = (h - oy) / 8;
    if (bx < 4 || by < 4)
        return -1;
    long total = (long)bx * by;
    long stride = total > MAX_BLOCKS ? (total + MAX_BLOCKS - 1) / MAX_BLOCKS : 1;
    float *coef = malloc(sizeof(float) * NPOS * MAX_BLOCKS);
    if (!coef)
        return -2;
    double cosm[8][8];
    for (int u = 0; u < 8; u++)
        for (int x = 0; x < 8; x++)
            cosm[u][x] = (u == 0 ? sqrt(0.125) : 0.5) * cos((2 * x + 1) * u * M_PI / 16);
    int n = 0;
    for (long b = 0; b < total && n < MAX_BLOCKS; b += stride) {
        int x0 = ox + (int)(b % bx) * 8, y0 = oy + (int)(b / bx) * 8;
        double f[8][8];
        int clipped = 0;
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) {
                size_t i = (size_t)(y0 + y) * w + x0 + x;
                float v = luma[i];
                const unsigned char *q = rgb + 3 * i;
                clipped |= q[0] == 0 || q[1] == 0 || q[2] == 0 || q[0] == 255 || q[1] == 255 || q[2] == 255;
                f[y][x] = v - 128.0;
            }
        if (clipped)
            continue;
        /* separable DCT, only the rows/columns 0..3 needed for g_pos */
        double t[8][4];
        for (int y = 0; y < 8; y++)
            for (int u = 0; u < 4; u++) {
                double s = 0;
                for (int x = 0; x < 8; x++)
                    s += cosm[u][x] * f[y][x];
                t[y][u] = s;
            }
        for (int p = 0; p < NPOS; p++) {
            int v = g_pos[p] / 8, u = g_pos[p] % 8;
            double s = 0;
            for (int y = 0; y < 8; y++)
                s += cosm[v][y] * t[y][u];
            coef[(size_t)p * MAX_BLOCKS + n] = (float)s;
        }
        n++;
    }
    int steps[NPOS];
    int found = 0;
    for (int p = 0; p < NPOS; p++) {
        steps[p] = find_step(coef + (size_t)p * MAX_BLOCKS, n);
        found += steps[p] > 0;
    }
    free(coef);
    if (found < 2)
        return -1;
    int best_q = -1;
    double best_e = 1e30;
    for (int q = 1; q <= 100; q++) {
        double e = 0;
        for (int p = 0; p < NPOS; p++)
            if (steps[p] > 0)
                e += fabs(log((double)steps[p] / ijg_entry(g_std_luma[g_pos[p]], q)));
        if (e < best_e) {
            best_e = e;
            best_q = q;
        }
    }
    return best_q;
}
