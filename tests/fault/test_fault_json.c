/* test_fault_json.c - every JSON parser of a document from outside (or re-read from our own
 * text) run with each of its allocations failed in turn (the scheme of test_fault_alloc.c):
 * the answer must be ENH_ENOMEM with a message saying "out of memory", or success with exactly
 * the result of a run without failures - never a document parsed a character short (jansson
 * drops characters when its buffers cannot grow: src/core/json_mem.h) nor "invalid JSON" -, no
 * crash, and no leak (LeakSanitizer after every run in the sanitizer tree).
 *
 * The parsers: the operations JSON (enh_ops_from_json), the embedded model manifest
 * (enh_manifest_parse, and enh_manifest_models parsing it again after a failed first parse), a
 * TF.js model.json with its shard (enh_tfjs_load_graph), a layers model.json in nsfwjs's .min.js
 * wrapper (enh_tfjs_read_json: the container's own literal reader), BRISQUE's FileStorage YAML
 * (enh_yml_parse: not JSON, a model file all the same), a moderation policy
 * (enh_check_policy_from_json), a check's JSON with the assessment it re-reads
 * (enh_check_result_to_json), the server's moderation details of a job (serve_check_details),
 * the server's model configuration (serve_models_config_parse) and the batch's check report read
 * back on resume (cli_batch_check_open), a line written to it (cli_batch_check_record: a check's
 * JSON re-read), and the batch's options state (cli_batch_state_establish: a state
 * misread as absent would redo every finished output; src/cli/cli_batch_check.c and
 * cli_batch_state.c compiled in).
 * Each result is compared by a digest made after the allocations are disarmed.
 * The check's result is one whose assessment did not run, unless --with-assessment: then the
 * assessment's JSON is made and re-read too, and enh_assessment_to_json (assess_report.c) still
 * leaves a member out when its allocation fails (json_object_set_new unchecked: 42 of 850 runs
 * give a check JSON a member short), so that run fails until it checks them.
 * Usage: test_fault_json [--stride K] [--only NAME] [--verbose] [--with-assessment] */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "../nn/keras_synth.h"
#include "../nn/tfjs_synth.h"
#include "cli/cli_batch.h"
#include "cli/cli_batch_check.h"
#include "cli/cli_batch_state.h"
#include "core/fsutil.h"
#include "enhance/brisque_yml.h"
#include "enhance/check.h"
#include "enhance/ops.h"
#include "fault_alloc.h"
#include "nn/manifest.h"
#include "nn/tfjs_container.h"
#include "nn/tfjs_load.h"
#include "serve/config.h"
#include "serve/server_check.h"
#include "serve/server_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#else
#define HAVE_LSAN 0
#endif

extern const unsigned char enh_manifest_json[];
extern const size_t enh_manifest_json_len;

/* ---- digests: a result as bytes, made with the allocations disarmed ---- */

typedef struct blob {
    char *p;
    size_t n, cap;
} blob;

