/* Integration test of the server's lazily streamed AI upscale (test_serve_stream SERVER_CMD...),
 * with a small synthetic x2 ncnn model (tests/nn/ncnn_synth.h) served as a custom model:
 *  1. a model request's result equals the in-process pipeline's, pixel for pixel, and its
 *     tiles are counted (X-Tiles, enhance_tiles_total);
 *  2. bounded memory: the server's peak RSS (VmHWM, reset through /proc/PID/clear_refs) grows
 *     by less than the upscaled image's size for a 1200x5000 -> 2400x10000 request to PNG and
 *     to JPEG (the tiles are computed while the result is encoded, never held whole);
 *     release builds only (ASan's quarantine and shadow memory blur RSS);
 *  3. a deadline that passes while the streamed result is encoded (the model still running)
 *     answers 504 deadline_exceeded, and the server serves the next request. The deadline
 *     must pass after the pipeline call (decoding the 16 MP input comes first): 1 s (2 s
 *     under ASan), raised while the 504 says it passed before the encode, as on a loaded
 *     machine (doubled, or 1.5 times that answer's time if more; at most 3 times). The
 *     encode takes many seconds, and as much longer as the machine is slower: a 200 fails;
 *  4. a client that goes away meanwhile (its connection closed once the request computes) is
 *     counted cancelled, and the next request is served. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "../nn/ncnn_synth.h"
#include "core/fsutil.h"
#include "enhance/pipeline.h"
#include "serve_test.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static char g_param[160];

static int write_model(void)
{
    char bin[sizeof g_param];
    return synth_write_files(g_tmp, g_param, bin, sizeof g_param);
}

/* a smooth RGB pattern (w x h) as PNG */
static void *pattern_png(int w, int h, size_t *len)
{
    VipsImage *x = NULL, *t = NULL, *u = NULL;
    void *buf = NULL;
    *len = 0;
    vips_xyz(&x, w, h, NULL);
    VipsImage *b[3];
    vips_extract_band(x, &b[0], 0, NULL);
    vips_extract_band(x, &b[1], 1, NULL);
    vips_add(b[0], b[1], &b[2], NULL);
    vips_bandjoin(b, &t, 3, NULL);
    vips_linear1(t, &u, 3, 0, NULL);
    g_object_unref(t);
    vips_cast_uchar(u, &t, NULL); /* wraps: edges inside, several tiles of content */
    vips_pngsave_buffer(t, &buf, len, NULL);
    for (int i = 0; i < 3; i++)
        g_object_unref(b[i]);
    g_object_unref(x);
    g_object_unref(u);
    g_object_unref(t);
    return buf;
}

static void *black_png(int w, int h, size_t *len)
{
    VipsImage *big = NULL;
    void *buf = NULL;
    vips_black(&big, w, h, "bands", 3, NULL);
    vips_pngsave_buffer(big, &buf, len, "compression", 9, NULL);
    g_object_unref(big);
    return buf;
}

/* kB after "key:" in /proc/PID/status, -1 when not found */
static long status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':')
            v = strtol(line + kl + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* resets VmHWM to the current RSS (Linux >= 4.0); 1 on success */
static int reset_peak(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    int ok = fputs("5", f) >= 0;
    return !fclose(f) && ok;
}

/* the in-process pipeline's result for the same request, as 8-bit RGB bytes */
static int same_as_pipeline(const void *png, size_t len, const http_resp *r)
{
    VipsImage *in = vips_image_new_from_buffer(png, len, "", NULL);
    VipsImage *got = r->body ? vips_image_new_from_buffer(r->body, r->len, "", NULL) : NULL;
    enh_ops ops;
    enh_ops_init(&ops);
    ops.upscale = ENH_UPSCALE_PHOTO;
    snprintf(ops.model, sizeof ops.model, "%.63s", g_param);
    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.tile_size = 96; /* as the config: the same tiles, so the same seams */
    VipsImage *want = NULL;
    enh_error err;
    int eq = 0;
    if (in && got && enh_pipeline_run(in, &ops, &ctx, &want, NULL, &err) == ENH_OK) {
        size_t na = 0, nb = 0;
        void *a = vips_image_write_to_memory(want, &na), *b = vips_image_write_to_memory(got, &nb);
        eq = a && b && na == nb && !memcmp(a, b, na);
        if (!eq)
            fprintf(stderr, "server %zu bytes, pipeline %zu bytes\n", nb, na);
        g_free(a);
        g_free(b);
    }
    if (want)
        g_object_unref(want);
    if (in)
        g_object_unref(in);
    if (got)
        g_object_unref(got);
    return eq;
}

static void post(const test_server *s, const char *query, const void *body, size_t len, double timeout, http_resp *r)
{
    char q[256];
    snprintf(q, sizeof q, "/v1/enhance?upscale=photo&model=synth&%s", query);
    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(s, q), body, len, hdr, timeout, r);
}

