/* tiler.c - seam-free tiled inference with bounded memory (see tiler.h). */
#include <math.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/mem.h"
#include "nn/tiler.h"

void enh_tiler_opts_init(enh_tiler_opts *o)
{
    memset(o, 0, sizeof *o);
    o->overlap = -1;
    o->feather = -1;
    o->max_exact_overlap = 64;
    o->feather_overlap = 64;
    o->batch = 1;
    o->clamp = 1;
}

typedef struct {
    int n;        /* tiles along the axis */
    int len;      /* image length (LR) */
    int core_max; /* largest core */
    int win;      /* window length */
} axis_t;

static void axis_init(axis_t *a, int len, int tile, int ov)
{
    a->len = len;
    a->n = (len + tile - 1) / tile;
    a->core_max = (len + a->n - 1) / a->n;
    a->win = a->core_max + 2 * ov < len ? a->core_max + 2 * ov : len;
}

static int core_start(const axis_t *a, int j) { return (int)((long long)j * a->len / a->n); }

static int win_start(const axis_t *a, int j, int ov)
{
    int s = core_start(a, j) - ov;
    if (s > a->len - a->win)
        s = a->len - a->win;
    return s < 0 ? 0 : s;
}

/* Blend weight of tile j at HR coordinate X (feather half-width hf LR px; 0 = exact). */
static float weight(const axis_t *a, int j, int X, int S, int hf)
{
    int a0 = core_start(a, j), a1 = core_start(a, j + 1);
    if (hf == 0)
        return X >= a0 * S && X < a1 * S ? 1.f : 0.f;
    double u = (X + 0.5) / S, w = 1.0;
    if (j > 0)
        w = fmin(w, (u - (a0 - hf)) / (2.0 * hf));
    if (j < a->n - 1)
        w = fmin(w, ((a1 + hf) - u) / (2.0 * hf));
    return (float)(w < 0 ? 0 : w > 1 ? 1 : w);
}

/* HR range [lo, hi) where tile j has a non-zero weight */
static void span(const axis_t *a, int j, int S, int hf, int *lo, int *hi)
{
    *lo = j == 0 ? 0 : (core_start(a, j) - hf) * S;
    *hi = j == a->n - 1 ? a->len * S : (core_start(a, j + 1) + hf) * S;
}

size_t enh_tiler_plan_bytes(const enh_model *m, int w, int h, int tile, int overlap, int feathered, int batch)
{
    const enh_model_info *info = enh_model_get_info(m);
    int S = info->scale, hf = feathered ? overlap : 0; /* upper bound of the ramp */
    axis_t ax, ay;
    axis_init(&ax, w, tile, overlap);
    axis_init(&ay, h, tile, overlap);
    int b = batch < ax.n * ay.n ? batch : ax.n * ay.n;
    size_t ws = enh_model_workspace_bytes(m, b, ay.win, ax.win);
    if (!ws)
        return (size_t)-1;
    size_t win = (size_t)ay.win * ax.win;
    size_t io = (size_t)b * win * (info->in_channels + (size_t)info->out_channels * S * S) * sizeof(float);
    size_t strip = (size_t)info->out_channels * (size_t)(ay.core_max + 2 * hf) * S * ((size_t)w * S) * sizeof(float);
    return ws + io + strip;
}

struct enh_tiler_stream {
    const enh_model *m;
    enh_tiler_opts o; /* a copy */
    enh_tiler_fetch_fn fetch;
    enh_tiler_emit_fn emit;
    void *user;
    int W, H, S, cin, cout, ov, hf, batch;
    axis_t ax, ay;
    int next_ty;                  /* next tile row to run */
    int total, done_tiles;        /* tiles in the grid; tiles run since open */
    float *in, *out, *strip;
    int strip_cap, strip_base;    /* rows held; HR row of strip row 0 */
};

