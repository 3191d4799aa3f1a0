/* colour_learned.c - learned illuminant estimator (see colour_learned.h). */
#include "enhance/colour_learned.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NN ENH_LEARNED_N
#define KK ENH_LEARNED_K
#define PIX_MIN 0.002
#define EDGE_MIN 0.002

/* bilinear vote at (u, v) on the torus */
static void splat(double *hist, double u, double v)
{
    double x = u / ENH_LEARNED_BIN + NN / 2, y = v / ENH_LEARNED_BIN + NN / 2;
    double x0 = floor(x), y0 = floor(y), fx = x - x0, fy = y - y0;
    int i0 = ((int)x0 % NN + NN) % NN, j0 = ((int)y0 % NN + NN) % NN, i1 = (i0 + 1) % NN, j1 = (j0 + 1) % NN;
    hist[i0 * NN + j0] += (1 - fx) * (1 - fy);
    hist[i1 * NN + j0] += fx * (1 - fy);
    hist[i0 * NN + j1] += (1 - fx) * fy;
    hist[i1 * NN + j1] += fx * fy;
}

enh_status enh_learned_illuminant(const float *lin, const unsigned char *ok, int w, int h, enh_learned_est *out,
                                  enh_error *err)
{
    memset(out, 0, sizeof *out);
    double *hist = calloc((size_t)KK * NN * NN, sizeof(double)), *s = malloc(sizeof(double) * NN * NN);
    if (!hist || !s) {
        free(hist), free(s);
        return enh_fail(err, ENH_ENOMEM, "out of memory for the learned colour estimate");
    }
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const float *p = lin + 3 * i;
        if (!ok[i] || p[0] < PIX_MIN || p[1] < PIX_MIN || p[2] < PIX_MIN)
            continue;
        splat(hist, log((double)p[1] / p[0]), log((double)p[1] / p[2]));
        out->votes[0]++;
    }
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++) {
            size_t o = (size_t)y * w + x;
            if (!ok[o] || !ok[o - 1] || !ok[o + 1] || !ok[o - w] || !ok[o + w])
                continue;
            double m[3];
            for (int c = 0; c < 3; c++) {
                double gx = ((double)lin[3 * (o + 1) + c] - lin[3 * (o - 1) + c]) / 2;
                double gy = ((double)lin[3 * (o + w) + c] - lin[3 * (o - w) + c]) / 2;
                m[c] = sqrt(gx * gx + gy * gy);
            }
            if (m[0] < EDGE_MIN || m[1] < EDGE_MIN || m[2] < EDGE_MIN)
                continue;
            splat(hist + NN * NN, log(m[1] / m[0]), log(m[1] / m[2]));
            out->votes[1]++;
        }
    for (int k = 0; k < KK; k++) {
        double *hk = hist + (size_t)k * NN * NN, t = 0;
        for (int i = 0; i < NN * NN; i++)
            t += hk[i];
        for (int i = 0; t > 0 && i < NN * NN; i++)
            hk[i] /= t;
    }
    /* S = B + sum_k H_k (*) F_k, over the occupied histogram bins */
    for (int i = 0; i < NN; i++)
        for (int j = 0; j < NN; j++)
            s[i * NN + j] = enh_learned_bias[i * NN + j];
    for (int k = 0; k < KK; k++)
        for (int a = 0; a < NN; a++)
            for (int b = 0; b < NN; b++) {
                double hv = hist[((size_t)k * NN + a) * NN + b];
                if (hv == 0)
                    continue;
                for (int i = 0; i < NN; i++) {
                    const float *fr = enh_learned_filter + ((size_t)k * NN + (i - a + NN) % NN) * NN;
                    double *sr = s + i * NN;
                    for (int j = 0; j < NN; j++)
                        sr[j] += hv * fr[(j - b + NN) % NN];
                }
            }
    double mx = -INFINITY, tot = 0, u = 0, v = 0, var = 0;
    for (int i = 0; i < NN * NN; i++)
        mx = s[i] > mx ? s[i] : mx;
    for (int i = 0; i < NN * NN; i++) {
        s[i] = exp(s[i] - mx);
        tot += s[i];
    }
    for (int i = 0; i < NN; i++)
        for (int j = 0; j < NN; j++) {
            double pr = s[i * NN + j] / tot;
            u += pr * (i - NN / 2) * ENH_LEARNED_BIN;
            v += pr * (j - NN / 2) * ENH_LEARNED_BIN;
        }
    for (int i = 0; i < NN; i++)
        for (int j = 0; j < NN; j++) {
            double du = (i - NN / 2) * ENH_LEARNED_BIN - u, dv = (j - NN / 2) * ENH_LEARNED_BIN - v;
            var += s[i * NN + j] / tot * (du * du + dv * dv);
        }
    out->uv[0] = u, out->uv[1] = v;
    out->spread = sqrt(var);
    double e[3] = {exp(-u), 1, exp(-v)}, n = sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
    for (int c = 0; c < 3; c++)
        out->e[c] = e[c] / n;
    free(hist), free(s);
    return ENH_OK;
}
