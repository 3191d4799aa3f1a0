/* test_pipeline_stream.c - enh_pipeline_run with a tile runner (as the server installs one to
 * batch tiles) keeps the AI upscale lazy (pipeline.h):
 *  1. no tile runs inside enh_pipeline_run; report.tiles_pending == report.tiles > 0; the
 *     runner is called while the result is encoded (PNG to memory), one pass, and the pixels
 *     equal those of a run without a runner;
 *  2. when a later stage reads the upscaled image twice (smart crop), the stage computes it
 *     inside enh_pipeline_run: every tile there, none pending, none more while encoding;
 *  3. a cancel set while the result is encoded stops the runner's work: the encode fails;
 *  4. saved to a file with enh_pipeline_save_file (what the CLI does), a lazy stage's failure
 *     during the save is reported with its own status and message: a model run that fails
 *     for lack of memory is ENH_ENOMEM and a deadline that passes is ENH_ETIMEOUT, where the
 *     saver alone says ENH_EINTERNAL / ENH_EIO; the file is not written.
 * A small synthetic ncnn model (tests/nn/ncnn_synth.h, x2, written to a temporary folder)
 * keeps it fast under ASan. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "../check.h"
#include "../nn/ncnn_synth.h"
#include "core/fsutil.h"
#include "core/pool.h"
#include "enhance/pipeline.h"
#include "image/image_encode.h"
#include "nn/model_cache.h"
#include "nn/nn.h"

typedef struct counter {
    atomic_int tiles;  /* tiles the runner ran */
    atomic_int calls;
} counter;

static enh_status count_runner(void *user, struct enh_model *model, const float *in, int n, int c, int h, int w,
                               float *out, enh_error *err)
{
    (void)c;
    counter *k = user;
    atomic_fetch_add(&k->calls, 1);
    atomic_fetch_add(&k->tiles, n);
    return enh_model_run(model, in, n, h, w, out, NULL, err);
}

static VipsImage *make_image(int w, int h)
{
    size_t n = (size_t)w * h * 3;
    unsigned char *buf = g_malloc(n);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int b = 0; b < 3; b++)
                buf[((size_t)y * w + x) * 3 + b] =
                    (unsigned char)(127.5 + 110 * sin(0.37 * x + 1.1 * b) * cos(0.23 * y - 0.4 * b));
    VipsImage *im = vips_image_new_from_memory_copy(buf, n, w, h, 3, VIPS_FORMAT_UCHAR);
    g_free(buf);
    VipsImage *t = NULL;
    vips_copy(im, &t, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(im);
    return t;
}

static void *encode_png(VipsImage *img, size_t *len, enh_status *st, enh_error *err)
{
    enh_save_opts o;
    enh_save_opts_init(&o);
    o.format = ENH_FORMAT_PNG;
    void *buf = NULL;
    *len = 0;
    *st = enh_image_save_buffer(img, &o, &buf, len, err);
    return buf;
}

static VipsImage *run(VipsImage *in, const enh_ops *ops, counter *k, atomic_int *cancel, enh_pipeline_report *rep,
                      enh_status *st, enh_error *err)
{
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.tile_size = 16; /* several tile rows */
    ctx.cancel = cancel;
    if (k) {
        ctx.tile_runner = count_runner;
        ctx.tile_runner_user = k;
    }
    VipsImage *out = NULL;
    *st = enh_pipeline_run(in, ops, &ctx, &out, rep, err);
    return out;
}

/* an AI upscale with the synthetic model at `param` */
static void photo_ops(enh_ops *ops, const char *param)
{
    enh_ops_init(ops);
    ops->upscale = ENH_UPSCALE_PHOTO;
    snprintf(ops->model, sizeof ops->model, "%.63s", param);
}

static void test_lazy(VipsImage *in, const char *param)
{
    enh_ops ops;
    photo_ops(&ops, param);
    counter k = {0, 0};
    enh_pipeline_report rep;
    enh_error err;
    enh_status st;
    VipsImage *out = run(in, &ops, &k, NULL, &rep, &st, &err);
    CHECK_MSG(st == ENH_OK && out, "%s", err.msg);
    if (!out)
        return;
    CHECK_MSG(atomic_load(&k.tiles) == 0, "%d tiles ran inside enh_pipeline_run (the upscale was materialised)",
              atomic_load(&k.tiles));
    CHECK_MSG(rep.tiles > 4 && rep.tiles_pending == rep.tiles, "tiles %d, pending %d", rep.tiles, rep.tiles_pending);
    CHECK(vips_image_get_width(out) == 2 * vips_image_get_width(in));
    size_t len = 0;
    void *png = encode_png(out, &len, &st, &err);
    CHECK_MSG(st == ENH_OK && len > 0, "%s", err.msg);
    CHECK_MSG(atomic_load(&k.tiles) == rep.tiles, "the encode ran %d tiles through the runner, one pass is %d",
              atomic_load(&k.tiles), rep.tiles);
    g_object_unref(out);

    /* the same pixels as without a runner */
    VipsImage *ref = run(in, &ops, NULL, NULL, &rep, &st, &err);
    size_t rlen = 0;
    void *rpng = ref ? encode_png(ref, &rlen, &st, &err) : NULL;
    CHECK_MSG(rpng && png && rlen == len && !memcmp(png, rpng, len), "the runner's result differs (%zu vs %zu bytes)",
              len, rlen);
    if (ref)
        g_object_unref(ref);
    g_free(png);
    g_free(rpng);
}