static void test_stream(void)
{
    CHECK(write_model());
    char cfg[128], text[512];
    snprintf(cfg, sizeof cfg, "%s/models.json", g_tmp);
    snprintf(text, sizeof text,
             "{\"models\": [{\"name\": \"synth\", \"param\": \"%s\", \"tile_size\": 96, \"max_batch\": 2,"
             " \"max_queue_delay_ms\": 0}]}",
             g_param);
    CHECK(write_text(cfg, text));
    const char *args[] = {"--models-config", cfg, "--log-level", "warn", "--pipeline-threads", "1", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return;
    CHECK(test_server_wait_ready(&s, 60) == 0);

    /* 1. the streamed result is the pipeline's, its tiles counted */
    size_t plen = 0;
    void *png = pattern_png(200, 150, &plen);
    http_resp r;
    post(&s, "format=png", png, plen, 60, &r);
    CHECK_MSG(r.status == 200 && !strcmp(r.width, "400") && !strcmp(r.model, "synth"), "x2: %ld %s %s %.200s",
              r.status, r.width, r.model, r.status != 200 && r.body ? r.body : "");
    CHECK_MSG(same_as_pipeline(png, plen, &r), "the served image differs from the in-process pipeline's");
    http_resp_free(&r);
    double tiles = 0;
    CHECK(metric_value(&s, "enhance_tiles_total{model=\"synth\"} ", &tiles));
    CHECK_MSG(tiles == 6, "%g tiles (200x150 in tiles of 96: 3 x 2)", tiles); /* the warm-up tile is not counted */
    g_free(png);

    /* 2. peak RSS over a 2400x10000 result, far below the 69 MB the result holds as pixels */
    size_t blen = 0;
    void *big = black_png(1200, 5000, &blen); /* tall: the tiler's tile row and the row cache grow with the width */
    const char *formats[] = {"png", "jpeg"};
    for (int i = 0; i < 2 && !UNDER_ASAN; i++) {
        char q[64];
        snprintf(q, sizeof q, "format=%s", formats[i]);
        post(&s, "format=png", g_png, g_png_len, 60, &r); /* a small request first: threads and arenas exist */
        http_resp_free(&r);
        long rss0 = status_kb(s.pid, "VmRSS");
        CHECK(reset_peak(s.pid) && rss0 > 0);
        post(&s, q, big, blen, 120, &r);
        long hwm = status_kb(s.pid, "VmHWM");
        CHECK_MSG(r.status == 200 && !strcmp(r.width, "2400") && !strcmp(r.height, "10000"), "%s: %ld %s %s %.200s",
                  formats[i], r.status, r.width, r.height, r.status != 200 && r.body ? r.body : "");
        long image_kb = 2400L * 10000 * 3 / 1024;
        printf("%s: peak RSS %ld MB over %ld MB before the request (the result's pixels: %ld MB), %.2f s\n", formats[i],
               (hwm - rss0) / 1024, rss0 / 1024, image_kb / 1024, r.seconds);
        CHECK_MSG(hwm > 0 && hwm - rss0 < image_kb, "%s: the peak RSS grew by %ld kB, the result's pixels are %ld kB",
                  formats[i], hwm - rss0, image_kb);
        http_resp_free(&r);
    }
    if (UNDER_ASAN)
        printf("note: the peak RSS checks run in release builds only\n");

    /* 3. a deadline while the streamed result is encoded: 504, and the worker is free after */
    g_free(big);
    big = black_png(2000, 8000, &blen); /* 4000x16000: seconds of tiles to encode, a deadline well inside */
    int deadline_ms = UNDER_ASAN ? 2000 : 1000;
    int tries = post_until_encode_deadline(&s, "/v1/enhance?upscale=photo&model=synth&format=png&", big, blen, 120,
                                           &deadline_ms, &r);
    printf("deadline of %d ms: %ld after %.2f s\n", deadline_ms, r.status, r.seconds);
    CHECK_ERROR(&r, 504, "deadline_exceeded", "deadline of");
    CHECK_MSG(r.body && strstr(r.body, "while the result was encoded"), "not stopped while encoding: %.300s",
              r.body ? r.body : "");
    http_resp_free(&r);
    double n504 = 0;
    CHECK(metric_value(&s, "enhance_requests_total{model=\"synth\",outcome=\"failure\",reason=\"deadline_exceeded\"} ",
                       &n504) &&
          n504 == tries);
    post(&s, "format=png", g_png, g_png_len, 60, &r);
    CHECK_MSG(r.status == 200 && !strcmp(r.width, "64"), "after the 504: %ld %s", r.status, r.width);
    http_resp_free(&r);

    /* 4. a client that goes away while its streamed result is encoded: cancelled (499 in the
     * metrics, not a 500 from the stopped tiler), and the worker is free after. The client
     * goes away (closes its connection) once the request has left the queue (the pipeline
     * call of a lazy upscale takes milliseconds) and 300 ms more: inside the encode, which
     * takes seconds, on a loaded machine too; and before any answer came (checked). */
    int fd = raw_post(&s, "/v1/enhance?upscale=photo&model=synth&format=png", big, blen);
    CHECK(fd >= 0);
    double in = 0, queued = 1, until = enh_now() + 30;
    while (enh_now() < until && !(metric_value(&s, "enhance_inflight_requests{model=\"synth\"} ", &in) && in == 1 &&
                                  metric_value(&s, "enhance_queue_depth{model=\"synth\"} ", &queued) && queued == 0))
        sleep_ms(10);
    CHECK_MSG(in == 1 && queued == 0, "the request did not start computing: %g in flight, %g queued", in, queued);
    sleep_ms(300);
    CHECK_MSG(fd >= 0 && !has_answer(fd), "answered before the client went away");
    if (fd >= 0)
        close(fd);
    const char *cancelled = "enhance_requests_total{model=\"synth\",outcome=\"failure\",reason=\"cancelled\"} ";
    double nc = 0;
    until = enh_now() + 30;
    while (enh_now() < until && !(metric_value(&s, cancelled, &nc) && nc > 0))
        sleep_ms(20);
    CHECK_MSG(nc == 1, "cancellations: %g", nc);
    post(&s, "format=png", g_png, g_png_len, 60, &r);
    CHECK_MSG(r.status == 200 && !strcmp(r.width, "64"), "after the cancel: %ld %s", r.status, r.width);
    http_resp_free(&r);
    g_free(big);
    CHECK(test_server_wait_exit(&s, SIGTERM, 20) == 0);
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    test_stream();
    serve_test_teardown();
    CHECK_MAIN_END();
}