static enh_status emit_rows(enh_tiler_stream *r, int upto, enh_error *err)
{
    int rows = upto - r->strip_base;
    if (rows <= 0)
        return ENH_OK;
    size_t OW = (size_t)r->W * r->S, plane = (size_t)r->strip_cap * OW;
    if (r->o.clamp)
        for (int c = 0; c < r->cout; c++) {
            float *p = r->strip + c * plane;
            for (size_t i = 0; i < (size_t)rows * OW; i++)
                p[i] = p[i] < 0.f ? 0.f : p[i] > 1.f ? 1.f : p[i];
        }
    enh_status st = r->emit(r->user, r->strip_base, rows, (int)OW, r->cout, r->strip, plane, err);
    if (st != ENH_OK)
        return st;
    for (int c = 0; c < r->cout; c++) { /* shift the rest up and clear the freed rows */
        float *p = r->strip + c * plane;
        memmove(p, p + (size_t)rows * OW, (size_t)(r->strip_cap - rows) * OW * sizeof *p);
        memset(p + (size_t)(r->strip_cap - rows) * OW, 0, (size_t)rows * OW * sizeof *p);
    }
    r->strip_base = upto;
    return ENH_OK;
}

void enh_tiler_stream_close(enh_tiler_stream *r)
{
    if (!r)
        return;
    enh_free(r->in);
    enh_free(r->out);
    enh_free(r->strip);
    enh_free(r);
}

/* Allocates a stream for one tile side (no model call yet). */
static enh_status stream_alloc(const enh_tiler_stream *proto, int tile, enh_tiler_stream **out, enh_error *err)
{
    *out = NULL;
    enh_tiler_stream *r = enh_calloc(1, sizeof *r);
    if (!r)
        return enh_fail(err, ENH_ENOMEM, "out of memory for the tiler");
    *r = *proto;
    r->in = r->out = r->strip = NULL;
    const int S = r->S;
    axis_init(&r->ax, r->W, tile, r->ov);
    axis_init(&r->ay, r->H, tile, r->ov);
    r->total = r->ax.n * r->ay.n;
    if (r->batch > r->ax.n)
        r->batch = r->ax.n;
    size_t OW = (size_t)r->W * S, win = (size_t)r->ax.win * r->ay.win;
    size_t in_one = win * r->cin, out_one = win * S * S * r->cout;
    r->strip_cap = (r->ay.core_max + 2 * r->hf) * S;
    if (r->strip_cap > r->H * S)
        r->strip_cap = r->H * S;
    r->in = enh_alloc((size_t)r->batch * in_one * sizeof(float));
    r->out = enh_alloc((size_t)r->batch * out_one * sizeof(float));
    r->strip = enh_calloc((size_t)r->cout * r->strip_cap * OW, sizeof(float));
    if (!r->in || !r->out || !r->strip) {
        enh_status st = enh_fail(err, ENH_ENOMEM, "out of memory for %dx%d tiles", r->ax.win, r->ay.win);
        enh_tiler_stream_close(r);
        return st;
    }
    *out = r;
    return ENH_OK;
}

/* First HR row a run restarted at tile row t emits: the rows tile row t - 1 touches
 * (its blend ramp included) are incomplete without it. */
static int restart_row(const enh_tiler_stream *r, int t)
{
    return t == 0 ? 0 : (core_start(&r->ay, t) + r->hf) * r->S;
}

static int restart_tile_row(const enh_tiler_stream *r, int y)
{
    int t = 0;
    while (t + 1 < r->ay.n && restart_row(r, t + 1) <= y)
        t++;
    return t;
}

int enh_tiler_stream_restart_row(const enh_tiler_stream *r, int y) { return restart_row(r, restart_tile_row(r, y)); }

int enh_tiler_stream_seek(enh_tiler_stream *r, int y)
{
    int t = restart_tile_row(r, y);
    r->next_ty = t;
    r->strip_base = restart_row(r, t);
    memset(r->strip, 0, (size_t)r->cout * r->strip_cap * r->W * r->S * sizeof(float));
    return r->strip_base;
}

int enh_tiler_stream_rows(const enh_tiler_stream *r) { return r->ay.n; }
int enh_tiler_stream_next_row(const enh_tiler_stream *r) { return r->next_ty; }
int enh_tiler_stream_emitted(const enh_tiler_stream *r) { return r->strip_base; }
int enh_tiler_stream_tiles(const enh_tiler_stream *r) { return r->total; }
int enh_tiler_stream_strip_rows(const enh_tiler_stream *r) { return r->strip_cap; }

