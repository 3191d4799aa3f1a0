/* test_upscale_stream.c - the lazily streamed upscale (upscale_stream.h, tiler streams).
 *  1. tiler streams: stepping from the top and after seeks to arbitrary rows gives rows
 *     bit-identical to enh_tiler_run, exact and feathered;
 *  2. the upscale stage's lazy result == the materialised result of the previous code path
 *     (upscale_io + enh_tiler_run into one buffer), bit for bit, on odd sizes with several
 *     tile rows: RGB, RGBA (varying and constant alpha), grey 16-bit, RGBA 16-bit; read
 *     whole (libvips threads), region by region bottom to top (restarts), and streamed to
 *     a PNG file and decoded again;
 *  3. a cancel after the first tile row fails the save with ENH_ECANCELLED and leaves no file
 *     (nor a temporary one), also for the eager path (ENH_ECANCELLED from the stage);
 *  4. the memory is given back: no model reference is left behind by consumed images.
 * A small synthetic ncnn model (written to a temporary folder) keeps it fast under ASan;
 * the installed realesrgan-x4fast is used for one more case when present. */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <vips/vips.h>

#include "../check.h"
#include "core/mem.h"
#include "enhance/stages.h"
#include "enhance/upscale_io.h"
#include "enhance/upscale_stream.h"
#include "image/image_encode.h"
#include "nn/model.h"
#include "nn/model_cache.h"
#include "nn/tiler.h"
#include "ncnn_synth.h"
#include "nn_util.h"

/* ---- 1. tiler streams ---- */

typedef struct {
    float *out;
    int OW, OH, first, calls, in_order, next;
} collect;

static enh_status collect_emit(void *user, int y, int rows, int ow, int c, const float *data, size_t stride,
                               enh_error *err)
{
    (void)err;
    collect *k = user;
    if (k->calls++ == 0)
        k->first = y;
    else if (y != k->next)
        k->in_order = 0;
    k->next = y + rows;
    for (int ch = 0; ch < c; ch++)
        memcpy(k->out + ((size_t)ch * k->OH + y) * ow, data + ch * stride, (size_t)rows * ow * sizeof *data);
    return ENH_OK;
}

typedef struct {
    const float *in;
    int w, h;
    collect *k;
} src_planar;

static enh_status planar_fetch(void *user, int x, int y, int w, int h, int c, float *dst, enh_error *err)
{
    (void)err;
    const src_planar *p = user;
    for (int k = 0; k < c; k++)
        for (int r = 0; r < h; r++)
            memcpy(dst + ((size_t)k * h + r) * w, p->in + ((size_t)k * p->h + y + r) * p->w + x, (size_t)w * 4);
    return ENH_OK;
}

static enh_status planar_emit(void *user, int y, int rows, int ow, int c, const float *data, size_t stride,
                              enh_error *err)
{
    return collect_emit(((src_planar *)user)->k, y, rows, ow, c, data, stride, err);
}

/* rows [from, OH) of a and b (3 planes of OW x OH) are equal bit for bit */
static int rows_equal(const float *a, const float *b, int OW, int OH, int from)
{
    for (int c = 0; c < 3; c++)
        if (memcmp(a + ((size_t)c * OH + from) * OW, b + ((size_t)c * OH + from) * OW,
                   (size_t)(OH - from) * OW * sizeof *a))
            return 0;
    return 1;
}

