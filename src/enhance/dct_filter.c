/* dct_filter.c - see dct_filter.h. */
#include "enhance/dct_filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static const int g_luma[64] = {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
                               14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
                               18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
                               49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
static const int g_chroma[64] = {17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
                                 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
                                 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
                                 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

void enh_jpeg_table(int q, int chroma, float table[64])
{
    if (q < 1)
        q = 1;
    if (q > 100)
        q = 100;
    long s = q < 50 ? 5000 / q : 200 - 2 * q;
    for (int i = 0; i < 64; i++) {
        long v = ((chroma ? g_chroma[i] : g_luma[i]) * s + 50) / 100;
        table[i] = (float)(v < 1 ? 1 : v > 255 ? 255 : v);
    }
}

typedef struct {
    const float *pad; /* padded input, W x H */
    float *acc;       /* padded accumulator */
    int W, H, sx, sy;
    const enh_dct_filter *f;
    float c[8][8];    /* DCT matrix: c[u][x] */
} job;

static void dct_rows(void *ctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    job *j = ctx;
    const enh_dct_filter *f = j->f;
    for (size_t r = begin; r < end; r++) {
        int y0 = j->sy + 8 * (int)r;
        for (int x0 = j->sx; x0 + 8 <= j->W; x0 += 8) {
            float b[8][8], t[8][8];
            for (int y = 0; y < 8; y++)
                memcpy(b[y], j->pad + (size_t)(y0 + y) * j->W + x0, sizeof b[y]);
            /* forward: t = b C^T (rows), then b = C t (columns) */
            for (int y = 0; y < 8; y++)
                for (int u = 0; u < 8; u++) {
                    float s = 0;
                    for (int x = 0; x < 8; x++)
                        s += b[y][x] * j->c[u][x];
                    t[y][u] = s;
                }
            for (int v = 0; v < 8; v++)
                for (int u = 0; u < 8; u++) {
                    float s = 0;
                    for (int y = 0; y < 8; y++)
                        s += j->c[v][y] * t[y][u];
                    b[v][u] = s;
                }
            if (f->rule == ENH_DCT_REQUANTISE) {
                for (int i = 0; i < 64; i++) {
                    float q = f->table[i];
                    b[i / 8][i % 8] = q * nearbyintf(b[i / 8][i % 8] / q);
                }
            } else {
                float thr = f->threshold;
                for (int i = 1; i < 64; i++)
                    if (fabsf(b[i / 8][i % 8]) < thr)
                        b[i / 8][i % 8] = 0;
            }
            /* inverse: t = C^T b (columns), then b = t C (rows) */
            for (int y = 0; y < 8; y++)
                for (int u = 0; u < 8; u++) {
                    float s = 0;
                    for (int v = 0; v < 8; v++)
                        s += j->c[v][y] * b[v][u];
                    t[y][u] = s;
                }
            for (int y = 0; y < 8; y++) {
                float *dst = j->acc + (size_t)(y0 + y) * j->W + x0;
                for (int x = 0; x < 8; x++) {
                    float s = 0;
                    for (int u = 0; u < 8; u++)
                        s += t[y][u] * j->c[u][x];
                    dst[x] += s;
                }
            }
        }
    }
}

static int mirror(int i, int n)
{
    while (i < 0 || i >= n)
        i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
}

enh_status enh_dct_filter_plane(float *plane, int w, int h, const enh_dct_filter *f, enh_pool *pool,
                                enh_error *err)
{
    if (w < 1 || h < 1)
        return ENH_OK;
    int W = w + 16, H = h + 16;
    float *pad = enh_alloc(sizeof(float) * (size_t)W * H);
    float *acc = enh_calloc((size_t)W * H, sizeof(float));
    if (!pad || !acc) {
        enh_free(pad);
        enh_free(acc);
        return enh_fail(err, ENH_ENOMEM, "out of memory for a %dx%d DCT filter", w, h);
    }
    for (int y = 0; y < H; y++) {
        const float *src = plane + (size_t)mirror(y - 8, h) * w;
        float *dst = pad + (size_t)y * W;
        for (int x = 0; x < W; x++)
            dst[x] = src[mirror(x - 8, w)];
    }
    job j = {.pad = pad, .acc = acc, .W = W, .H = H, .f = f};
    for (int u = 0; u < 8; u++)
        for (int x = 0; x < 8; x++)
            j.c[u][x] = (float)((u == 0 ? sqrt(0.125) : 0.5) * cos((2 * x + 1) * u * M_PI / 16));
    if (!pool)
        pool = enh_pool_default();
    int step = f->step < 1 ? 1 : f->step > 8 ? 8 : f->step;
    int nshift = 0;
    for (int sy = 0; sy < 8; sy += step)
        for (int sx = 0; sx < 8; sx += step) {
            j.sx = sx;
            j.sy = sy;
            size_t rows = (size_t)((H - sy) / 8);
            if (pool)
                enh_pool_run(pool, rows, 4, dct_rows, &j);
            else
                dct_rows(&j, 0, rows, 0);
            nshift++;
        }
    /* every interior pixel (the original plane) is covered once per shift */
    float inv = 1.0f / nshift;
    for (int y = 0; y < h; y++) {
        const float *src = acc + (size_t)(y + 8) * W + 8;
        float *dst = plane + (size_t)y * w;
        for (int x = 0; x < w; x++)
            dst[x] = src[x] * inv;
    }
    enh_free(pad);
    enh_free(acc);
    return ENH_OK;
}
