/* upscale_stream.c - the upscaled image computed on demand (see upscale_stream.h). */
#include "enhance/upscale_stream.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/fsutil.h"
#include "enhance/upscale_io.h"
#include "nn/model_cache.h"
#include "nn/tiler.h"

#define MAX_OUT_PIXELS ((long long)1 << 30) /* 1 gigapixel of output, as upscale_io */
#define STATE_KEY "enh-upscale-stream"

typedef struct ustream ustream;

typedef struct {
    ustream *st;
    int pass; /* 0 colour, 1 alpha */
} pass_user;

struct ustream {
    pthread_mutex_t mu;
    char *model;           /* model-cache name and folder (copies) */
    char *models_dir;
    enh_model *m;          /* held only while computing (see acquire / release) */
    enh_tiler_opts o;      /* tile side fixed at creation */
    int cap;               /* cache rows */
    int sink_lines;        /* rows of a libvips sink buffer for this image */
    size_t planned;        /* tiler bytes of one pass */
    enh_pipeline_ctx ctx;  /* a copy */
    VipsImage *in;         /* prepared input (a reference) */
    upscale_img fmt[2];    /* input format per pass (data unused) */
    int S, OW, OH, passes, alpha_const;
    unsigned alpha_value;
    enh_tiler_stream *ts[2];
    pass_user pu[2];
    upscale_img cache;     /* rows [base, base + cap) of the output; w = OW, h = cap */
    int base, end;         /* rows [base, end) are valid */
    size_t row_bytes;
    VipsRegion *cur_in;    /* input region of the thread computing (under mu) */
    int grid_rows;
    double progress;
    int tiles_run;
    enh_status failed;
    enh_error fail_err;
};

/* Frees the tiler buffers, the row cache and the model reference (the image stays
 * usable: acquire brings them back). Under mu, or before the image exists. */
static void release(ustream *st)
{
    for (int i = 0; i < 2; i++) {
        enh_tiler_stream_close(st->ts[i]);
        st->ts[i] = NULL;
    }
    g_free(st->cache.data);
    st->cache.data = NULL;
    st->base = st->end = 0;
    if (st->m)
        enh_model_cache_release(st->m);
    st->m = NULL;
}

static void state_free(gpointer p)
{
    ustream *st = p;
    release(st);
    if (st->in)
        g_object_unref(st->in);
    g_free(st->model);
    g_free(st->models_dir);
    pthread_mutex_destroy(&st->mu);
    g_free(st);
}

static enh_status s_fetch(void *user, int x, int y, int w, int h, int c, float *dst, enh_error *err);
static enh_status s_emit(void *user, int y, int rows, int ow, int c, const float *data, size_t stride, enh_error *err);

/* Model, tiler streams (rows from the top) and row cache, when not held already. */
static enh_status acquire(ustream *st, enh_error *err)
{
    if (st->ts[0])
        return ENH_OK;
    enh_status s = enh_model_cache_get(st->model, st->models_dir, &st->ctx.nn, &st->m, err);
    for (int p = 0; p < st->passes && s == ENH_OK; p++) {
        enh_tiler_stats ts;
        st->pu[p] = (pass_user){st, p};
        s = enh_tiler_stream_open(st->m, st->fmt[0].w, st->fmt[0].h, s_fetch, s_emit, &st->pu[p], &st->o, &st->ts[p],
                                  &ts, err);
        if (s == ENH_OK && st->o.tile > 0 && ts.tile != st->o.tile)
            s = enh_fail(err, ENH_ENOMEM, "out of memory for %d px tiles", st->o.tile);
        if (s == ENH_OK && p == 0) {
            st->o.tile = ts.tile; /* every later open (and the alpha pass) on the same grid */
            st->planned = ts.planned_bytes;
        }
    }
    if (s == ENH_OK) {
        st->grid_rows = enh_tiler_stream_rows(st->ts[0]);
        if (!st->cap) {
            /* one tile row (with its blend ramps) of output, plus what libvips' threads may
             * lag behind the one furthest down: two buffers of a sink (twice that for a
             * halving resample in between) */
            st->cap = enh_tiler_stream_strip_rows(st->ts[0]) + 4 * st->sink_lines;
            if (st->cap > st->OH)
                st->cap = st->OH;
        }
        st->cache.h = st->cap;
        st->cache.data = g_try_malloc((size_t)st->cap * st->row_bytes);
        if (!st->cache.data)
            s = enh_fail(err, ENH_ENOMEM, "out of memory for the upscale row cache (%.0f MiB)",
                         (double)st->cap * st->row_bytes / (1 << 20));
    }
    if (s != ENH_OK)
        release(st);
    return s;
}