static void test_tiler_stream(void)
{
    nn_seed(11);
    enh_error err;
    enh_model *m;
    CHECK(enh_model_from_graph(nn_small_sr(5, 8), &m, &err) == ENH_OK);
    const int W = 53, H = 38, S = 2, OW = W * S, OH = H * S;
    float *in = nn_rand_buf((size_t)3 * W * H, 1.f);
    for (size_t i = 0; i < (size_t)3 * W * H; i++)
        in[i] = in[i] * 0.5f + 0.5f;
    float *ref = enh_alloc((size_t)3 * OW * OH * 4), *got = enh_alloc((size_t)3 * OW * OH * 4);
    for (int feather = 0; feather <= 1; feather++) {
        enh_tiler_opts o;
        enh_tiler_opts_init(&o);
        o.tile = 7;
        o.feather = feather;
        if (feather) {
            o.overlap = 4; /* < the radius: blending really matters */
            o.feather_ramp = 2;
            o.tile = 9;
        }
        CHECK(enh_tiler_run_planar(m, in, W, H, ref, &o, NULL, &err) == ENH_OK);
        collect k = {got, OW, OH, 0, 0, 1, 0};
        src_planar sp = {in, W, H, &k};
        enh_tiler_stream *s = NULL;
        enh_tiler_stats st;
        CHECK_MSG(enh_tiler_stream_open(m, W, H, planar_fetch, planar_emit, &sp, &o, &s, &st, &err) == ENH_OK, "%s",
                  err.msg);
        if (!s)
            continue;
        CHECK(enh_tiler_stream_rows(s) >= 4 && st.tile == o.tile && st.tiles == enh_tiler_stream_tiles(s));
        memset(got, 0xff, (size_t)3 * OW * OH * 4);
        while (enh_tiler_stream_next_row(s) < enh_tiler_stream_rows(s))
            CHECK(enh_tiler_stream_step(s, &err) == ENH_OK);
        CHECK(k.first == 0 && k.in_order && k.next == OH && enh_tiler_stream_emitted(s) == OH);
        CHECK_MSG(rows_equal(ref, got, OW, OH, 0), "feather %d: streamed != enh_tiler_run", feather);
        /* restarts: every target row, rows from the restart row on are identical */
        int bad = 0, late = 0;
        for (int y = 0; y < OH; y += 3) {
            memset(got, 0xff, (size_t)3 * OW * OH * 4);
            k = (collect){got, OW, OH, 0, 0, 1, 0};
            int from = enh_tiler_stream_seek(s, y);
            late += from > y;
            while (enh_tiler_stream_next_row(s) < enh_tiler_stream_rows(s))
                CHECK(enh_tiler_stream_step(s, &err) == ENH_OK);
            bad += !(k.first == from && k.in_order && k.next == OH && rows_equal(ref, got, OW, OH, from));
        }
        CHECK_MSG(bad == 0 && late == 0, "feather %d: %d seeks differ, %d start late", feather, bad, late);
        /* a seek near the end does not restart from the top */
        CHECK(enh_tiler_stream_seek(s, OH - 1) > 0);
        enh_tiler_stream_close(s);
    }
    enh_free(ref);
    enh_free(got);
    enh_free(in);
    enh_model_free(m);
}

/* ---- 2. the stage's lazy output vs the materialised path ---- */

static VipsImage *make_image(int w, int h, int bands, int wide, int alpha_kind)
{
    size_t n = (size_t)w * h * bands;
    void *buf = g_malloc(n * (wide ? 2 : 1));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int b = 0; b < bands; b++) {
                double v = 0.5 + 0.45 * sin(0.41 * x + 1.3 * b + 0.05 * x * y / (1 + b)) * cos(0.29 * y - 0.5 * b);
                if ((bands == 2 || bands == 4) && b == bands - 1)
                    v = alpha_kind == 0 ? 0.8 : (x > w / 2 ? 1.0 : 0.05 + 0.015 * y);
                size_t i = ((size_t)y * w + x) * bands + b;
                if (wide)
                    ((unsigned short *)buf)[i] = (unsigned short)(v * 65535 + 0.5);
                else
                    ((unsigned char *)buf)[i] = (unsigned char)(v * 255 + 0.5);
            }
    VipsImage *im = vips_image_new_from_memory_copy(buf, n * (wide ? 2 : 1), w, h, bands,
                                                    wide ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR);
    g_free(buf);
    VipsInterpretation it = bands >= 3 ? (wide ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB)
                                       : (wide ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W);
    VipsImage *t;
    vips_copy(im, &t, "interpretation", it, NULL);
    g_object_unref(im);
    return t;
}

typedef struct {
    upscale_img *src, *dst;
} io_pair;

static enh_status pair_fetch(void *u, int x, int y, int w, int h, int c, float *d, enh_error *e)
{
    return upscale_fetch(((io_pair *)u)->src, x, y, w, h, c, d, e);
}

