/* config_check.c - parses a model configuration with the server's own parser
 * (serve_models_config_parse, src/serve/config.h) and prints what the server would use, one
 * JSON object, so tests/deploy/check_k8s.py can hold the Kubernetes ConfigMap against the
 * Deployment (instances vs --cores, queue limits). Nothing is loaded: the models need not be
 * installed here.   config_check FILE.json   (exit 1 with the parser's message on an error)
 */
#include "serve/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) == (size_t)n) {
        b[n] = 0;
    } else {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: config_check FILE.json\n");
        return 2;
    }
    char *text = slurp(argv[1]);
    if (!text) {
        perror(argv[1]);
        return 1;
    }
    serve_models_config c;
    serve_models_config_init(&c);
    enh_error err = {0};
    enh_status st = serve_models_config_parse(text, ".", &c, &err);
    free(text);
    if (st != ENH_OK) {
        fprintf(stderr, "%s: %s: %s\n", argv[1], enh_status_name(st), err.msg);
        return 1;
    }
    printf("{\"models_dir\": \"%s\", \"resample\": {\"max_queue\": %d, \"default_deadline_ms\": %.0f},\n \"models\": [",
           c.models_dir, c.resample.max_queue, c.resample.default_deadline_ms);
    for (int i = 0; i < c.nmodels; i++) {
        const serve_model_cfg *m = &c.models[i];
        printf("%s\n  {\"name\": \"%s\", \"purpose\": \"%s\", \"custom\": %d, \"instances\": %d, \"tile_size\": %d, "
               "\"max_batch\": %d, \"max_queue\": %d, \"max_queue_delay_ms\": %.3f, \"default_deadline_ms\": %.0f}",
               i ? "," : "", m->name, m->purpose, m->custom, m->instances, m->tile_size, m->max_batch, m->max_queue,
               m->max_queue_delay_ms, m->default_deadline_ms);
    }
    printf("]}\n");
    serve_models_config_free(&c);
    return 0;
}