enh_status enh_tiler_stream_step(enh_tiler_stream *r, enh_error *err)
{
    const enh_tiler_opts *o = &r->o;
    const int S = r->S, ty = r->next_ty;
    if (ty >= r->ay.n)
        return ENH_OK;
    const axis_t *ax = &r->ax, *ay = &r->ay;
    size_t OW = (size_t)r->W * S, win = (size_t)ax->win * ay->win;
    size_t in_one = win * r->cin, out_one = win * S * S * r->cout;
    int batch = r->batch;
    enh_status st = ENH_OK;
    int lo_y, hi_y;
    span(ay, ty, S, r->hf, &lo_y, &hi_y);
    if ((st = emit_rows(r, lo_y, err)) != ENH_OK)
        return st;
    if (hi_y - r->strip_base > r->strip_cap)
        return enh_fail(err, ENH_EINTERNAL, "tiler strip overflow");
    int wy = win_start(ay, ty, r->ov);
    for (int tx0 = 0; tx0 < ax->n && st == ENH_OK; tx0 += batch) {
        if (o->cancel && atomic_load(o->cancel))
            return enh_fail(err, ENH_ECANCELLED, "cancelled");
        if (o->deadline > 0 && enh_now() > o->deadline)
            return enh_fail(err, ENH_ETIMEOUT, "deadline exceeded after %d of %d tiles", r->done_tiles, r->total);
        int nb = ax->n - tx0 < batch ? ax->n - tx0 : batch;
        for (int b = 0; b < nb && st == ENH_OK; b++)
            st = r->fetch(r->user, win_start(ax, tx0 + b, r->ov), wy, ax->win, ay->win, r->cin, r->in + b * in_one,
                          err);
        if (st != ENH_OK)
            return st;
        if (o->runner)
            st = o->runner(o->runner_user, (struct enh_model *)r->m, r->in, nb, r->cin, ay->win, ax->win, r->out, err);
        else
            st = enh_model_run(r->m, r->in, nb, ay->win, ax->win, r->out, o->pool, err);
        if (st != ENH_OK)
            return st;
        for (int b = 0; b < nb; b++) { /* accumulate with the blend weights */
            int tx = tx0 + b, wx = win_start(ax, tx, r->ov), lo_x, hi_x;
            span(ax, tx, S, r->hf, &lo_x, &hi_x);
            int Y0 = lo_y > wy * S ? lo_y : wy * S, Y1 = hi_y < (wy + ay->win) * S ? hi_y : (wy + ay->win) * S;
            int X0 = lo_x > wx * S ? lo_x : wx * S, X1 = hi_x < (wx + ax->win) * S ? hi_x : (wx + ax->win) * S;
            if (Y0 < r->strip_base) /* after a seek: rows before the restart row are not kept */
                Y0 = r->strip_base;
            size_t tw = (size_t)ax->win * S, th = (size_t)ay->win * S;
            for (int c = 0; c < r->cout; c++) {
                const float *src = r->out + b * out_one + c * tw * th;
                float *dst = r->strip + (size_t)c * r->strip_cap * OW;
                for (int Y = Y0; Y < Y1; Y++) {
                    float wyv = weight(ay, ty, Y, S, r->hf);
                    if (wyv == 0.f)
                        continue;
                    const float *s = src + (size_t)(Y - wy * S) * tw;
                    float *d = dst + (size_t)(Y - r->strip_base) * OW;
                    for (int X = X0; X < X1; X++) {
                        float wv = wyv * weight(ax, tx, X, S, r->hf);
                        if (wv == 1.f)
                            d[X] = s[X - wx * S]; /* sole contributor */
                        else if (wv != 0.f)
                            d[X] += wv * s[X - wx * S];
                    }
                }
            }
        }
        r->done_tiles += nb;
        if (o->progress)
            o->progress(o->progress_user, r->done_tiles < r->total ? (double)r->done_tiles / r->total : 1.0);
    }
    r->next_ty = ty + 1;
    /* rows above the next tile row's span are final now */
    int upto = r->next_ty < ay->n ? (span(ay, r->next_ty, S, r->hf, &lo_y, &hi_y), lo_y) : r->H * S;
    return emit_rows(r, upto, err);
}