/* libvips signals the end of a computation: give the memory back until asked again. */
static void on_minimise(VipsImage *img, void *user)
{
    (void)img;
    ustream *st = user;
    pthread_mutex_lock(&st->mu);
    release(st);
    pthread_mutex_unlock(&st->mu);
}

/* ---- tiler callbacks (called under st->mu) ---- */

static enh_status s_fetch(void *user, int x, int y, int w, int h, int c, float *dst, enh_error *err)
{
    pass_user *pu = user;
    ustream *st = pu->st;
    if (c != 3)
        return enh_fail(err, ENH_EUNSUPPORTED, "the upscaler needs a 3-channel model (this one has %d)", c);
    VipsRect r = {x, y, w, h};
    if (vips_region_prepare(st->cur_in, &r)) {
        enh_status s = enh_fail(err, ENH_EINTERNAL, "cannot read the input for upscaling: %s", vips_error_buffer());
        vips_error_clear();
        return s;
    }
    upscale_rows_to_float(&st->fmt[pu->pass], (const unsigned char *)VIPS_REGION_ADDR(st->cur_in, x, y),
                          VIPS_REGION_LSKIP(st->cur_in), w, h, dst);
    return ENH_OK;
}

static enh_status s_emit(void *user, int y, int rows, int ow, int c, const float *data, size_t stride, enh_error *err)
{
    pass_user *pu = user;
    ustream *st = pu->st;
    if (pu->pass == 0) { /* slide the window so that [y, y + rows) fits; rows arrive in order */
        if (y != st->end)
            return enh_fail(err, ENH_EINTERNAL, "upscale stream: rows from %d, expected %d", y, st->end);
        int nb = y + rows - st->cache.h;
        if (nb > st->base) {
            if (nb > st->end)
                return enh_fail(err, ENH_EINTERNAL, "upscale stream: %d rows do not fit the cache", rows);
            memmove(st->cache.data, st->cache.data + (size_t)(nb - st->base) * st->row_bytes,
                    (size_t)(st->end - nb) * st->row_bytes);
            st->base = nb;
        }
    } else if (y < st->base || y + rows > st->base + st->cache.h) {
        return enh_fail(err, ENH_EINTERNAL, "upscale stream: alpha rows %d..%d outside the cache", y, y + rows);
    }
    upscale_img view = st->cache;
    view.data = st->cache.data + (size_t)(y - st->base) * st->row_bytes;
    view.h = rows;
    view.alpha_pass = pu->pass == 1;
    enh_status s = upscale_emit(&view, 0, rows, ow, c, data, stride, err);
    if (s != ENH_OK)
        return s;
    if (pu->pass == 0 && st->alpha_const)
        upscale_fill_alpha(&view, st->alpha_value);
    if (pu->pass == st->passes - 1)
        st->end = y + rows;
    return ENH_OK;
}

/* ---- libvips generate (several threads; the work under st->mu) ---- */

static void *s_start(VipsImage *out, void *a, void *b)
{
    (void)out;
    (void)b;
    ustream *st = a;
    return vips_region_new(st->in);
}

static int s_stop(void *seq, void *a, void *b)
{
    (void)a;
    (void)b;
    g_object_unref(seq);
    return 0;
}

