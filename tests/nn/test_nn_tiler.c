/* test_nn_tiler.c - the tiler on a small synthetic SR model (fast, runs under ASan):
 * exact tiling == whole image (and fails when the overlap is one pixel short), feathered
 * blending, batching, the tile runner hook, ENOMEM retry with a smaller tile, memory-limit
 * sizing, cancellation, deadline and progress. */
#include <stdatomic.h>

#include "../check.h"
#include "core/fsutil.h"
#include "nn/tiler.h"
#include "nn_util.h"

static int runner_calls, runner_tiles;
static enh_status counting_runner(void *user, struct enh_model *m, const float *in, int n, int c, int h, int w,
                                  float *out, enh_error *err)
{
    (void)user;
    (void)c;
    runner_calls++;
    runner_tiles += n;
    return enh_model_run(m, in, n, h, w, out, NULL, err);
}

static double last_progress;
static int progress_calls;
static void on_progress(void *user, double f)
{
    (void)user;
    CHECK(f >= last_progress && f <= 1.0);
    last_progress = f;
    progress_calls++;
}

int main(void)
{
    nn_seed(7);
    enh_error err;
    enh_model *m;
    const int depth = 5;
    CHECK(enh_model_from_graph(nn_small_sr(depth, 8), &m, &err) == ENH_OK);
    const enh_model_info *info = enh_model_get_info(m);
    CHECK(info->scale == 2);
    CHECK_MSG(info->receptive_radius == depth, "radius %d", info->receptive_radius);
    const int W = 53, H = 38, S = 2, OW = W * S, OH = H * S;
    size_t nin = (size_t)3 * W * H, nout = (size_t)3 * OW * OH;
    float *in = nn_rand_buf(nin, 1.f), *whole = enh_alloc(nout * 4), *tiled = enh_alloc(nout * 4);
    for (size_t i = 0; i < nin; i++)
        in[i] = in[i] * 0.5f + 0.5f;
    CHECK(enh_model_run(m, in, 1, H, W, whole, NULL, &err) == ENH_OK);
    for (size_t i = 0; i < nout; i++) /* the tiler clamps */
        whole[i] = whole[i] < 0 ? 0 : whole[i] > 1 ? 1 : whole[i];

    enh_tiler_opts o;
    enh_tiler_stats st;
    /* exact: several tile sizes (sides not multiples of the tile), batch 1 and 3 */
    int tiles[] = {7, 11, 16, 20, 64};
    for (int i = 0; i < 5; i++)
        for (int batch = 1; batch <= 3; batch += 2) {
            enh_tiler_opts_init(&o);
            o.tile = tiles[i];
            o.batch = batch;
            memset(tiled, 0xff, nout * 4);
            CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
            CHECK(st.overlap == depth && !st.feathered);
            double d = nn_max_diff(whole, tiled, nout);
            CHECK_MSG(d <= 1e-5, "tile %d batch %d: max diff %g", tiles[i], batch, d);
        }
    /* one pixel less context than the receptive field must show (the test can fail) */
    enh_tiler_opts_init(&o);
    o.tile = 11;
    o.overlap = depth - 1;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
    CHECK_MSG(nn_max_diff(whole, tiled, nout) > 1e-4, "overlap < radius went unnoticed");

    /* feathered: blending is a partition of unity -> close to whole, not exact */
    enh_tiler_opts_init(&o);
    o.tile = 16;
    o.feather = 1;
    o.overlap = 4;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
    CHECK(st.feathered && st.overlap == 4);
    double df = nn_max_diff(whole, tiled, nout);
    CHECK_MSG(df < 0.2, "feathered diff %g", df);
    /* feathered with overlap >= 2 * radius is exact again (ramps sit in fully valid context) */
    o.overlap = 2 * depth + 2;
    o.tile = 2 * o.overlap;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
    CHECK_MSG(nn_max_diff(whole, tiled, nout) <= 1e-5, "feathered wide overlap diff %g", nn_max_diff(whole, tiled, nout));

    /* runner hook + progress */
    enh_tiler_opts_init(&o);
    o.tile = 16;
    o.batch = 2;
    o.runner = counting_runner;
    o.progress = on_progress;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
    CHECK(runner_tiles == st.tiles && st.tiles == 4 * 3);
    CHECK(runner_calls == 2 * 3);
    CHECK(progress_calls == runner_calls && last_progress == 1.0);
    CHECK(nn_max_diff(whole, tiled, nout) <= 1e-5);

    /* allocation failure -> retried with a smaller tile, still exact */
    enh_tiler_opts_init(&o);
    o.tile = 64;
    size_t ws_big = enh_model_workspace_bytes(m, 1, H, W);
    enh_mem_set_fail_above(ws_big / 2);
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
    enh_mem_set_fail_above(0);
    CHECK_MSG(st.retries > 0 && st.tile < 64, "retries %d tile %d", st.retries, st.tile);
    CHECK(nn_max_diff(whole, tiled, nout) <= 1e-5);
    /* ... and a clear error when even the smallest tile cannot be allocated */
    enh_mem_set_fail_above(1024);
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_ENOMEM);
    enh_mem_set_fail_above(0);

    /* tile size from the memory budget */
    enh_tiler_opts_init(&o);
    size_t need16 = enh_tiler_plan_bytes(m, W, H, 16, depth, 0, 1);
    o.memory_limit = need16;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_OK);
    CHECK_MSG(st.tile <= 16 && st.planned_bytes <= need16, "tile %d planned %zu limit %zu", st.tile, st.planned_bytes, need16);
    CHECK(nn_max_diff(whole, tiled, nout) <= 1e-5);
    o.memory_limit = 1000;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_ETOOBIG);
    CHECK(strstr(err.msg, "memory limit") != NULL);

    /* cancel and deadline */
    atomic_int cancel = 1;
    enh_tiler_opts_init(&o);
    o.tile = 16;
    o.cancel = &cancel;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_ECANCELLED);
    enh_tiler_opts_init(&o);
    o.tile = 16;
    o.deadline = enh_now() - 1;
    CHECK(enh_tiler_run_planar(m, in, W, H, tiled, &o, &st, &err) == ENH_ETIMEOUT);

    /* image smaller than one tile, 1-pixel image */
    enh_tiler_opts_init(&o);
    float one[3] = {0.2f, 0.5f, 0.9f}, one_out[12], one_whole[12];
    CHECK(enh_tiler_run_planar(m, one, 1, 1, one_out, &o, &st, &err) == ENH_OK);
    CHECK(enh_model_run(m, one, 1, 1, 1, one_whole, NULL, &err) == ENH_OK);
    for (int i = 0; i < 12; i++)
        one_whole[i] = one_whole[i] < 0 ? 0 : one_whole[i] > 1 ? 1 : one_whole[i];
    CHECK(nn_max_diff(one_out, one_whole, 12) <= 1e-6);

    enh_free(in);
    enh_free(whole);
    enh_free(tiled);
    enh_model_free(m);
    CHECK_MAIN_END();
}