static void test_materialised(VipsImage *in, const char *param)
{
    enh_ops ops;
    photo_ops(&ops, param);
    ops.width = ops.height = 50;
    ops.fit = ENH_FIT_COVER;
    ops.gravity = ENH_GRAVITY_SMART; /* reads the upscaled image to choose the crop */
    counter k = {0, 0};
    enh_pipeline_report rep;
    enh_error err;
    enh_status st;
    VipsImage *out = run(in, &ops, &k, NULL, &rep, &st, &err);
    CHECK_MSG(st == ENH_OK && out, "%s", err.msg);
    if (!out)
        return;
    int ran = atomic_load(&k.tiles);
    CHECK_MSG(rep.tiles > 4 && ran == rep.tiles && rep.tiles_pending == 0, "tiles %d, ran %d, pending %d", rep.tiles,
              ran, rep.tiles_pending);
    size_t len = 0;
    void *png = encode_png(out, &len, &st, &err);
    CHECK_MSG(st == ENH_OK && len > 0, "%s", err.msg);
    CHECK_MSG(atomic_load(&k.tiles) == ran, "%d more tiles while encoding", atomic_load(&k.tiles) - ran);
    g_free(png);
    g_object_unref(out);
}

static void test_cancel(VipsImage *in, const char *param)
{
    enh_ops ops;
    photo_ops(&ops, param);
    counter k = {0, 0};
    atomic_int cancel = 0;
    enh_pipeline_report rep;
    enh_error err;
    enh_status st;
    VipsImage *out = run(in, &ops, &k, &cancel, &rep, &st, &err);
    CHECK_MSG(st == ENH_OK && out, "%s", err.msg);
    if (!out)
        return;
    atomic_store(&cancel, 1); /* the tiler sees it before its first tile */
    size_t len = 0;
    void *png = encode_png(out, &len, &st, &err);
    CHECK_MSG(st != ENH_OK && !png, "the encode went on after the cancel (%d)", (int)st);
    CHECK_MSG(atomic_load(&k.tiles) < rep.tiles, "%d of %d tiles ran after the cancel", atomic_load(&k.tiles),
              rep.tiles);
    g_free(png);
    g_object_unref(out);
}

/* a runner whose model runs fail for lack of memory after `ok` tiles */
typedef struct failing {
    atomic_int calls;
    int ok;
} failing;

static enh_status failing_runner(void *user, struct enh_model *model, const float *in, int n, int c, int h, int w,
                                 float *out, enh_error *err)
{
    (void)c;
    failing *f = user;
    if (atomic_fetch_add(&f->calls, 1) >= f->ok)
        return enh_fail(err, ENH_ENOMEM, "the model needs 123 MiB of activations, 12 MiB are left");
    return enh_model_run(model, in, n, h, w, out, NULL, err);
}

static void test_save_status(VipsImage *in, const char *param, const char *dir)
{
    enh_ops ops;
    photo_ops(&ops, param);
    enh_save_opts so;
    enh_save_opts_init(&so);
    so.format = ENH_FORMAT_PNG;
    char path[256];
    snprintf(path, sizeof path, "%s/saved.png", dir);
    for (int pass = 0; pass < 2; pass++) { /* the saver alone, then enh_pipeline_save_file */
        failing f = {0, 2};
        enh_pipeline_ctx ctx;
        enh_pipeline_ctx_init(&ctx);
        ctx.tile_size = 16;
        ctx.tile_runner = failing_runner;
        ctx.tile_runner_user = &f;
        VipsImage *out = NULL;
        enh_pipeline_report rep;
        enh_error err;
        enh_status st = enh_pipeline_run(in, &ops, &ctx, &out, &rep, &err);
        CHECK_MSG(st == ENH_OK && out && rep.tiles_pending > 2, "%s", err.msg);
        if (!out)
            return;
        st = pass ? enh_pipeline_save_file(out, path, &so, &err) : enh_image_save_file(out, path, &so, &err);
        if (pass)
            CHECK_MSG(st == ENH_ENOMEM && strstr(err.msg, "123 MiB") && strstr(err.msg, "saved.png"),
                      "a failed model run while saving: %s (%s)", enh_status_name(st), err.msg);
        else
            CHECK_MSG(st == ENH_EINTERNAL || st == ENH_EIO, "the saver alone: %s (%s)", enh_status_name(st), err.msg);
        CHECK(access(path, F_OK) != 0);
        g_object_unref(out);
    }
    /* a deadline that passes between the pipeline call and the save */
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.tile_size = 16;
    ctx.deadline = enh_now() + 0.3;
    VipsImage *out = NULL;
    enh_error err;
    enh_status st = enh_pipeline_run(in, &ops, &ctx, &out, NULL, &err);
    CHECK_MSG(st == ENH_OK && out, "%s", err.msg);
    if (!out)
        return;
    while (enh_now() < ctx.deadline + 0.05)
        usleep(10000);
    st = enh_pipeline_save_file(out, path, &so, &err);
    CHECK_MSG(st == ENH_ETIMEOUT, "a deadline while saving: %s (%s)", enh_status_name(st), err.msg);
    CHECK(access(path, F_OK) != 0);
    g_object_unref(out);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT(argv[0]))
        return 1;
    char dir[64], param[128], bin[128];
    snprintf(dir, sizeof dir, "/tmp/enh_pstream_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    if (!synth_write_files(dir, param, bin, sizeof param))
        return 1;

    VipsImage *in = make_image(61, 47);
    test_lazy(in, param);
    test_materialised(in, param);
    test_cancel(in, param);
    test_save_status(in, param, dir);
    g_object_unref(in);

    CHECK(enh_model_cache_clear() == 0); /* encoded and unreferenced results keep no model */
    unlink(param);
    unlink(bin);
    rmdir(dir);
    vips_shutdown();
    CHECK_MAIN_END();
}
