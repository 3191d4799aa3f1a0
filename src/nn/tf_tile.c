/* tf_tile.c - running a TF.js image model on tiles (tfjs.h): MAXIM's grid mixing reaches across
 * the whole input, so a tile never equals the same region of a whole-image run; tiles overlap
 * and are blended with linear feathers, and the whole image runs in one piece whenever its
 * activations fit the memory budget (enh_tf_model_run_fit). */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/tfjs.h"

/* Activations per padded input pixel, measured (tf_plan's arena): 2.0-2.3 KB for MAXIM-2S/3S
 * at 64..512 px; the estimate adds the input/output copies and the packed convolution scratch. */
size_t enh_tf_model_bytes_for(const enh_tf_model *m, int h, int w, int pad_multiple)
{
    int mult = pad_multiple > 1 ? pad_multiple : 1;
    size_t ph = ((size_t)h + mult - 1) / mult * mult, pw = ((size_t)w + mult - 1) / mult * mult;
    size_t px = ph * pw, per = enh_tf_model_arena_per_pixel(m);
    return px * per + px * 4 * 8 + ((size_t)16 << 20);
}

/* 1-D feather: weight of position i in a tile of n whose sides touch other tiles (lo, hi)
 * with overlap ov: ramps from 1/(ov+1) up to 1 across the overlap, 1 elsewhere. */
static float feather(int i, int n, int lo, int hi, int ov)
{
    float w = 1.0f;
    if (lo && i < ov)
        w = (float)(i + 1) / (float)(ov + 1);
    if (hi && n - 1 - i < ov) {
        float v = (float)(n - i) / (float)(ov + 1);
        w = v < w ? v : w;
    }
    return w;
}

static int tile_starts(int len, int tile, int step, int *starts, int max)
{
    int n = 0;
    if (len <= tile) {
        starts[n++] = 0;
        return n;
    }
    for (int s = 0;; s += step) {
        if (s + tile >= len) {
            starts[n++] = len - tile;
            break;
        }
        if (n == max - 1)
            return -1;
        starts[n++] = s;
    }
    return n;
}