static enh_status pair_emit(void *u, int y, int rows, int ow, int c, const float *d, size_t s, enh_error *e)
{
    return upscale_emit(((io_pair *)u)->dst, y, rows, ow, c, d, s, e);
}

/* The whole output in one buffer, as the stage computed it before streaming. */
static VipsImage *materialised(VipsImage *in, const char *model, int tile)
{
    enh_error err;
    upscale_img src, dst;
    VipsImage *prepared = NULL, *out = NULL;
    enh_model *m = NULL;
    if (upscale_src_load(in, &src, &prepared, &err) || enh_model_cache_get(model, NULL, NULL, &m, &err)) {
        fprintf(stderr, "reference: %s\n", err.msg);
        return NULL;
    }
    int S = enh_model_get_info(m)->scale;
    CHECK(upscale_dst_alloc(&src, src.w * S, src.h * S, &dst, &err) == ENH_OK);
    unsigned av = 0;
    int alpha = src.bands == 2 || src.bands == 4, ac = alpha && upscale_alpha_constant(&src, &av);
    for (int pass = 0; pass < (alpha && !ac ? 2 : 1); pass++) {
        src.alpha_pass = dst.alpha_pass = pass;
        enh_tiler_opts o;
        enh_tiler_opts_init(&o);
        o.tile = tile;
        io_pair io = {&src, &dst};
        CHECK(enh_tiler_run(m, src.w, src.h, pair_fetch, pair_emit, &io, &o, NULL, &err) == ENH_OK);
    }
    if (ac)
        upscale_fill_alpha(&dst, av);
    CHECK(upscale_dst_to_vips(&dst, prepared, &out, &err) == ENH_OK);
    upscale_img_free(&src);
    upscale_img_free(&dst);
    g_object_unref(prepared);
    enh_model_cache_release(m);
    return out;
}

static VipsImage *stage(VipsImage *in, const char *model, enh_pipeline_ctx *ctx, int eager, enh_pipeline_report *rep,
                        enh_status *st, enh_error *err)
{
    enh_ops ops;
    enh_ops_init(&ops);
    ops.upscale = ENH_UPSCALE_PHOTO;
    ops.auto_color = eager; /* a later stage reads it twice: the stage computes it itself */
    snprintf(ops.model, sizeof ops.model, "%s", model);
    VipsImage *out = NULL;
    memset(rep, 0, sizeof *rep);
    *st = enh_stage_upscale(in, &ops, ctx, &out, rep, err);
    return out;
}

static int same_pixels(VipsImage *a, VipsImage *b)
{
    if (vips_image_get_width(a) != vips_image_get_width(b) || vips_image_get_height(a) != vips_image_get_height(b) ||
        vips_image_get_bands(a) != vips_image_get_bands(b) || vips_image_get_format(a) != vips_image_get_format(b))
        return 0;
    size_t na = 0, nb = 0;
    void *pa = vips_image_write_to_memory(a, &na), *pb = vips_image_write_to_memory(b, &nb);
    int eq = pa && pb && na == nb && !memcmp(pa, pb, na);
    g_free(pa);
    g_free(pb);
    return eq;
}

/* reads `lazy` in strips of `step` rows from the bottom up (each above the cache) */
static int same_bottom_up(VipsImage *lazy, VipsImage *ref, int step)
{
    size_t n = 0;
    unsigned char *rp = vips_image_write_to_memory(ref, &n);
    VipsRegion *reg = vips_region_new(lazy);
    int W = vips_image_get_width(ref), H = vips_image_get_height(ref), eq = rp != NULL;
    size_t px = VIPS_IMAGE_SIZEOF_PEL(ref);
    for (int y = H; eq && y > 0; y -= step) {
        int top = y - step < 0 ? 0 : y - step, left = (y / step) % 3; /* some regions not from column 0 */
        VipsRect r = {left, top, W - left, y - top};
        if (vips_region_prepare(reg, &r)) {
            eq = 0;
            break;
        }
        for (int row = top; eq && row < y; row++)
            eq = !memcmp(VIPS_REGION_ADDR(reg, left, row), rp + ((size_t)row * W + left) * px, (size_t)(W - left) * px);
    }
    g_object_unref(reg);
    g_free(rp);
    return eq;
}