static void put(blob *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 64;
        char *q = realloc(b->p, cap);
        if (!q)
            abort(); /* the test's own memory, never failed */
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void putf(blob *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(blob *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_text(blob *b, char *s) /* takes s */
{
    putf(b, "%s", s ? s : "(null)");
    free(s);
}

/* One parser: run (armed: what is counted and failed) fills the parser's own static result;
 * digest (disarmed) describes it and frees it. */
typedef struct parser {
    const char *name;
    enh_status (*run)(enh_error *err);
    void (*digest)(enh_status st, blob *b);
    void (*prepare)(void); /* disarmed, before each run; may be NULL */
} parser;

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

/* ---- a moderation policy ---- */
static enh_check_policy g_policy;
static const char policy_json[] = "{\"base\": \"default\", \"porn\": {\"review\": 0.55, \"block\": 0.875},"
                                  " \"hentai\": {\"review\": null, \"block\": 0.9}, \"sexy\": {\"review\": 0.7}}";
static enh_status policy_run(enh_error *err)
{
    return enh_check_policy_from_json(policy_json, strlen(policy_json), &g_policy, err);
}
static void policy_digest(enh_status st, blob *b)
{
    if (!st)
        put(b, &g_policy, sizeof g_policy); /* two arrays of doubles: no padding */
}

/* ---- a check's JSON (it re-reads the assessment's) ---- */
static enh_check_result g_res;
static char *g_check_json;
static void make_check_result(int with_assessment)
{
    memset(&g_res, 0, sizeof g_res);
    g_res.width = 640, g_res.height = 480;
    g_res.moderation_ran = 1;
    for (int c = 0; c < ENH_NSFW_NCLASSES; c++)
        g_res.probs[c] = 0.1f * (float)(c + 1);
    snprintf(g_res.classifier, sizeof g_res.classifier, "nsfwjs-mobilenetv2");
    enh_check_policy_default(&g_res.policy);
    g_res.decision = enh_check_decide(&g_res.policy, g_res.probs, g_res.reasons, &g_res.nreasons);
    g_res.brisque_ran = 1, g_res.brisque = 23.5;
    g_res.assess_ran = with_assessment;
    g_res.assess_status = with_assessment ? ENH_OK : ENH_EUNSUPPORTED;
    snprintf(g_res.assess_error, sizeof g_res.assess_error, "no assessment: a test");
    g_res.assess.width = 640, g_res.assess.height = 480, g_res.assess.megapixels = 0.3072;
    g_res.assess.blur = 0.25, g_res.assess.sharpness = 75, g_res.assess.jpeg_quality = 82;
    g_res.assess.noise_sigma = 3.5, g_res.assess.mean_lightness = 48.25, g_res.assess.score = 71;
    g_res.moderation_s = 0.012, g_res.brisque_s = 0.034, g_res.assess_s = 0.056;
}
static enh_status check_run(enh_error *err)
{
    g_check_json = enh_check_result_to_json(&g_res, "photos/summer.jpg");
    return g_check_json ? ENH_OK : enh_fail(err, ENH_ENOMEM, "out of memory (the check's JSON)");
}
static void check_digest(enh_status st, blob *b)
{
    if (!st)
        putf(b, "%s", g_check_json);
    free(g_check_json);
    g_check_json = NULL;
}

/* ---- the server's moderation details of a job ---- */
static json_t *g_details;
static enh_status details_run(enh_error *err)
{
    serve_check c;
    memset(&c, 0, sizeof c);
    c.res = g_res;
    c.ran = 1;
    serve_job j;
    memset(&j, 0, sizeof j);
    j.check = &c;
    g_details = serve_check_details(&j);
    /* NULL is its answer for out of memory (the details are left out of the response) */
    return g_details ? ENH_OK : enh_fail(err, ENH_ENOMEM, "out of memory (no details)");
}
static void details_digest(enh_status st, blob *b)
{
    if (!st)
        put_text(b, json_dumps(g_details, JSON_COMPACT | JSON_SORT_KEYS));
    json_decref(g_details);
    g_details = NULL;
}

/* ---- the server's model configuration ---- */
static serve_models_config g_cfg;
static const char config_json[] =
    "{\"models_dir\": \"/srv/models\", \"defaults\": {\"instances\": 2, \"max_queue\": 64},"
    " \"resample\": {\"max_queue\": 100, \"default_deadline_ms\": 2500},"
    " \"models\": [{\"name\": \"realesrgan-x4fast\", \"max_batch\": 4, \"tile_size\": 256},"
    "              {\"name\": \"custom-one\", \"param\": \"custom/net.param\", \"purpose\": \"art\"}]}";
static enh_status config_run(enh_error *err) { return serve_models_config_parse(config_json, "/etc/enhance", &g_cfg, err); }
static void cfg_put(blob *b, const serve_model_cfg *m)
{
    putf(b, "%s|%s|%s|%d|%s|%d %d %d %d|%.17g %.17g|%d;", m->name, m->param_path, m->bin_path, m->custom, m->purpose,
         m->instances, m->tile_size, m->max_batch, m->max_queue, m->max_queue_delay_ms, m->default_deadline_ms,
         (int)m->precision);
}
static void config_digest(enh_status st, blob *b)
{
    if (!st) {
        putf(b, "%s|%d;", g_cfg.models_dir, g_cfg.nmodels);
        cfg_put(b, &g_cfg.resample);
        for (int i = 0; i < g_cfg.nmodels; i++)
            cfg_put(b, &g_cfg.models[i]);
    }
    serve_models_config_free(&g_cfg);
}

/* ---- the batch's check report, read back on resume ---- */
static char g_report[512];
static cli_batch_checker g_bc;
static int write_report(void)
{
    snprintf(g_report, sizeof g_report, "%s/report.jsonl", g_dir);
    FILE *f = fopen(g_report, "w");
    if (!f)
        return -1;
    const char *acts[] = {"enhanced", "blocked", "failed"};
    for (int i = 0; i < 24; i++)
        fprintf(f, "{\"image\": \"album/%s-%02d.jpg\", \"decision\": \"%s\", \"action\": \"%s\"%s}\n",
                i % 2 ? "beach" : "a_rather_long_file_name_for_the_lexer", i, i % 3 == 1 ? "block" : "allow",
                acts[i % 3], i % 3 == 2 ? ", \"error\": \"cannot decode\"" : "");
    return fclose(f);
}
static enh_status report_run(enh_error *err)
{
    char msg[512];
    if (cli_batch_check_open(&g_bc, g_report, ENH_MODERATION_OFF, NULL, 0, msg, sizeof msg) == 0)
        return ENH_OK;
    /* the batch's messages carry no class: "out of memory" in it is the class */
    return enh_fail(err, strstr(msg, "out of memory") ? ENH_ENOMEM : ENH_EIO, "%s", msg);
}
static void report_digest(enh_status st, blob *b)
{
    if (!st) {
        putf(b, "%zu;", g_bc.nblocked);
        for (size_t i = 0; i < g_bc.nblocked; i++)
            putf(b, "%s;", g_bc.blocked[i]);
    }
    cli_batch_check_close(&g_bc);
}

/* ---- a line of the batch's check report (it re-reads the check's JSON) ---- */
static char g_report2[512];
static cli_batch_checker g_wbc;
static int open_report2(void)
{
    char msg[512];
    snprintf(g_report2, sizeof g_report2, "%s/report2.jsonl", g_dir);
    return cli_batch_check_open(&g_wbc, g_report2, ENH_MODERATION_OFF, NULL, 1, msg, sizeof msg);
}
static void line_prepare(void) /* an empty report: the line of this run only */
{
    if (truncate(g_report2, 0) || lseek(g_wbc.fd, 0, SEEK_SET) < 0)
        abort();
}
static enh_status line_run(enh_error *err)
{
    cli_batch_check_record(&g_wbc, "album/beach-01.jpg", &g_res, NULL);
    struct stat st;
    /* the writer says nothing: no line is its answer for out of memory */
    return stat(g_report2, &st) == 0 && st.st_size > 0 ? ENH_OK : enh_fail(err, ENH_ENOMEM, "out of memory (no line)");
}
static void line_digest(enh_status st, blob *b)
{
    (void)st;
    char *text = NULL;
    size_t len = 0;
    if (!enh_read_file(g_report2, 1 << 20, &text, &len, NULL))
        put(b, text, len);
    free(text);
}

/* ---- the batch's options state, read back on resume ---- */
static char g_state_dir[512], g_state_path[600];
static char *g_state_text;
static size_t g_state_len;
static cli_settings g_settings;
static struct timespec g_since;
static int g_fresh;
static int write_state_dir(void)
{
    snprintf(g_state_dir, sizeof g_state_dir, "%s/out", g_dir);
    snprintf(g_state_path, sizeof g_state_path, "%s/%s", g_state_dir, CLI_BATCH_STATE_FILE);
    memset(&g_settings, 0, sizeof g_settings);
    enh_ops_init(&g_settings.ops);
    g_settings.ops.denoise = 40;
    g_settings.nn = *enh_nn_options_default();
    enh_error err = {0};
    int fresh = 0;
    if (mkdir(g_state_dir, 0755) || cli_batch_state_establish(g_state_dir, &g_settings, &g_since, &fresh, &err) ||
        !fresh || enh_read_file(g_state_path, 1 << 20, &g_state_text, &g_state_len, &err))
        return -1;
    return 0;
}
static void state_prepare(void) /* the state as the first run wrote it, whatever a failed run did */
{
    FILE *f = fopen(g_state_path, "wb");
    if (!f || fwrite(g_state_text, 1, g_state_len, f) != g_state_len || fclose(f))
        abort();
}
static enh_status state_run(enh_error *err)
{
    return cli_batch_state_establish(g_state_dir, &g_settings, &g_since, &g_fresh, err) ? err->code : ENH_OK;
}
static void state_digest(enh_status st, blob *b)
{
    if (!st)
        putf(b, "%d %lld.%09ld", g_fresh, (long long)g_since.tv_sec, g_since.tv_nsec);
    char *text = NULL;
    size_t len = 0;
    if (!enh_read_file(g_state_path, 1 << 20, &text, &len, NULL)) /* never rewritten when it stands */
        put(b, text, len);
    free(text);
}

static const parser g_parsers[] = {
    {"ops", ops_run, ops_digest, NULL},
    {"manifest", manifest_run, manifest_digest, NULL},
    {"tfjs", tfjs_run, tfjs_digest, NULL},
    {"container", container_run, container_digest, NULL},
    {"yml", yml_run, yml_digest, NULL},
    {"policy", policy_run, policy_digest, NULL},
    {"check", check_run, check_digest, NULL},
    {"details", details_run, details_digest, NULL},
    {"config", config_run, config_digest, NULL},
    {"report", report_run, report_digest, NULL},
    {"line", line_run, line_digest, line_prepare},
    {"state", state_run, state_digest, state_prepare},
};

/* One run: the status, its message and the digest; *count the allocations made. */
static enh_status one(const parser *p, long fail_at, int persistent, long *count, enh_error *err, blob *b)
{
    memset(err, 0, sizeof *err);
    b->n = 0;
    if (p->prepare)
        p->prepare();
    fault_alloc_arm(fail_at, persistent);
    enh_status st = p->run(err);
    *count = fault_alloc_disarm();
    p->digest(st, b);
    return st;
}

/* Every stride-th allocation of p, one-shot then persistent; returns the number of runs. */
static int sweep(const parser *p, int stride, int verbose)
{
    enh_error err;
    blob ref = {0}, b = {0};
    long count = 0;
    enh_status st = one(p, 0, 0, &count, &err, &ref);
    CHECK_MSG(st == ENH_OK, "%s: the run without failures: %s", p->name, err.msg);
#if HAVE_LSAN
    CHECK_MSG(!__lsan_do_recoverable_leak_check(), "%s: leaks without any failure", p->name);
#endif
    int runs = 0, enomem = 0, same = 0;
    for (int persistent = 0; persistent < 2 && st == ENH_OK; persistent++)
        for (long n = 1; n <= count; n += stride) {
            long c = 0;
            enh_status s = one(p, n, persistent, &c, &err, &b);
            const char *mode = persistent ? "persistent" : "one-shot";
            runs++;
            if (s == ENH_OK) {
                int eq = b.n == ref.n && !memcmp(b.p, ref.p, b.n);
                same += eq;
                CHECK_MSG(eq, "%s %s #%ld: succeeded with a different result (%zu bytes, reference %zu)", p->name, mode,
                          n, b.n, ref.n);
            } else {
                enomem += s == ENH_ENOMEM;
                CHECK_MSG(s == ENH_ENOMEM && strstr(err.msg, "out of memory"),
                          "%s %s #%ld: status %d, not ENH_ENOMEM with \"out of memory\": %s", p->name, mode, n, (int)s,
                          err.msg);
            }
#if HAVE_LSAN
            CHECK_MSG(!__lsan_do_recoverable_leak_check(), "%s %s #%ld: leak (report above); status %d: %s", p->name,
                      mode, n, (int)s, err.msg);
#endif
            if (verbose)
                printf("%s %s #%ld: status %d%s%s\n", p->name, mode, n, (int)s, s ? ": " : "", s ? err.msg : "");
        }
    printf("%-8s %4ld allocations, %4d runs: %4d ENH_ENOMEM, %4d the reference result\n", p->name, count, runs, enomem,
           same);
    free(ref.p);
    free(b.p);
    return runs;
}

/* enh_manifest_models: a first parse that runs out of memory says so, and the next call parses
 * again (the manifest is not left empty for the process's life). Run before anything else of
 * this process reads the manifest. */
static void manifest_retry(void)
{
    int n = -1;
    enh_error err = {0};
    fault_alloc_arm(1, 1);
    const enh_model_entry *e = enh_manifest_models(&n, &err);
    fault_alloc_disarm();
    CHECK_MSG(!e && n == 0 && err.code == ENH_ENOMEM, "a manifest parse without memory: %d models, status %d: %s", n,
              (int)err.code, err.msg);
    CHECK(enh_manifest_find("realesrgan-x4fast") != NULL);
    e = enh_manifest_models(&n, &err);
    CHECK_MSG(e && n > 0, "the manifest after a failed first parse: %d models", n);
}

int main(int argc, char **argv)
{
    int stride = 1, verbose = 0, with_assessment = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stride") && i + 1 < argc)
            stride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--verbose"))
            verbose = 1;
        else if (!strcmp(argv[i], "--with-assessment"))
            with_assessment = 1;
        else {
            fprintf(stderr, "usage: %s [--stride K] [--only NAME] [--verbose] [--with-assessment]\n", argv[0]);
            return 2;
        }
    }
    if (stride < 1)
        stride = 1;
    manifest_retry();
    snprintf(g_dir, sizeof g_dir, "/tmp/enh-fault-json-XXXXXX");
    if (!mkdtemp(g_dir) || write_tfjs_model() || write_report() || write_container() || write_state_dir() || open_report2()) {
        fprintf(stderr, "setup: cannot write the test files in %s\n", g_dir);
        return 2;
    }
    make_check_result(with_assessment);
    int runs = 0;
    for (size_t i = 0; i < sizeof g_parsers / sizeof *g_parsers; i++)
        if (!only || !strcmp(only, g_parsers[i].name))
            runs += sweep(&g_parsers[i], stride, verbose);
    printf("%d runs\n", runs);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    CHECK(system(cmd) == 0);
    free(g_state_text);
    cli_batch_check_close(&g_wbc);
    CHECK_MAIN_END();
}
