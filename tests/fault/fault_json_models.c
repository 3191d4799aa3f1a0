/* fault_json_models.c - test_fault_json's cases of the model and operations readers
 * (fault_json.h): the operations JSON and the operations' description, the embedded manifest, a TF.js graph model.json with its
 * shard, a layers model.json in nsfwjs's .min.js wrapper, BRISQUE's FileStorage YAML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../nn/keras_synth.h"
#include "../nn/tfjs_synth.h"
#include "enhance/brisque_yml.h"
#include "enhance/ops.h"
#include "fault_json.h"
#include "nn/manifest.h"
#include "nn/tfjs_container.h"
#include "nn/tfjs_load.h"

extern const unsigned char enh_manifest_json[];
extern const size_t enh_manifest_json_len;

static char g_dir[256];

/* ---- the operations JSON ---- */
static enh_ops g_ops;
static const char ops_json[] =
    "{\"restorations\": {\"denoise\": 40, \"upscale\": \"photo\", \"model\": \"realesrgan-x4fast\", \"scale\": 4},"
    " \"adjustments\": {\"auto_color\": true, \"saturation\": 15, \"contrast\": -7},"
    " \"resizing\": {\"width\": 800, \"height\": 600, \"fit\": \"cover\"},"
    " \"output\": {\"format\": \"webp\", \"quality\": 85}}";
static enh_status ops_run(enh_error *err) { return enh_ops_from_json(ops_json, strlen(ops_json), &g_ops, err); }
static void ops_digest(enh_status st, blob *b)
{
    if (!st)
        put_text(b, enh_ops_to_json(&g_ops));
}

/* ---- the operations' description (GET /v1/ops): built, not parsed; never an option's member
 * short (enh_json_build_begin/_end) ---- */
static char *g_describe;
static enh_status describe_run(enh_error *err)
{
    g_describe = enh_ops_describe_json();
    return g_describe ? ENH_OK : enh_fail(err, ENH_ENOMEM, "out of memory describing the operations");
}
static void describe_digest(enh_status st, blob *b)
{
    (void)st;
    put_text(b, g_describe);
    g_describe = NULL;
}

/* ---- the embedded manifest ---- */
static enh_model_entry *g_entries;
static int g_nentries;
static char g_default[64];
static enh_status manifest_run(enh_error *err)
{
    return enh_manifest_parse((const char *)enh_manifest_json, enh_manifest_json_len, &g_entries, &g_nentries,
                              g_default, sizeof g_default, err);
}
static void manifest_digest(enh_status st, blob *b)
{
    if (!st) {
        putf(b, "%d %s;", g_nentries, g_default);
        for (int i = 0; i < g_nentries; i++) {
            const enh_model_entry *e = &g_entries[i];
            putf(b, "%s|%s|%s|%s|%s|%s|%s|%d|%d|%d|%d;", e->name, e->package, e->version, e->tarball_dir, e->purpose,
                 e->licence, e->description, (int)e->format, e->scale, e->pad_multiple, e->nfiles);
            for (int k = 0; k < e->nfiles; k++)
                putf(b, "%s %zu %s,", e->files[k].file, e->files[k].bytes, e->files[k].sha256);
        }
    }
    free(g_entries);
    g_entries = NULL;
}

/* ---- a TF.js graph model ---- */
static char g_model_json[4352];
static tf_graph *g_graph;
static int write_tfjs_model(void)
{
    tfs_model m;
    tfs_init(&m);
    const char *x = tfs_input(&m, 3);
    float w[3 * 3 * 3 * 4], bias[4] = {0.5f, -0.25f, 1, 0};
    for (int i = 0; i < (int)(sizeof w / sizeof *w); i++)
        w[i] = (float)((i * 7) % 11 - 5) / 8;
    const char *wn = tfs_const_raw(&m, "conv/kernel_with_a_long_name", "float32", 4, (int[]){3, 3, 3, 4}, w,
                                   sizeof w, NULL);
    const char *bn = tfs_const_raw(&m, "conv/bias", "float32", 1, (int[]){4}, bias, sizeof bias, NULL);
    const char *y = tfs_bin(&m, "AddV2", tfs_conv(&m, x, wn, "SAME", 1), bn);
    y = tfs_un(&m, "Relu", y);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tfjs", g_dir);
    int rc = mkdir(dir, 0755) || tfs_write(&m, dir, y, g_model_json, sizeof g_model_json);
    tfs_free(&m);
    return rc;
}
static enh_status tfjs_run(enh_error *err) { return enh_tfjs_load_graph(g_model_json, &g_graph, err); }
static void tfjs_digest(enh_status st, blob *b)
{
    if (!st) {
        const tf_graph *g = g_graph;
        putf(b, "%d %d %d %d %zu;", g->n, g->input, g->output, g->in_channels, g->weight_bytes);
        for (int i = 0; i < g->n; i++) {
            const tf_node *n = &g->nodes[i];
            putf(b, "%d %s %d [", (int)n->op, n->name, n->nin);
            for (int k = 0; k < n->nin; k++)
                putf(b, "%d ", n->in[k]);
            putf(b, "] %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %s", (int)n->dtype, n->strides[0],
                 n->strides[1], n->strides[2], n->strides[3], n->dilations[0], n->dilations[1], n->dilations[2],
                 n->dilations[3], (int)n->padding, n->nchw, n->axis, n->keep_dims, n->begin_mask, n->end_mask,
                 n->ellipsis_mask, n->new_axis_mask, n->shrink_axis_mask, n->nsqueeze, n->batch_dims, n->equation);
            putf(b, " v%d r%d:", (int)n->value.dt, n->value.s.rank);
            for (int k = 0; k < n->value.s.rank; k++)
                putf(b, "%d,", n->value.s.d[k]);
            if (n->value.data)
                put(b, n->value.data, tf_shape_count(&n->value.s) * 4);
            putf(b, ";");
        }
    }
    tf_graph_free(g_graph);
    g_graph = NULL;
}