static char g_dir[256];

static int dir_entries(void)
{
    DIR *d = opendir(g_dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "synth.param") &&
             strcmp(e->d_name, "synth.bin");
    if (d)
        closedir(d);
    return n;
}

static void test_stage_case(const char *model, const char *what, VipsImage *in, int tile, int png)
{
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.tile_size = tile;
    enh_pipeline_report rep;
    enh_error err;
    enh_status st;
    VipsImage *ref = materialised(in, model, tile);
    VipsImage *lazy = stage(in, model, &ctx, 0, &rep, &st, &err);
    CHECK_MSG(st == ENH_OK && lazy && ref, "%s: %s", what, err.msg);
    if (!lazy || !ref) {
        if (lazy)
            g_object_unref(lazy);
        if (ref)
            g_object_unref(ref);
        return;
    }
    upscale_stream_info info;
    VipsImage *prep, *probe;
    CHECK(upscale_prepare(in, &prep, &err) == ENH_OK);
    CHECK(upscale_stream_new(prep, model, &ctx, &probe, &info, &err) == ENH_OK);
    g_object_unref(prep);
    g_object_unref(probe);
    CHECK_MSG(info.tiles == rep.tiles && info.tiles / info.passes >= 6 && info.cache_bytes > 0, "%s: %d tiles", what,
              rep.tiles);
    CHECK(upscale_stream_tiles_run(lazy) == 0); /* nothing computed yet */
    CHECK(vips_image_get_interpretation(lazy) == vips_image_get_interpretation(ref));
    CHECK_MSG(same_pixels(lazy, ref), "%s: lazy (read whole) != materialised", what);
    CHECK_MSG(same_bottom_up(lazy, ref, 5), "%s: lazy (bottom-up regions) != materialised", what);
    CHECK(upscale_stream_tiles_run(lazy) > rep.tiles); /* the out-of-order reads recomputed rows */
    if (png) {
        char path[512];
        snprintf(path, sizeof path, "%s/out.png", g_dir);
        enh_save_opts so;
        enh_save_opts_init(&so);
        so.format = ENH_FORMAT_PNG;
        VipsImage *lazy2 = stage(in, model, &ctx, 0, &rep, &st, &err);
        CHECK_MSG(lazy2 && enh_image_save_file(lazy2, path, &so, &err) == ENH_OK, "%s: %s", what, err.msg);
        if (lazy2) {
            /* a sequential saver computes each tile row once */
            CHECK_MSG(upscale_stream_tiles_run(lazy2) == rep.tiles, "%s: %d tiles run for %d", what,
                      upscale_stream_tiles_run(lazy2), rep.tiles);
            g_object_unref(lazy2);
        }
        VipsImage *back = vips_image_new_from_file(path, NULL);
        CHECK_MSG(back && same_pixels(back, ref), "%s: PNG streamed to disk != materialised", what);
        if (back)
            g_object_unref(back);
        unlink(path);
    }
    /* eager (a later stage would read it twice): same pixels, computed in the stage */
    VipsImage *eager = stage(in, model, &ctx, 1, &rep, &st, &err);
    CHECK_MSG(st == ENH_OK && eager && same_pixels(eager, ref), "%s: eager != materialised (%s)", what, err.msg);
    if (eager)
        g_object_unref(eager);
    g_object_unref(lazy);
    g_object_unref(ref);
}

/* ---- 3. errors in the middle ---- */

typedef struct {
    atomic_int *flag;
    int rows;
} cancel_after;

static void cancel_on_progress(void *user, double f)
{
    (void)f;
    cancel_after *c = user;
    if (++c->rows >= 1)
        atomic_store(c->flag, 1);
}

