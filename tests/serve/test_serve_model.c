/* Integration test of the server with the real realesrgan-x4fast model (test_serve_model
 * SERVER_CMD...): concurrent requests' tiles are batched together, x2 through the model,
 * 422 for a model it does not serve. Exits 77 (skipped) when the model is not installed. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "nn/manifest.h"
#include "serve_test.h"

typedef struct up_thread {
    const test_server *s;
    http_resp r;
} up_thread;

static void *up_main(void *arg)
{
    up_thread *u = arg;
    char q[256];
    snprintf(q, sizeof q, "%s/v1/enhance?upscale=photo&format=png", u->s->base);
    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_do("POST", q, g_png, g_png_len, hdr, 120, &u->r);
    return NULL;
}

static int test_model(void)
{
    char dirbuf[1024]; /* the models folder the enhance command would use here */
    enh_models_dir_rule(getenv("ENHANCE_MODELS_DIR"), getenv("XDG_CACHE_HOME"), getenv("HOME"), dirbuf,
                        sizeof dirbuf);
    const enh_model_entry *e = enh_manifest_find("realesrgan-x4fast");
    if (!e || !enh_model_installed(e, dirbuf)) {
        printf("SKIP: realesrgan-x4fast is not installed in %s (enhance models fetch realesrgan-x4fast)\n", dirbuf);
        return 77;
    }
    char cfg[128], text[2048];
    snprintf(cfg, sizeof cfg, "%s/model.json", g_tmp);
    snprintf(text, sizeof text,
             "{\"models_dir\": \"%s\", \"models\": [{\"name\": \"realesrgan-x4fast\", \"max_batch\": 4,"
             " \"max_queue_delay_ms\": 150}]}",
             dirbuf);
    CHECK(write_text(cfg, text));
    const char *args[] = {"--models-config", cfg, "--log-level", "warn", NULL};
    test_server s;
    CHECK(test_server_start(&s, g_cmd, args) == 0);
    if (!s.port)
        return 1;
    CHECK(test_server_wait_ready(&s, 60) == 0);
    http_resp r;
    http_do("GET", url(&s, "/v1/models"), NULL, 0, NULL, 5, &r);
    json_t *doc = json_body(&r);
    json_t *m0 = doc ? json_array_get(json_object_get(doc, "models"), 0) : NULL;
    CHECK(m0 && json_is_true(json_object_get(m0, "ready")) && json_integer_value(json_object_get(m0, "scale")) == 4);
    json_decref(doc);
    http_resp_free(&r);

    /* concurrent requests: their tiles are batched together */
    enum { NU = 4 };
    up_thread u[NU];
    pthread_t t[NU];
    for (int i = 0; i < NU; i++) {
        u[i] = (up_thread){.s = &s};
        pthread_create(&t[i], NULL, up_main, &u[i]);
    }
    for (int i = 0; i < NU; i++) {
        pthread_join(t[i], NULL);
        CHECK_MSG(u[i].r.status == 200 && !strcmp(u[i].r.model, "realesrgan-x4fast") && !strcmp(u[i].r.width, "128"),
                  "x4fast request %d: %ld %s %s %.200s", i, u[i].r.status, u[i].r.model, u[i].r.width,
                  u[i].r.body && u[i].r.status != 200 ? u[i].r.body : "");
        int w, h;
        image_dims(&u[i].r, &w, &h);
        CHECK(w == 128 && h == 128);
        http_resp_free(&u[i].r);
    }
    double sum = 0, count = 0, tiles = 0;
    metric_value(&s, "enhance_batch_size_sum{model=\"realesrgan-x4fast\"} ", &sum);
    metric_value(&s, "enhance_batch_size_count{model=\"realesrgan-x4fast\"} ", &count);
    metric_value(&s, "enhance_tiles_total{model=\"realesrgan-x4fast\"} ", &tiles);
    CHECK_MSG(tiles == NU && sum == NU, "tiles %g, batched tiles %g (the warm-up is not traffic)", tiles, sum);
    CHECK_MSG(count < sum - 1, "no cross-request batching: %g runs for %g tiles", count, sum);

    const char *hdr[] = {"Content-Type: image/png", NULL};
    http_do("POST", url(&s, "/v1/enhance?upscale=photo&scale=2"), g_png, g_png_len, hdr, 60, &r);
    CHECK_MSG(r.status == 200 && !strcmp(r.width, "64"), "x2: %ld %s", r.status, r.width);
    http_resp_free(&r);
    http_do("POST", url(&s, "/v1/enhance?upscale=art"), g_png, g_png_len, hdr, 60, &r);
    CHECK_ERROR(&r, 422, "model_not_found", "realesr-animevideov3");
    http_resp_free(&r);
    CHECK(test_server_wait_exit(&s, SIGTERM, 20) == 0);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    rc = test_model();
    serve_test_teardown();
    if (rc == 77)
        return 77;
    CHECK_MAIN_END();
}
