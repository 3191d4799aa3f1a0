/* Unit tests of src/serve: dynamic batcher (with a fake model), query/multipart parsing,
 * secrets, metrics text, model config. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "core/fsutil.h"
#include "serve/batcher.h"
#include "serve/config.h"
#include "serve/metrics.h"
#include "serve/request.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- fake model: x2 nearest upscale of each channel, out = 2*in; records calls ---- */
typedef struct fake {
    pthread_mutex_t mu;
    int calls, max_n, total;
    int run_ms;
    int order[64], norder; /* first value of each run (identifies the tile) */
} fake;

static enh_status fake_run(void *model, const float *in, int n, int c, int h, int w, float *out, enh_pool *pool,
                           enh_error *err)
{
    (void)pool;
    (void)err;
    fake *f = model;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    f->total += n;
    if (n > f->max_n)
        f->max_n = n;
    if (f->norder < 64)
        f->order[f->norder++] = (int)in[0];
    pthread_mutex_unlock(&f->mu);
    if (f->run_ms)
        sleep_ms(f->run_ms);
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < 2 * h; y++)
                for (int x = 0; x < 2 * w; x++)
                    out[(((size_t)b * c + ch) * 2 * h + y) * 2 * w + x] =
                        2 * in[(((size_t)b * c + ch) * h + y / 2) * w + x / 2];
    return ENH_OK;
}

static serve_batcher *make_batcher(fake *f, int instances, int max_batch, double delay_s, int max_queue)
{
    serve_batcher_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.name, sizeof cfg.name, "fake");
    cfg.model = f;
    cfg.run = fake_run;
    cfg.out_channels = 3;
    cfg.scale = 2;
    cfg.instances = instances;
    cfg.max_batch = max_batch;
    cfg.max_delay_s = delay_s;
    cfg.max_queue_tiles = max_queue;
    serve_batcher *b = NULL;
    enh_error err;
    CHECK(serve_batcher_create(&cfg, &b, &err) == ENH_OK);
    return b;
}

typedef struct sub {
    serve_batcher *b;
    int id, h, w;
    serve_priority prio;
    double deadline;
    atomic_int *cancel;
    enh_status st;
    int correct;
    double took;
    int batch;
    enh_error err;
} sub;

static void *submit_thread(void *arg)
{
    sub *s = arg;
    int c = 3, h = s->h, w = s->w;
    float *in = malloc(sizeof(float) * c * h * w);
    float *out = malloc(sizeof(float) * c * 4 * h * w);
    for (int i = 0; i < c * h * w; i++)
        in[i] = (float)(s->id * 1000 + i);
    serve_tile_wait tw;
    double t0 = enh_now();
    s->st = serve_batcher_submit(s->b, in, 1, c, h, w, out, s->prio, s->deadline, s->cancel, &tw, &s->err);
    s->took = enh_now() - t0;
    s->batch = tw.batch_size;
    s->correct = 1;
    if (s->st == ENH_OK)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < 2 * h; y++)
                for (int x = 0; x < 2 * w; x++)
                    if (out[((size_t)ch * 2 * h + y) * 2 * w + x] != 2 * in[((size_t)ch * h + y / 2) * w + x / 2])
                        s->correct = 0;
    free(in);
    free(out);
    return NULL;
}