/* ---- a TF.js layers model.json in nsfwjs's .min.js wrapper (keras_synth.h; the container's
 * own literal reader builds the jansson values) ---- */
static char g_container[512];
static json_t *g_cjson;
static int write_container(void)
{
    snprintf(g_container, sizeof g_container, "%s/model.min.js", g_dir);
    char *lit = ks_jsify("{\"format\": \"layers-model\", \"generatedBy\": \"keras v2.2.4\", \"modelTopology\": "
                         "{\"class_name\": \"Model\", \"config\": {\"name\": \"model_with_a_long_name\", \"layers\": "
                         "[{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 224, 224, 3], "
                         "\"dtype\": \"float32\", \"sparse\": false}, \"name\": \"input_1\", \"inbound_nodes\": []}, "
                         "{\"class_name\": \"Dense\", \"config\": {\"units\": 5, \"use_bias\": true, \"scale\": 0.5, "
                         "\"name\": \"dense\\u00e9\"}, \"inbound_nodes\": [[[\"input_1\", 0, 0, {}]]]}]}}, "
                         "\"weightsManifest\": [{\"paths\": [\"group1-shard1of1\"], \"weights\": "
                         "[{\"name\": \"dense/kernel\", \"shape\": [3, 5], \"dtype\": \"float32\"}]}]}");
    int rc = ks_write_text(g_container, ks_pre, lit, ks_post);
    free(lit);
    return rc;
}
static enh_status container_run(enh_error *err) { return enh_tfjs_read_json(g_container, &g_cjson, err); }
static void container_digest(enh_status st, blob *b)
{
    if (!st)
        put_text(b, json_dumps(g_cjson, JSON_COMPACT | JSON_SORT_KEYS));
    json_decref(g_cjson);
    g_cjson = NULL;
}

/* ---- BRISQUE's FileStorage YAML (not JSON, but a parser of an on-disk model too) ---- */
static enh_yml_doc *g_yml;
static const char yml_text[] = "%YAML:1.0\n---\nopencv_ml_svm:\n   format: 3\n   svmType: EPS_SVR\n"
                               "   kernel:\n      type: RBF\n      gamma: 5.0e-02\n   sv_total: 2\n"
                               "   support_vectors:\n      - [ 1.5e-01, -2.5e-01, 'quoted, text',\n          4 ]\n"
                               "      - { a: 1, b: [ 2, 3 ], c: \"x\" }\n"
                               "   uncompressed_sv: !!opencv-matrix\n      rows: 1\n      data: [ 0.5 ]\n";
static enh_status yml_run(enh_error *err) { return enh_yml_parse(yml_text, strlen(yml_text), "model.yml", &g_yml, err); }
static void yml_put(blob *b, const enh_yml_node *n)
{
    putf(b, "(%d %d %s %s", (int)n->type, n->line, n->tag ? n->tag : "-", n->type == ENH_YML_SCALAR ? n->text : "");
    for (size_t i = 0; n->type != ENH_YML_SCALAR && i < n->n; i++) {
        if (n->type == ENH_YML_MAP)
            putf(b, " %s:", n->keys[i]);
        yml_put(b, n->kids[i]);
    }
    putf(b, ")");
}
static void yml_digest(enh_status st, blob *b)
{
    if (!st)
        yml_put(b, enh_yml_root(g_yml));
    enh_yml_free(g_yml);
    g_yml = NULL;
}

const parser fj_model_cases[] = {
    {"ops", ops_run, ops_digest, NULL},
    {"describe", describe_run, describe_digest, NULL},
    {"manifest", manifest_run, manifest_digest, NULL},
    {"tfjs", tfjs_run, tfjs_digest, NULL},
    {"container", container_run, container_digest, NULL},
    {"yml", yml_run, yml_digest, NULL},
};
const int fj_model_ncases = sizeof fj_model_cases / sizeof *fj_model_cases;

int fj_models_setup(const char *dir)
{
    snprintf(g_dir, sizeof g_dir, "%s", dir);
    return write_tfjs_model() || write_container();
}