static void test_cancel(const char *model, VipsImage *in)
{
    for (int share_flag = 0; share_flag <= 1; share_flag++) {
        atomic_int flag = 0;
        cancel_after ca = {&flag, 0};
        enh_pipeline_ctx ctx;
        enh_pipeline_ctx_init(&ctx);
        ctx.tile_size = 8;
        ctx.cancel = &flag;
        ctx.progress = cancel_on_progress;
        ctx.progress_user = &ca;
        enh_pipeline_report rep;
        enh_error err;
        enh_status st;
        VipsImage *lazy = stage(in, model, &ctx, 0, &rep, &st, &err);
        CHECK(st == ENH_OK && lazy);
        if (!lazy)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/cancelled.png", g_dir);
        enh_save_opts so;
        enh_save_opts_init(&so);
        so.format = ENH_FORMAT_PNG;
        so.cancel = share_flag ? &flag : NULL; /* the CLI shares it; a library caller may not */
        enh_error_clear(&err);
        st = enh_image_save_file(lazy, path, &so, &err);
        if (share_flag)
            CHECK_MSG(st == ENH_ECANCELLED, "save: %d %s", st, err.msg);
        else
            CHECK_MSG(st != ENH_OK && strstr(err.msg, "cancelled"), "save: %d %s", st, err.msg);
        enh_error e2;
        CHECK(upscale_stream_status(lazy, &e2) == ENH_ECANCELLED && strstr(e2.msg, "cancelled"));
        CHECK(ca.rows >= 1 && upscale_stream_tiles_run(lazy) < rep.tiles); /* stopped in the middle */
        CHECK_MSG(access(path, F_OK) != 0 && dir_entries() == 0, "a file was left behind in %s", g_dir);
        /* the failure sticks: reading again fails the same way, without running the model */
        int before = upscale_stream_tiles_run(lazy);
        size_t n;
        void *p = vips_image_write_to_memory(lazy, &n);
        CHECK(!p && upscale_stream_tiles_run(lazy) == before);
        g_free(p);
        vips_error_clear();
        g_object_unref(lazy);
    }
    /* eager path: the stage itself returns ENH_ECANCELLED */
    atomic_int flag = 0;
    cancel_after ca = {&flag, 0};
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.tile_size = 8;
    ctx.cancel = &flag;
    ctx.progress = cancel_on_progress;
    ctx.progress_user = &ca;
    enh_pipeline_report rep;
    enh_error err;
    enh_status st;
    VipsImage *o = stage(in, model, &ctx, 1, &rep, &st, &err);
    CHECK_MSG(st == ENH_ECANCELLED && !o && strstr(err.msg, "cancelled"), "eager: %d %s", st, err.msg);
    if (o)
        g_object_unref(o);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 1;
    test_tiler_stream();

    snprintf(g_dir, sizeof g_dir, "/tmp/enh_stream_XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    char param[600], bin[600];
    if (!synth_write_files(g_dir, param, bin, sizeof param))
        return 1;

    struct {
        const char *what;
        int bands, wide, alpha_kind, png;
    } cases[] = {
        {"rgb8", 3, 0, 0, 1},         {"rgba8 varying alpha", 4, 0, 1, 1}, {"rgba8 constant alpha", 4, 0, 0, 0},
        {"grey16", 1, 1, 0, 0},       {"rgba16 varying alpha", 4, 1, 1, 1}, {"grey8+alpha", 2, 0, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        VipsImage *in = make_image(61, 47, cases[i].bands, cases[i].wide, cases[i].alpha_kind);
        test_stage_case(param, cases[i].what, in, 8, cases[i].png);
        g_object_unref(in);
    }
    VipsImage *rgb = make_image(61, 47, 3, 0, 0);
    test_cancel(param, rgb);
    g_object_unref(rgb);

    /* the real model, when installed: odd size, several tile rows */
    char p2[4096], b2[4096];
    if (nn_find_model("realesrgan-x4fast", p2, b2, sizeof p2) == 0) {
        VipsImage *in = make_image(31, 23, 3, 0, 0); /* small: the model is slow under ASan */
        test_stage_case("realesrgan-x4fast", "x4fast rgb8", in, 10, 0);
        g_object_unref(in);
    } else {
        printf("note: realesrgan-x4fast is not installed; synthetic model only\n");
    }

    /* consumed and unreferenced images keep no model (their memory went back) */
    CHECK(enh_model_cache_clear() == 0);
    unlink(param);
    unlink(bin);
    rmdir(g_dir);
    vips_shutdown();
    CHECK_MAIN_END();
}