static void test_batching(void)
{
    fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .run_ms = 30};
    serve_batcher *b = make_batcher(&f, 1, 4, 0.05, 0);
    enum { N = 8 };
    sub s[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        s[i] = (sub){.b = b, .id = i + 1, .h = 8, .w = 6, .prio = SERVE_PRIO_NORMAL};
        pthread_create(&t[i], NULL, submit_thread, &s[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++) {
        CHECK(s[i].st == ENH_OK);
        CHECK_MSG(s[i].correct, "tile %d got another request's output", i);
    }
    CHECK(f.total == N);
    CHECK_MSG(f.max_n >= 2, "no batching happened (max batch %d)", f.max_n);
    CHECK_MSG(f.max_n <= 4, "batch larger than max_batch (%d)", f.max_n);
    CHECK_MSG(f.calls <= 5, "%d runs for %d tiles with max_batch 4", f.calls, N);
    serve_batcher_destroy(b);
}

static void test_shapes_not_mixed(void)
{
    fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .run_ms = 20};
    serve_batcher *b = make_batcher(&f, 1, 8, 0.05, 0);
    sub s[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        s[i] = (sub){.b = b, .id = i + 1, .h = i % 2 ? 8 : 5, .w = 7, .prio = SERVE_PRIO_NORMAL};
        pthread_create(&t[i], NULL, submit_thread, &s[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        CHECK(s[i].st == ENH_OK && s[i].correct);
    CHECK(f.total == 4);
    CHECK(f.calls >= 2); /* two shapes can never share a run */
    serve_batcher_destroy(b);
}

static void test_deadline_while_queued(void)
{
    fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .run_ms = 400};
    serve_batcher *b = make_batcher(&f, 1, 1, 0, 0);
    sub busy = {.b = b, .id = 1, .h = 4, .w = 4, .prio = SERVE_PRIO_NORMAL};
    pthread_t tb;
    pthread_create(&tb, NULL, submit_thread, &busy);
    sleep_ms(50); /* the instance is now busy for ~350 ms more */
    sub late = {.b = b, .id = 2, .h = 4, .w = 4, .prio = SERVE_PRIO_NORMAL, .deadline = enh_now() + 0.08};
    submit_thread(&late);
    CHECK_MSG(late.st == ENH_ETIMEOUT, "status %d", late.st);
    CHECK_MSG(late.took < 0.25, "deadline noticed only after %.3f s (not while queued)", late.took);
    pthread_join(tb, NULL);
    CHECK(busy.st == ENH_OK);
    CHECK(f.total == 1); /* the expired tile never ran */
    serve_batcher_destroy(b);
}

typedef struct canceller {
    atomic_int *flag;
    int after_ms;
} canceller;

static void *cancel_thread(void *arg)
{
    canceller *c = arg;
    sleep_ms(c->after_ms);
    atomic_store(c->flag, 1);
    return NULL;
}

static void test_cancel_while_queued(void)
{
    fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .run_ms = 400};
    serve_batcher *b = make_batcher(&f, 1, 1, 0, 0);
    sub busy = {.b = b, .id = 1, .h = 4, .w = 4, .prio = SERVE_PRIO_NORMAL};
    pthread_t tb, tc;
    pthread_create(&tb, NULL, submit_thread, &busy);
    sleep_ms(50);
    atomic_int flag = 0;
    canceller c = {&flag, 50};
    pthread_create(&tc, NULL, cancel_thread, &c);
    sub x = {.b = b, .id = 2, .h = 4, .w = 4, .prio = SERVE_PRIO_NORMAL, .cancel = &flag};
    submit_thread(&x);
    CHECK(x.st == ENH_ECANCELLED);
    CHECK_MSG(x.took < 0.25, "cancel noticed only after %.3f s", x.took);
    pthread_join(tc, NULL);
    pthread_join(tb, NULL);
    serve_batcher_destroy(b);
}

static void test_priority_and_bound(void)
{
    fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .run_ms = 150};
    serve_batcher *b = make_batcher(&f, 1, 1, 0, 2);
    sub busy = {.b = b, .id = 1, .h = 4, .w = 4, .prio = SERVE_PRIO_NORMAL};
    sub lo = {.b = b, .id = 2, .h = 4, .w = 4, .prio = SERVE_PRIO_BATCH};
    sub hi = {.b = b, .id = 3, .h = 4, .w = 4, .prio = SERVE_PRIO_HIGH};
    sub over = {.b = b, .id = 4, .h = 4, .w = 4, .prio = SERVE_PRIO_HIGH};
    pthread_t t1, t2, t3;
    pthread_create(&t1, NULL, submit_thread, &busy);
    sleep_ms(40);
    pthread_create(&t2, NULL, submit_thread, &lo);
    sleep_ms(20);
    pthread_create(&t3, NULL, submit_thread, &hi);
    sleep_ms(20);
    submit_thread(&over); /* 2 tiles queued = the limit */
    CHECK_MSG(over.st == ENH_EBUSY, "status %d: %s", over.st, over.err.msg);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_join(t3, NULL);
    CHECK(busy.st == ENH_OK && lo.st == ENH_OK && hi.st == ENH_OK);
    CHECK(f.norder == 3);
    CHECK_MSG(f.order[1] == 3000 && f.order[2] == 2000, "high priority did not go first: %d %d", f.order[1],
              f.order[2]);
    serve_batcher_destroy(b);
}