/* Model, geometry and overlap shared by enh_tiler_run and enh_tiler_stream_open; picks
 * the tile side from the budget. */
static enh_status prepare(const enh_model *m, int w, int h, enh_tiler_fetch_fn fetch, enh_tiler_emit_fn emit,
                          void *user, const enh_tiler_opts *opts, enh_tiler_stream *r, int *tile_out, int *min_tile_out,
                          enh_tiler_stats *stats, enh_error *err)
{
    const enh_model_info *info = enh_model_get_info(m);
    if (w <= 0 || h <= 0)
        return enh_fail(err, ENH_EINVAL, "invalid image size %dx%d", w, h);
    if (info->scale <= 0)
        return enh_fail(err, ENH_EUNSUPPORTED, "the tiler needs a model whose output is a fixed multiple of its input");
    memset(r, 0, sizeof *r);
    *r = (enh_tiler_stream){.m = m, .o = *opts, .fetch = fetch, .emit = emit, .user = user, .W = w, .H = h,
                            .S = info->scale, .cin = info->in_channels, .cout = info->out_channels,
                            .batch = opts->batch > 0 ? opts->batch : 1};
    int R = info->receptive_radius;
    int feather = opts->feather >= 0 ? opts->feather : (R < 0 || R > opts->max_exact_overlap);
    r->ov = opts->overlap >= 0 ? opts->overlap : feather ? opts->feather_overlap : R;
    r->hf = !feather ? 0 : opts->feather_ramp > 0 ? opts->feather_ramp : (r->ov / 2 < 12 ? r->ov / 2 : 12);
    if (r->hf > r->ov)
        r->hf = r->ov;
    stats->overlap = r->ov;
    stats->feathered = feather;
    int min_tile = r->hf ? 4 * r->hf : 8;
    if (min_tile < 8)
        min_tile = 8;
    size_t limit = opts->memory_limit ? opts->memory_limit : ENH_TILER_DEFAULT_MEMORY;
    int tile = opts->tile;
    if (tile <= 0) {
        int big = w > h ? w : h;
        tile = big < ENH_TILER_MAX_TILE ? big : ENH_TILER_MAX_TILE;
        size_t need;
        /* (size_t)-1: the plan itself could not be made (out of memory), which a smaller tile
         * does not cure; it is not "the limit is too small" either */
        while ((need = enh_tiler_plan_bytes(m, w, h, tile, r->ov, feather, r->batch)) > limit &&
               need != (size_t)-1 && tile > min_tile)
            tile = tile * 7 / 8 > min_tile ? tile * 7 / 8 : min_tile;
        if (need == (size_t)-1)
            return enh_fail(err, ENH_ENOMEM, "out of memory while planning the model's tiles");
        if (need > limit)
            return enh_fail(err, ENH_ETOOBIG,
                            "memory limit of %.0f MiB is too small: the smallest tile (%d px) needs %.0f MiB "
                            "(raise --memory-limit)", (double)limit / (1 << 20), tile, (double)need / (1 << 20));
    }
    if (tile < min_tile && feather)
        tile = min_tile;
    *tile_out = tile;
    *min_tile_out = min_tile;
    return ENH_OK;
}

/* The common start of a run and of a stream: default options and stats (into the caller's
 * def / dummy), then prepare(). */
static enh_status begin(const enh_model *m, int w, int h, enh_tiler_fetch_fn fetch, enh_tiler_emit_fn emit,
                        void *user, const enh_tiler_opts **opts, enh_tiler_opts *def, enh_tiler_stats **stats,
                        enh_tiler_stats *dummy, enh_tiler_stream *proto, int *tile, int *min_tile, enh_error *err)
{
    if (!*opts) {
        enh_tiler_opts_init(def);
        *opts = def;
    }
    if (!*stats)
        *stats = dummy;
    memset(*stats, 0, sizeof **stats);
    return prepare(m, w, h, fetch, emit, user, *opts, proto, tile, min_tile, *stats, err);
}

