/* config_installed.c - the zero-config model configuration: with no --models-config, the
 * server serves every manifest model installed in the models folder the CLI uses
 * ($ENHANCE_MODELS_DIR, else ~/.cache/enhance/models), so `enhance serve` on a developer
 * machine runs the same AI models as `enhance photo.jpg --upscale 4` without a config file.
 * The container keeps its explicit config (deploy/models.json).
 *
 * Per-model defaults are those of a config file's model entry, except that the slow
 * realesrgan-x4plus ("quality") gets a short queue and a long deadline, as deploy/models.json
 * gives it: one 1 MP image takes it ~40 s on 2 cores. TF.js models (maxim-*) are not listed:
 * the pipeline runs them itself (stage_model.c) from the same folder; they are only logged.
 * Moderation classifiers (purpose "moderation", nsfwjs-*) are neither served nor logged here.
 * Thread-safety: plain data, like config.c. Errors: ENH_ENOMEM only (an empty folder is an
 * empty configuration, not an error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "nn/manifest.h"
#include "serve/config.h"

enh_status serve_models_config_installed(serve_models_config *c, enh_error *err)
{
    serve_models_config_init(c);
    int n = 0;
    enh_error merr;
    const enh_model_entry *all = enh_manifest_models(&n, &merr);
    if (!all)
        return ENH_OK;
    c->models = calloc((size_t)(n > 0 ? n : 1), sizeof *c->models);
    if (!c->models)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    char served[512] = "", restorers[512] = "", missing[512] = "";
    size_t so = 0, ro = 0, mo = 0;
    for (int i = 0; i < n; i++) {
        const enh_model_entry *e = &all[i];
        int installed = enh_model_installed(e, c->models_dir);
        if (!installed) {
            if (mo < sizeof missing - 70)
                mo += (size_t)snprintf(missing + mo, sizeof missing - mo, "%s%s", mo ? " " : "", e->name);
            continue;
        }
        if (enh_model_is_classifier(e)) /* moderation (nsfwjs): `enhance check`, never an enhancement model */
            continue;
        if (e->format != ENH_MODEL_NCNN) {
            if (ro < sizeof restorers - 70)
                ro += (size_t)snprintf(restorers + ro, sizeof restorers - ro, "%s%s", ro ? ", " : "", e->name);
            continue;
        }
        serve_model_cfg *m = &c->models[c->nmodels++];
        m->instances = 1;
        m->max_batch = 4;
        m->max_queue = 32;
        m->max_queue_delay_ms = 2;
        m->default_deadline_ms = 60000;
        snprintf(m->name, sizeof m->name, "%s", e->name);
        if (enh_model_files(e, c->models_dir, m->param_path, m->bin_path, sizeof m->param_path, NULL) != ENH_OK)
            snprintf(m->param_path, sizeof m->param_path, "%.900s/%.60s.param", c->models_dir, e->name);
        if (!strcmp(e->name, "realesrgan-x4plus")) {
            snprintf(m->purpose, sizeof m->purpose, "quality");
            m->max_queue = 8;
            m->default_deadline_ms = 300000;
        } else {
            snprintf(m->purpose, sizeof m->purpose, "%s", e->purpose);
        }
        if (so < sizeof served - 70)
            so += (size_t)snprintf(served + so, sizeof served - so, "%s%s (%s)", so ? ", " : "", m->name,
                                   m->purpose);
    }
    snprintf(c->source, sizeof c->source, "installed models in %.990s", c->models_dir);
    ENH_LOGI("serve: no --models-config: serving the installed models of %s: %s", c->models_dir,
             c->nmodels ? served : "none");
    if (ro)
        ENH_LOGI("serve: same-size restorers available through model=NAME: %s", restorers);
    if (mo)
        ENH_LOGI("serve: not installed: %s (install with `enhance models fetch NAME`, then send SIGHUP or restart "
                 "to serve them)",
                 missing);
    return ENH_OK;
}