static void fail(ustream *st, enh_status s, const enh_error *e)
{
    if (st->failed == ENH_OK) {
        st->failed = s;
        st->fail_err = *e;
        st->fail_err.code = s;
    }
}

/* Makes row y valid in the cache (under mu). */
static enh_status ensure_row(ustream *st, int y, enh_error *err)
{
    enh_status s0 = acquire(st, err);
    if (s0 != ENH_OK)
        return s0;
    if (y < st->base || enh_tiler_stream_restart_row(st->ts[0], y) > st->end + st->cap / 2) {
        /* evicted (asked for out of order), or so far below that stepping there would evict
         * the rows in between anyway: (re)start at the nearest tile row. A little below
         * (another thread's strip) steps on, keeping the rows above for the laggards. */
        int from = enh_tiler_stream_seek(st->ts[0], y);
        for (int p = 1; p < st->passes; p++)
            enh_tiler_stream_seek(st->ts[p], y);
        st->base = st->end = from;
    }
    while (y >= st->end) {
        if (enh_tiler_stream_next_row(st->ts[0]) >= st->grid_rows)
            return enh_fail(err, ENH_EINTERNAL, "upscale stream: row %d was never emitted", y);
        for (int p = 0; p < st->passes; p++) {
            enh_status s = enh_tiler_stream_step(st->ts[p], err);
            if (s != ENH_OK)
                return s;
        }
        int n = enh_tiler_stream_tiles(st->ts[0]) / st->grid_rows;
        st->tiles_run += n * st->passes;
        double f = (double)enh_tiler_stream_next_row(st->ts[0]) / st->grid_rows;
        if (f > st->progress) {
            st->progress = f;
            if (st->ctx.progress)
                st->ctx.progress(st->ctx.progress_user, f);
        }
    }
    return ENH_OK;
}

static int s_gen(VipsRegion *out, void *seq, void *a, void *b, gboolean *stop)
{
    (void)b;
    (void)stop;
    ustream *st = a;
    const VipsRect *r = &out->valid;
    size_t px = st->row_bytes / st->OW;
    enh_error err;
    enh_error_clear(&err);
    pthread_mutex_lock(&st->mu);
    enh_status s = st->failed;
    st->cur_in = seq;
    for (int y = r->top; s == ENH_OK && y < r->top + r->height;) {
        if ((s = ensure_row(st, y, &err)) != ENH_OK) {
            fail(st, s, &err);
            release(st); /* the failure sticks: nothing more will be computed */
            break;
        }
        int y1 = r->top + r->height < st->end ? r->top + r->height : st->end;
        for (; y < y1; y++)
            memcpy(VIPS_REGION_ADDR(out, r->left, y),
                   st->cache.data + (size_t)(y - st->base) * st->row_bytes + (size_t)r->left * px, (size_t)r->width * px);
    }
    st->cur_in = NULL;
    if (s != ENH_OK)
        vips_error("enhance", "%s", st->fail_err.msg);
    pthread_mutex_unlock(&st->mu);
    return s == ENH_OK ? 0 : -1;
}

/* ---- capture (see upscale_stream.h) ---- */

static _Thread_local upscale_stream_capture *t_capture;

void upscale_stream_capture_begin(upscale_stream_capture *c)
{
    memset(c, 0, sizeof *c);
    c->prev = t_capture;
    t_capture = c;
}

void upscale_stream_capture_end(upscale_stream_capture *c)
{
    if (t_capture == c)
        t_capture = c->prev;
    c->prev = NULL;
}

static void capture(VipsImage *img)
{
    upscale_stream_capture *c = t_capture;
    if (!c)
        return;
    if (c->n < UPSCALE_STREAM_CAPTURE_MAX) {
        g_object_ref(img);
        c->img[c->n++] = img;
    } else {
        c->overflow++;
    }
}

/* ---- construction ---- */