static void note_tile(const enh_tiler_stream *r, int tile, enh_tiler_stats *stats)
{
    stats->tile = tile;
    stats->planned_bytes = enh_tiler_plan_bytes(r->m, r->W, r->H, tile, r->ov, stats->feathered, r->batch);
}

enh_status enh_tiler_stream_open(const enh_model *m, int w, int h, enh_tiler_fetch_fn fetch, enh_tiler_emit_fn emit,
                                 void *user, const enh_tiler_opts *opts, enh_tiler_stream **out,
                                 enh_tiler_stats *stats, enh_error *err)
{
    enh_tiler_opts def;
    enh_tiler_stats dummy;
    *out = NULL;
    enh_tiler_stream proto;
    int tile, min_tile;
    enh_status st = begin(m, w, h, fetch, emit, user, &opts, &def, &stats, &dummy, &proto, &tile, &min_tile, err);
    if (st != ENH_OK)
        return st;
    for (;;) {
        note_tile(&proto, tile, stats);
        st = stream_alloc(&proto, tile, out, err);
        if (st != ENH_ENOMEM || tile <= min_tile)
            break;
        tile = tile / 2 > min_tile ? tile / 2 : min_tile;
        stats->retries++;
    }
    if (st == ENH_OK)
        stats->tiles = (*out)->total;
    return st;
}

enh_status enh_tiler_run(const enh_model *m, int w, int h, enh_tiler_fetch_fn fetch, enh_tiler_emit_fn emit,
                         void *user, const enh_tiler_opts *opts, enh_tiler_stats *stats, enh_error *err)
{
    enh_tiler_opts def;
    enh_tiler_stats dummy;
    enh_tiler_stream proto;
    int tile, min_tile;
    enh_status st = begin(m, w, h, fetch, emit, user, &opts, &def, &stats, &dummy, &proto, &tile, &min_tile, err);
    if (st != ENH_OK)
        return st;
    for (;;) { /* one attempt per tile side: a smaller one after ENH_ENOMEM */
        note_tile(&proto, tile, stats);
        enh_tiler_stream *r = NULL;
        st = stream_alloc(&proto, tile, &r, err);
        stats->tiles = 0;
        while (st == ENH_OK && r->next_ty < r->ay.n) {
            st = enh_tiler_stream_step(r, err);
            stats->tiles = r->done_tiles;
        }
        enh_tiler_stream_close(r);
        if (st != ENH_ENOMEM || tile <= min_tile)
            break;
        tile = tile / 2 > min_tile ? tile / 2 : min_tile;
        stats->retries++;
    }
    return st;
}

/* ---- planar convenience ---- */
typedef struct {
    const float *in;
    float *out;
    int w, h, S;
} planar_t;

static enh_status planar_fetch(void *user, int x, int y, int w, int h, int c, float *dst, enh_error *err)
{
    (void)err;
    const planar_t *p = user;
    for (int k = 0; k < c; k++)
        for (int r = 0; r < h; r++)
            memcpy(dst + ((size_t)k * h + r) * w, p->in + ((size_t)k * p->h + y + r) * p->w + x, (size_t)w * sizeof *dst);
    return ENH_OK;
}

static enh_status planar_emit(void *user, int y, int rows, int ow, int c, const float *data, size_t stride,
                              enh_error *err)
{
    (void)err;
    const planar_t *p = user;
    size_t OH = (size_t)p->h * p->S;
    for (int k = 0; k < c; k++)
        memcpy(p->out + ((size_t)k * OH + y) * ow, data + k * stride, (size_t)rows * ow * sizeof *data);
    return ENH_OK;
}

enh_status enh_tiler_run_planar(const enh_model *m, const float *in, int w, int h, float *out,
                                const enh_tiler_opts *opts, enh_tiler_stats *stats, enh_error *err)
{
    planar_t p = {in, out, w, h, enh_model_get_info(m)->scale};
    return enh_tiler_run(m, w, h, planar_fetch, planar_emit, &p, opts, stats, err);
}