enh_status enh_tf_model_run_tiled(enh_tf_model *m, const float *in, int h, int w, int pad_multiple, int tile,
                                  int overlap, float *out, enh_pool *pool, enh_error *err)
{
    const enh_tf_model_info *inf = enh_tf_model_get_info(m);
    int c = inf->in_channels, oc = inf->out_channels, sc = inf->scale;
    if (h < 1 || w < 1 || h > 32768 || w > 32768 || pad_multiple > 4096)
        return enh_tf_model_run(m, in, h, w, pad_multiple, out, pool, err); /* its range errors, nothing allocated */
    if (tile < 16 || overlap < 0 || overlap * 2 >= tile)
        return enh_fail(err, ENH_EINVAL, "tile %d with overlap %d: the tile must be >= 16 and the overlap below half "
                        "of it", tile, overlap);
    if (h <= tile && w <= tile)
        return enh_tf_model_run(m, in, h, w, pad_multiple, out, pool, err);
    enum { MAXT = 4096 };
    int *ys = malloc(MAXT * sizeof *ys), *xs = malloc(MAXT * sizeof *xs);
    int th = h < tile ? h : tile, tw = w < tile ? w : tile;
    int ny = ys ? tile_starts(h, th, th - overlap, ys, MAXT) : -1;
    int nx = xs ? tile_starts(w, tw, tw - overlap, xs, MAXT) : -1;
    size_t on = (size_t)h * sc * w * sc;
    float *acc = enh_calloc(on * oc, sizeof *acc), *wsum = enh_calloc(on, sizeof *wsum);
    float *tin = enh_alloc((size_t)th * tw * c * sizeof *tin);
    float *tout = enh_alloc((size_t)th * sc * tw * sc * oc * sizeof *tout);
    enh_status st = ENH_OK;
    if (ny < 0 || nx < 0 || !acc || !wsum || !tin || !tout) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory tiling a %dx%d image", w, h);
        goto done;
    }
    for (int ty = 0; ty < ny && st == ENH_OK; ty++)
        for (int tx = 0; tx < nx && st == ENH_OK; tx++) {
            int y0 = ys[ty], x0 = xs[tx];
            for (int y = 0; y < th; y++)
                memcpy(tin + (size_t)y * tw * c, in + ((size_t)(y0 + y) * w + x0) * c, (size_t)tw * c * sizeof *in);
            st = enh_tf_model_run(m, tin, th, tw, pad_multiple, tout, pool, err);
            if (st != ENH_OK)
                break;
            /* overlaps with the neighbours, in output pixels (the last tile may overlap more) */
            int ov_top = ty > 0 ? (ys[ty - 1] + th - y0) * sc : 0, ov_bot = ty + 1 < ny ? (y0 + th - ys[ty + 1]) * sc : 0;
            int ov_l = tx > 0 ? (xs[tx - 1] + tw - x0) * sc : 0, ov_r = tx + 1 < nx ? (x0 + tw - xs[tx + 1]) * sc : 0;
            int oh = th * sc, ow = tw * sc;
            for (int y = 0; y < oh; y++) {
                float wy = feather(y, oh, ov_top > 0, 0, ov_top);
                wy = wy < feather(y, oh, 0, ov_bot > 0, ov_bot) ? wy : feather(y, oh, 0, ov_bot > 0, ov_bot);
                size_t orow = (size_t)(y0 * sc + y) * w * sc + (size_t)x0 * sc;
                for (int x = 0; x < ow; x++) {
                    float wx = feather(x, ow, ov_l > 0, 0, ov_l);
                    float wr = feather(x, ow, 0, ov_r > 0, ov_r);
                    float wt = wy * (wx < wr ? wx : wr);
                    const float *t = tout + ((size_t)y * ow + x) * oc;
                    float *a = acc + (orow + x) * oc;
                    for (int k = 0; k < oc; k++)
                        a[k] += wt * t[k];
                    wsum[orow + x] += wt;
                }
            }
        }
    if (st == ENH_OK)
        for (size_t i = 0; i < on; i++)
            for (int k = 0; k < oc; k++)
                out[i * oc + k] = acc[i * oc + k] / wsum[i];
done:
    free(ys), free(xs);
    enh_free(acc), enh_free(wsum), enh_free(tin), enh_free(tout);
    return st;
}

enh_status enh_tf_model_run_fit(enh_tf_model *m, const float *in, int h, int w, int pad_multiple,
                                size_t memory_limit, float *out, enh_pool *pool, enh_error *err)
{
    if (pad_multiple > 4096 || h < 1 || w < 1 || h > 32768 || w > 32768 || /* out of range: run's errors */
        !memory_limit || enh_tf_model_bytes_for(m, h, w, pad_multiple) <= memory_limit)
        return enh_tf_model_run(m, in, h, w, pad_multiple, out, pool, err);
    int mult = pad_multiple > 1 ? pad_multiple : 64;
    int tile = ((h > w ? h : w) + mult - 1) / mult * mult;
    while (tile > 2 * mult && enh_tf_model_bytes_for(m, tile, tile, pad_multiple) > memory_limit)
        tile -= mult;
    if (enh_tf_model_bytes_for(m, tile, tile, pad_multiple) > memory_limit)
        return enh_fail(err, ENH_ETOOBIG, "the model needs %zu MB for its smallest tile (%dx%d); raise the memory limit "
                        "(--memory-limit) above that", enh_tf_model_bytes_for(m, tile, tile, pad_multiple) >> 20, tile,
                        tile);
    /* a third of a tile: 384-px tiles overlapping by 128 stay >= 42 dB from the whole-image run
     * on MAXIM-enhancement, 256/64 only 36 dB (bench/README.md) */
    int overlap = (tile / 3 + mult / 2) / mult * mult;
    if (overlap < mult)
        overlap = mult;
    if (overlap * 2 >= tile)
        overlap = tile / 2 - 1;
    return enh_tf_model_run_tiled(m, in, h, w, pad_multiple, tile, overlap, out, pool, err);
}