static enh_status vips_fail(enh_error *err, const char *what)
{
    enh_status s = enh_fail(err, ENH_EINTERNAL, "%s: %s", what, vips_error_buffer());
    vips_error_clear();
    return s;
}

/* 1 when the alpha band of `in` is constant (*value = it); -1 on a libvips error. */
static int alpha_constant(VipsImage *in, unsigned *value)
{
    int bands = vips_image_get_bands(in);
    VipsImage *a = NULL;
    double lo, hi;
    if (vips_extract_band(in, &a, bands - 1, NULL))
        return -1;
    int rc = vips_min(a, &lo, NULL) || vips_max(a, &hi, NULL);
    g_object_unref(a);
    if (rc)
        return -1;
    *value = (unsigned)lo;
    return lo == hi;
}

enh_status upscale_stream_new(VipsImage *prepared, const char *model, const enh_pipeline_ctx *ctx, VipsImage **out,
                              upscale_stream_info *info, enh_error *err)
{
    *out = NULL;
    upscale_stream_info dummy;
    if (!info)
        info = &dummy;
    memset(info, 0, sizeof *info);
    enh_pipeline_ctx defctx;
    if (!ctx) {
        enh_pipeline_ctx_init(&defctx);
        ctx = &defctx;
    }
    ustream *st = g_new0(ustream, 1);
    pthread_mutex_init(&st->mu, NULL);
    st->ctx = *ctx;
    st->model = g_strdup(model);
    st->models_dir = ctx->models_dir ? g_strdup(ctx->models_dir) : NULL;
    st->ctx.models_dir = st->models_dir;
    g_object_ref(prepared);
    st->in = prepared;
    enh_status s = enh_model_cache_get(model, ctx->models_dir, &st->ctx.nn, &st->m, err);
    if (s != ENH_OK) {
        state_free(st);
        return s;
    }
    const enh_model_info *mi = enh_model_get_info(st->m);
    upscale_img_format(prepared, &st->fmt[0]);
    const upscale_img *f = &st->fmt[0];
    st->S = mi->scale;
    if (st->S <= 0 || mi->in_channels != 3 || mi->out_channels != 3) {
        s = enh_fail(err, ENH_EUNSUPPORTED, "model %s is not an RGB super-resolution model", model);
        goto fail;
    }
    if (f->bands < 1 || f->bands > 4 || (vips_image_get_format(prepared) != VIPS_FORMAT_UCHAR && !f->depth16)) {
        s = enh_fail(err, ENH_EINTERNAL, "upscale stream: unprepared input (%d bands)", f->bands);
        goto fail;
    }
    st->OW = f->w * st->S;
    st->OH = f->h * st->S;
    if ((long long)st->OW * st->OH > MAX_OUT_PIXELS) {
        s = enh_fail(err, ENH_ETOOBIG, "the upscaled image would be %dx%d, more than the limit of %lld megapixels",
                     st->OW, st->OH, MAX_OUT_PIXELS >> 20);
        goto fail;
    }
    st->passes = 1;
    if (f->bands == 2 || f->bands == 4) {
        int c = alpha_constant(prepared, &st->alpha_value);
        if (c < 0) {
            s = vips_fail(err, "cannot read the alpha band for upscaling");
            goto fail;
        }
        st->alpha_const = c;
        st->passes = c ? 1 : 2;
    }
    st->fmt[1] = st->fmt[0];
    st->fmt[1].alpha_pass = 1;
    st->row_bytes = (size_t)st->OW * f->bands * (f->depth16 ? 2 : 1);
    st->cache = *f;
    st->cache.w = st->OW;

    enh_tiler_opts *o = &st->o;
    enh_tiler_opts_init(o);
    o->tile = ctx->tile_size;
    o->memory_limit = ctx->memory_limit ? ctx->memory_limit : ENH_TILER_DEFAULT_MEMORY;
    o->memory_limit /= (size_t)st->passes; /* both passes' buffers live at once */
    o->pool = ctx->pool;
    o->cancel = ctx->cancel;
    o->deadline = ctx->deadline;
    o->runner = ctx->tile_runner;
    o->runner_user = ctx->tile_runner_user;
    enh_model_cache_release(st->m);
    st->m = NULL;
    VipsImage *img = vips_image_new();
    if (vips_image_pipelinev(img, VIPS_DEMAND_STYLE_FATSTRIP, prepared, NULL)) {
        g_object_unref(img);
        s = vips_fail(err, "cannot set up the upscaled image");
        goto fail;
    }
    /* header of the input (interpretation, resolution, EXIF/ICC/XMP...) at the new size */
    vips_image_init_fields(img, st->OW, st->OH, f->bands, vips_image_get_format(prepared), VIPS_CODING_NONE,
                           vips_image_get_interpretation(prepared), prepared->Xres, prepared->Yres);
    img->Xoffset = img->Yoffset = 0;
    vips_image_remove(img, VIPS_META_PAGE_HEIGHT);
    vips_image_remove(img, VIPS_META_N_PAGES);
    int tw, th;
    vips_get_tile_size(img, &tw, &th, &st->sink_lines);
    /* plan (tile side, budget, allocations) now, so that errors come from the stage; the
     * memory is taken again when the pixels are asked for */
    /* the budget covers the tiler's buffers of every pass and the row cache: a smaller
     * tile when the cache does not fit beside them (it shrinks with the tile) */
    size_t budget = o->memory_limit * (size_t)st->passes;
    for (int tries = 0;; tries++) {
        if ((s = acquire(st, err)) != ENH_OK) {
            g_object_unref(img);
            goto fail;
        }
        size_t cache = (size_t)st->cap * st->row_bytes, total = st->planned * st->passes + cache;
        if (ctx->tile_size > 0 || total <= budget || cache >= budget || tries == 6)
            break;
        release(st);
        size_t over = total - budget;
        o->memory_limit = o->memory_limit > over ? o->memory_limit - over : o->memory_limit / 2;
        o->tile = 0;
        st->cap = 0;
    }
    info->tile = st->o.tile;
    info->tiles = enh_tiler_stream_tiles(st->ts[0]) * st->passes;
    info->passes = st->passes;
    info->cache_bytes = (size_t)st->cap * st->row_bytes;
    release(st);

    g_object_set_data_full(G_OBJECT(img), STATE_KEY, st, state_free);
    g_signal_connect(img, "minimise", G_CALLBACK(on_minimise), st);
    if (vips_image_generate(img, s_start, s_gen, s_stop, st, NULL)) {
        g_object_unref(img); /* frees st */
        return vips_fail(err, "cannot set up the upscaled image");
    }
    capture(img);
    *out = img;
    return ENH_OK;
fail:
    state_free(st);
    return s;
}

static ustream *state_of(VipsImage *img)
{
    return img ? g_object_get_data(G_OBJECT(img), STATE_KEY) : NULL;
}

enh_status upscale_stream_status(VipsImage *img, enh_error *err)
{
    ustream *st = state_of(img);
    if (!st)
        return ENH_OK;
    pthread_mutex_lock(&st->mu);
    enh_status s = st->failed;
    if (s != ENH_OK && err)
        *err = st->fail_err;
    pthread_mutex_unlock(&st->mu);
    return s;
}

int upscale_stream_tiles_run(VipsImage *img)
{
    ustream *st = state_of(img);
    if (!st)
        return 0;
    pthread_mutex_lock(&st->mu);
    int n = st->tiles_run;
    pthread_mutex_unlock(&st->mu);
    return n;
}

enh_status upscale_stream_materialise(VipsImage *lazy, VipsImage **out, enh_error *err)
{
    *out = vips_image_copy_memory(lazy);
    if (*out)
        return ENH_OK;
    enh_status s = upscale_stream_status(lazy, err);
    if (s != ENH_OK) {
        vips_error_clear();
        return s;
    }
    return vips_fail(err, "cannot compute the upscaled image");
}
