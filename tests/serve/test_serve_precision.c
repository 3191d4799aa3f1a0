/* test_serve_precision.c - one network served in fp32 and in bf16 side by side: two model
 * entries with the same .param and another "precision" are two models of the shared cache (the
 * runtime options are part of its key), each the model its entry's upscale stage gets back from
 * the cache with the entry's options. On a CPU without AVX512_BF16 the bf16 entry is refused at
 * load with a message naming it. Also the config's "precision" key. Synthetic ncnn model. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "../nn/ncnn_synth.h"
#include "core/pool.h"
#include "nn/cpu.h"
#include "nn/model_cache.h"
#include "serve/server_internal.h"

int main(void)
{
    char dir[] = "/tmp/enh_serve_prec_XXXXXX", param[256], bin[256], json[1024];
    CHECK(mkdtemp(dir) != NULL);
    CHECK(synth_write_files(dir, param, bin, sizeof param));
    enh_error err;
    serve_models_config cfg;

    /* the key: fp32 | bf16 | auto (the process default); anything else names the key */
    CHECK(serve_models_config_parse("{\"models\": [{\"name\": \"a\", \"precision\": \"half\"}]}", ".", &cfg, &err) ==
              ENH_EINVAL &&
          strstr(err.msg, "models[0].precision"));
    CHECK(serve_models_config_parse("{\"defaults\": {\"precision\": \"bf16\"}, \"models\": [{\"name\": \"a\"},"
                                    " {\"name\": \"b\", \"precision\": \"fp32\"}, {\"name\": \"c\", \"precision\":"
                                    " \"auto\"}]}", ".", &cfg, &err) == ENH_OK);
    CHECK(cfg.models[0].precision == ENH_PRECISION_BF16 && cfg.models[1].precision == ENH_PRECISION_FP32 &&
          cfg.models[2].precision == ENH_PRECISION_DEFAULT);
    serve_models_config_free(&cfg);

    snprintf(json, sizeof json,
             "{\"models\": [{\"name\": \"s32\", \"param\": \"%s\", \"precision\": \"fp32\", \"max_batch\": 1},"
             " {\"name\": \"s16\", \"param\": \"%s\", \"precision\": \"bf16\", \"max_batch\": 1}]}",
             param, param);
    CHECK_MSG(serve_models_config_parse(json, dir, &cfg, &err) == ENH_OK, "%s", err.msg);
    serve_metrics *metrics = serve_metrics_create();
    serve_registry *reg = NULL;
    enh_status st = serve_registry_build(&cfg, NULL, enh_pool_default(), metrics, &reg, &err);
    if (!enh_cpu_has_bf16()) {
        CHECK_MSG(st == ENH_EUNSUPPORTED && strstr(err.msg, "'s16'") && strstr(err.msg, "AVX512_BF16"),
                  "bf16 entry on a CPU without AVX512_BF16: %s (%s)", enh_status_name(st), err.msg);
        printf("this CPU lacks AVX512_BF16: the bf16 entry is refused (%s)\n", err.msg);
    } else {
        CHECK_MSG(st == ENH_OK && reg, "%s", err.msg);
        serve_model *m32 = reg ? serve_registry_find(reg, "s32") : NULL;
        serve_model *m16 = reg ? serve_registry_find(reg, "s16") : NULL;
        CHECK(m32 && m16);
        if (m32 && m16) {
            CHECK(m32->model != m16->model && !strcmp(m32->cache_name, m16->cache_name));
            CHECK(enh_model_options(m16->model)->precision == ENH_PRECISION_BF16);
            CHECK(enh_model_options(m32->model)->precision == ENH_PRECISION_FP32);
            /* (the synthetic model's convs are too thin for bf16 kernels: both run fp32 plans) */
            /* what the upscale stage asks for (the request's ctx.nn = the entry's options) */
            enh_model *a = NULL, *b = NULL;
            CHECK(enh_model_cache_get(m16->cache_name, cfg.models_dir, &m16->nn, &a, &err) == ENH_OK &&
                  a == m16->model);
            CHECK(enh_model_cache_get(m32->cache_name, cfg.models_dir, &m32->nn, &b, &err) == ENH_OK &&
                  b == m32->model);
            enh_model_cache_release(a);
            enh_model_cache_release(b);
        }
        if (reg)
            serve_registry_unref(reg);
    }
    serve_models_config_free(&cfg);
    serve_metrics_free(metrics);
    CHECK(enh_model_cache_clear() == 0);
    unlink(param);
    unlink(bin);
    rmdir(dir);
    CHECK_MAIN_END();
}
