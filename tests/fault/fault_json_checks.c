/* fault_json_checks.c - test_fault_json's cases of moderation, the server and the batch
 * (fault_json.h): a moderation policy, a check's JSON (it re-reads the assessment's), the
 * server's moderation details of a job and its model configuration, the batch's check report
 * read back and a line written to it, the batch's options state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_batch.h"
#include "cli/cli_batch_check.h"
#include "cli/cli_batch_state.h"
#include "core/fsutil.h"
#include "enhance/check.h"
#include "enhance/ops.h"
#include "fault_json.h"
#include "serve/config.h"
#include "serve/server_check.h"
#include "serve/server_internal.h"

static char g_dir[256];

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

const parser fj_check_cases[] = {
    {"policy", policy_run, policy_digest, NULL},
    {"check", check_run, check_digest, NULL},
    {"details", details_run, details_digest, NULL},
    {"config", config_run, config_digest, NULL},
    {"report", report_run, report_digest, NULL},
    {"line", line_run, line_digest, line_prepare},
    {"state", state_run, state_digest, state_prepare},
};
const int fj_check_ncases = sizeof fj_check_cases / sizeof *fj_check_cases;

int fj_checks_setup(const char *dir, int with_assessment)
{
    snprintf(g_dir, sizeof g_dir, "%s", dir);
    make_check_result(with_assessment);
    return write_report() || write_state_dir() || open_report2();
}

void fj_checks_teardown(void)
{
    free(g_state_text);
    g_state_text = NULL;
    cli_batch_check_close(&g_wbc);
}