static void test_two_instances(void)
{
    fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .run_ms = 200};
    serve_batcher *b = make_batcher(&f, 2, 1, 0, 0);
    sub s[2];
    pthread_t t[2];
    double t0 = enh_now();
    for (int i = 0; i < 2; i++) {
        s[i] = (sub){.b = b, .id = i + 1, .h = 4, .w = 4, .prio = SERVE_PRIO_NORMAL};
        pthread_create(&t[i], NULL, submit_thread, &s[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double dt = enh_now() - t0;
    CHECK(s[0].st == ENH_OK && s[1].st == ENH_OK);
    CHECK_MSG(dt < 0.35, "two instances ran one after the other (%.3f s)", dt);
    serve_batcher_destroy(b);
}

/* ---- request parsing ---- */

static void test_query(void)
{
    enh_ops o;
    serve_params p;
    enh_error err;
    enh_ops_init(&o);
    serve_params_init(&p);
    CHECK(serve_query_apply("upscale", "photo", &o, &p, &err) == ENH_OK && o.upscale == ENH_UPSCALE_PHOTO);
    CHECK(serve_query_apply("scale", "2", &o, &p, &err) == ENH_OK && o.scale == 2);
    CHECK(serve_query_apply("width", "50%", &o, &p, &err) == ENH_OK && o.width_pct == 50 && o.width == 0);
    CHECK(serve_query_apply("height", "300", &o, &p, &err) == ENH_OK && o.height == 300);
    CHECK(serve_query_apply("denoise", "auto", &o, &p, &err) == ENH_OK && o.denoise == ENH_AUTO);
    CHECK(serve_query_apply("decompress", "strong", &o, &p, &err) == ENH_OK && o.decompress == 100);
    CHECK(serve_query_apply("format", "webp", &o, &p, &err) == ENH_OK && o.format == ENH_FORMAT_WEBP);
    CHECK(serve_query_apply("auto_color", NULL, &o, &p, &err) == ENH_OK && o.auto_color == 1);
    CHECK(serve_query_apply("background", "255,0,10", &o, &p, &err) == ENH_OK && o.background[2] == 10 &&
          o.background[3] == 255);
    CHECK(serve_query_apply("priority", "high", &o, &p, &err) == ENH_OK && p.priority == SERVE_PRIO_HIGH);
    CHECK(serve_query_apply("deadline_ms", "1500", &o, &p, &err) == ENH_OK && p.deadline_ms == 1500);
    CHECK(serve_query_apply("upscale", "3", &o, &p, &err) == ENH_OK && o.upscale == ENH_UPSCALE_PHOTO &&
          o.scale == 3);
    CHECK(serve_query_apply("denoyse", "5", &o, &p, &err) == ENH_EINVAL && strstr(err.msg, "'denoyse'"));
    CHECK(serve_query_apply("exposure", "101", &o, &p, &err) == ENH_EINVAL && strstr(err.msg, "exposure"));
    CHECK(serve_query_apply("scale", "x", &o, &p, &err) == ENH_EINVAL);
    CHECK(serve_query_apply("fit", "squash", &o, &p, &err) == ENH_EINVAL && strstr(err.msg, "fit"));
    CHECK(serve_query_apply("priority", "urgent", &o, &p, &err) == ENH_EINVAL);
    CHECK(serve_query_apply("bit_depth", "12", &o, &p, &err) == ENH_EINVAL);
}

static void test_multipart(void)
{
    const char *ct = "multipart/form-data; boundary=----XyZ";
    const char body[] = "preamble\r\n"
                        "------XyZ\r\n"
                        "Content-Disposition: form-data; name=\"operations\"\r\n"
                        "\r\n"
                        "{\"output\":{\"format\":\"png\"}}\r\n"
                        "------XyZ\r\n"
                        "Content-Disposition: form-data; name=\"image\"; filename=\"a b.jpg\"\r\n"
                        "Content-Type: image/jpeg\r\n"
                        "\r\n"
                        "\xff\xd8\r\n--not-the-boundary\x00\x01\r\n"
                        "------XyZ--\r\n";
    size_t len = sizeof body - 1;
    serve_part parts[4];
    int np = 0;
    enh_error err;
    CHECK_MSG(serve_multipart_parse(ct, body, len, parts, 4, &np, &err) == ENH_OK, "%s", err.msg);
    CHECK(np == 2);
    CHECK(!strcmp(parts[0].name, "operations") && parts[0].len == 27 && !memcmp(parts[0].data, "{\"output\"", 9));
    CHECK(!strcmp(parts[1].name, "image") && !strcmp(parts[1].filename, "a b.jpg"));
    CHECK(!strcmp(parts[1].content_type, "image/jpeg"));
    CHECK(parts[1].len == 24 && (unsigned char)parts[1].data[0] == 0xff && parts[1].data[23] == 0x01);
    CHECK(serve_multipart_parse("multipart/form-data", body, len, parts, 4, &np, &err) == ENH_EINVAL);
    CHECK(serve_multipart_parse(ct, body, 120, parts, 4, &np, &err) == ENH_EINVAL); /* truncated */
    CHECK(serve_multipart_parse(ct, body, len, parts, 1, &np, &err) == ENH_EINVAL); /* too many parts */
    CHECK(serve_multipart_parse("multipart/form-data; boundary=\"----XyZ\"", body, len, parts, 4, &np, &err) ==
          ENH_OK);
}

static void test_secrets_ids(void)
{
    CHECK(serve_secret_equal("abc", 3, "abc", 3));
    CHECK(!serve_secret_equal("abc", 3, "abd", 3));
    CHECK(!serve_secret_equal("abc", 3, "abcd", 4));
    CHECK(!serve_secret_equal("", 0, "a", 1));
    char a[40], b[40];
    serve_new_request_id(a);
    serve_new_request_id(b);
    CHECK(strlen(a) == 32 && strcmp(a, b));
    CHECK(serve_request_id_ok(a));
    CHECK(!serve_request_id_ok("bad id"));
    CHECK(!serve_request_id_ok("x\r\nInjected: 1"));
    CHECK(!serve_request_id_ok(""));
}

static void test_metrics(void)
{
    serve_metrics *m = serve_metrics_create();
    serve_metrics_request_done(m, "x4", 1, "", 0.02, 0.3, 0.4);
    serve_metrics_request_done(m, "x4", 1, "", 0.2, 3, 4);
    serve_metrics_request_done(m, "x4", 0, "deadline_exceeded", 1, -1, 1);
    serve_metrics_batch(m, "x4", 3, 0.1);
    serve_metrics_tiles(m, "x4", 7);
    serve_metrics_queue_add(m, "x4", 2);
    serve_metrics_inflight_add(m, "x4", 3);
    serve_metrics_http(m, 200);
    serve_metrics_http(m, 504);
    CHECK(serve_metrics_queue_depth(m, "x4") == 2);
    char *t = serve_metrics_render(m);
    CHECK(t != NULL);
    CHECK(strstr(t, "enhance_requests_total{model=\"x4\",outcome=\"success\",reason=\"\"} 2\n"));
    CHECK(strstr(t, "enhance_requests_total{model=\"x4\",outcome=\"failure\",reason=\"deadline_exceeded\"} 1\n"));
    CHECK(strstr(t, "enhance_compute_duration_seconds_bucket{model=\"x4\",le=\"0.5\"} 1\n"));
    CHECK(strstr(t, "enhance_compute_duration_seconds_bucket{model=\"x4\",le=\"+Inf\"} 2\n"));
    CHECK(strstr(t, "enhance_request_duration_seconds_count{model=\"x4\"} 3\n"));
    CHECK(strstr(t, "enhance_batch_size_bucket{model=\"x4\",le=\"2\"} 0\n"));
    CHECK(strstr(t, "enhance_batch_size_bucket{model=\"x4\",le=\"3\"} 1\n"));
    CHECK(strstr(t, "enhance_tiles_total{model=\"x4\"} 7\n"));
    CHECK(strstr(t, "enhance_queue_depth{model=\"x4\"} 2\n"));
    CHECK(strstr(t, "enhance_inflight_requests{model=\"x4\"} 3\n"));
    CHECK(strstr(t, "enhance_http_responses_total{code=\"504\"} 1\n"));
    CHECK(strstr(t, "# TYPE enhance_queue_duration_seconds histogram\n"));
    CHECK(strstr(t, "process_resident_memory_bytes "));
    free(t);
    serve_metrics_free(m);
}

static void test_config(void)
{
    serve_models_config c;
    enh_error err;
    const char *good = "{\"models_dir\": \"m\", \"defaults\": {\"max_batch\": 8, \"max_queue\": 5},"
                       " \"resample\": {\"max_queue\": 3},"
                       " \"models\": [{\"name\": \"a-x4\", \"instances\": 2},"
                       "              {\"name\": \"b\", \"param\": \"/abs/b.param\","
                       "               \"tile_size\": 64, \"max_queue_delay_ms\": 1.5, \"purpose\": \"art\"}]}";
    CHECK_MSG(serve_models_config_parse(good, "/base", &c, &err) == ENH_OK, "%s", err.msg);
    CHECK(c.nmodels == 2);
    CHECK(!strcmp(c.models_dir, "/base/m"));
    CHECK(c.models[0].instances == 2 && c.models[0].max_batch == 8 && c.models[0].max_queue == 5);
    CHECK(!strcmp(c.models[0].param_path, "/base/m/a-x4.param"));
    CHECK(!strcmp(c.models[1].param_path, "/abs/b.param") && !strcmp(c.models[1].bin_path, "/abs/b.bin"));
    CHECK(c.models[1].custom && !c.models[0].custom);
    CHECK(!strcmp(c.models[0].bin_path, "/base/m/a-x4.bin"));
    CHECK(c.models[1].tile_size == 64 && c.models[1].max_queue_delay_ms == 1.5 && !strcmp(c.models[1].purpose, "art"));
    CHECK(c.resample.max_queue == 3);
    serve_models_config_free(&c);
    CHECK(serve_models_config_parse("{\"models\": [{\"name\": \"a\", \"instanses\": 1}]}", ".", &c, &err) ==
              ENH_EINVAL &&
          strstr(err.msg, "'instanses'"));
    CHECK(serve_models_config_parse("{\"modles\": []}", ".", &c, &err) == ENH_EINVAL && strstr(err.msg, "'modles'"));
    CHECK(serve_models_config_parse("{\"models\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}", ".", &c, &err) ==
          ENH_EINVAL);
    CHECK(serve_models_config_parse("{\"models\": [{\"name\": \"../x\"}]}", ".", &c, &err) == ENH_EINVAL);
    CHECK(serve_models_config_parse("{\"models\": [{\"name\": \"a\", \"max_batch\": 0}]}", ".", &c, &err) ==
          ENH_EINVAL);
    CHECK(serve_models_config_parse("{\"models\": [", ".", &c, &err) == ENH_EINVAL && strstr(err.msg, "line"));
    CHECK(serve_models_config_parse("{\"models\": [{\"name\": \"a\", \"param\": \"a.bin\"}]}", ".", &c, &err) ==
          ENH_EINVAL);

    /* the config shipped in deploy/ stays valid */
    CHECK_MSG(serve_models_config_load(ENH_SOURCE_DIR "/deploy/models.json", &c, &err) == ENH_OK, "%s", err.msg);
    CHECK(c.nmodels == 2 && !strcmp(c.models[0].name, "realesrgan-x4fast") && c.models[1].max_queue == 8);
    serve_models_config_free(&c);

    /* a model-repository folder */
    char dir[] = "/tmp/enh-serve-repo-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p[256];
    const char *files[] = {"m1.param", "m1.bin", "m2.param", "notes.txt"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        CHECK(enh_write_file_atomic(p, "x", 1, &err) == ENH_OK);
    }
    CHECK_MSG(serve_models_config_load(dir, &c, &err) == ENH_OK, "%s", err.msg);
    CHECK(c.nmodels == 1 && !strcmp(c.models[0].name, "m1")); /* m2 has no .bin */
    serve_models_config_free(&c);
    snprintf(p, sizeof p, "%s/config.json", dir);
    const char *cj = "{\"models\": [{\"name\": \"m2\", \"param\": \"m1.param\"}]}";
    CHECK(enh_write_file_atomic(p, cj, strlen(cj), &err) == ENH_OK);
    CHECK_MSG(serve_models_config_load(dir, &c, &err) == ENH_OK, "%s", err.msg);
    CHECK(c.nmodels == 1 && !strcmp(c.models[0].name, "m2"));
    CHECK(strstr(c.models[0].bin_path, "/m1.bin") != NULL);
    serve_models_config_free(&c);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/config.json", dir);
    unlink(p);
    rmdir(dir);
}

int main(void)
{
    test_batching();
    test_shapes_not_mixed();
    test_deadline_while_queued();
    test_cancel_while_queued();
    test_priority_and_bound();
    test_two_instances();
    test_query();
    test_multipart();
    test_secrets_ids();
    test_metrics();
    test_config();
    CHECK_MAIN_END();
}
