/* manifest.c - embedded model manifest, models folder, verification (see manifest.h). */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json_mem.h"
#include "nn/manifest.h"
#include "nn/sha256.h"

extern const unsigned char enh_manifest_json[];
extern const size_t enh_manifest_json_len;

/* the embedded manifest, parsed on first use (manifest_ready): final once g_parsed is set */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_parsed;
static enh_model_entry *entries;
static int nentries;
static char default_model[64];
static enh_error parse_err;

static int copy_str(json_t *obj, const char *key, char *dst, size_t size)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s || strlen(s) >= size)
        return -1;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static const enh_model_file *find_file(const enh_model_entry *e, const char *name)
{
    for (int i = 0; i < e->nfiles; i++)
        if (!strcmp(e->files[i].file, name))
            return &e->files[i];
    return NULL;
}

enh_status enh_manifest_parse(const char *json, size_t len, enh_model_entry **out, int *count, char *default_name,
                              size_t default_size, enh_error *err)
{
    *out = NULL;
    *count = 0;
    if (default_size)
        default_name[0] = 0;
    json_error_t je;
    json_t *root;
    if (enh_json_parse(json, len, 0, "the embedded models/manifest.json", &root, &je, err))
        return ENH_ENOMEM;
    json_t *models = root ? json_object_get(root, "models") : NULL;
    if (!root || !json_is_array(models)) {
        enh_fail(err, ENH_EINTERNAL, "embedded models/manifest.json is invalid: %s", root ? "no models" : je.text);
        json_decref(root);
        return ENH_EINTERNAL;
    }
    size_t n = json_array_size(models);
    enh_model_entry *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        json_decref(root);
        return enh_fail(err, ENH_ENOMEM, "out of memory for the %zu entries of the model manifest", n);
    }
    int nv = 0;
    const char *def = json_string_value(json_object_get(root, "default"));
    snprintf(default_name, default_size, "%s", def ? def : "");
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(models, i), *files = json_object_get(m, "files");
        enh_model_entry *e = &v[nv];
        if (copy_str(m, "name", e->name, sizeof e->name) || copy_str(m, "package", e->package, sizeof e->package) ||
            copy_str(m, "version", e->version, sizeof e->version) ||
            copy_str(m, "tarball_dir", e->tarball_dir, sizeof e->tarball_dir) ||
            copy_str(m, "purpose", e->purpose, sizeof e->purpose) ||
            copy_str(m, "licence", e->licence, sizeof e->licence) ||
            copy_str(m, "description", e->description, sizeof e->description) || !json_is_array(files) ||
            json_array_size(files) < 1 || json_array_size(files) > ENH_MODEL_MAX_FILES) {
            enh_fail(err, ENH_EINTERNAL, "embedded manifest: model %zu is malformed", i);
            continue;
        }
        e->scale = (int)json_integer_value(json_object_get(m, "scale"));
        json_t *fmt = json_object_get(m, "format"), *pad = json_object_get(m, "pad_multiple");
        const char *fs = fmt ? json_string_value(fmt) : "ncnn";
        e->format = fs && !strcmp(fs, "tfjs") ? ENH_MODEL_TFJS
                    : fs && !strcmp(fs, "tfjs-layers") ? ENH_MODEL_TFJS_LAYERS : ENH_MODEL_NCNN;
        e->pad_multiple = pad ? (int)json_integer_value(pad) : 1;
        /* the name becomes a folder name for tfjs models: no path separators, no hidden names */
        int ok = e->scale >= 1 && e->scale <= 8 && fs && (!strcmp(fs, "ncnn") || !strcmp(fs, "tfjs") || !strcmp(fs, "tfjs-layers")) &&
                 (!pad || json_is_integer(pad)) && e->pad_multiple >= 1 && e->pad_multiple <= 1024 &&
                 e->name[0] && e->name[0] != '.' && !strchr(e->name, '/');
        for (size_t k = 0; k < json_array_size(files) && ok; k++) {
            json_t *f = json_array_get(files, k);
            enh_model_file *mf = &e->files[k];
            ok = !copy_str(f, "file", mf->file, sizeof mf->file) && !copy_str(f, "sha256", mf->sha256, sizeof mf->sha256) &&
                 strlen(mf->sha256) == 64 && !strchr(mf->file, '/');
            mf->bytes = (size_t)json_integer_value(json_object_get(f, "bytes"));
        }
        if (!ok) {
            enh_fail(err, ENH_EINTERNAL, "embedded manifest: model %s is malformed", e->name);
            continue;
        }
        e->nfiles = (int)json_array_size(files);
        if (e->format == ENH_MODEL_TFJS && !find_file(e, "model.json")) {
            enh_fail(err, ENH_EINTERNAL, "embedded manifest: tfjs model %s has no model.json", e->name);
            continue;
        }
        if (e->format == ENH_MODEL_TFJS_LAYERS && !find_file(e, "model.json") && !find_file(e, "model.min.js")) {
            enh_fail(err, ENH_EINTERNAL, "embedded manifest: tfjs-layers model %s has no model.json or model.min.js",
                     e->name);
            continue;
        }
        nv++;
    }
    json_decref(root);
    if (!nv) {
        free(v);
        if (!n)
            enh_fail(err, ENH_EINTERNAL, "embedded models/manifest.json lists no model");
        return ENH_EINTERNAL;
    }
    *out = v;
    *count = nv;
    return ENH_OK;
}

/* Parses the embedded manifest once it parses whole; a parse that ran out of memory is tried
 * again at the next call (that one failed with ENH_ENOMEM in *err). 1 when parsed. */
static int manifest_ready(enh_error *err)
{
    if (atomic_load_explicit(&g_parsed, memory_order_acquire))
        return 1;
    pthread_mutex_lock(&g_mu);
    if (!atomic_load_explicit(&g_parsed, memory_order_relaxed)) {
        enh_error e = {0};
        enh_status st = enh_manifest_parse((const char *)enh_manifest_json, enh_manifest_json_len, &entries,
                                           &nentries, default_model, sizeof default_model, &e);
        if (st == ENH_ENOMEM) {
            if (err)
                *err = e;
        } else {
            parse_err = e;
            atomic_store_explicit(&g_parsed, 1, memory_order_release);
        }
    }
    int ready = atomic_load_explicit(&g_parsed, memory_order_relaxed);
    pthread_mutex_unlock(&g_mu);
    return ready;
}

const enh_model_entry *enh_manifest_models(int *count, enh_error *err)
{
    *count = 0;
    if (!manifest_ready(err))
        return NULL;
    *count = nentries;
    if (!nentries && err)
        *err = parse_err;
    return nentries ? entries : NULL;
}

const enh_model_entry *enh_manifest_find(const char *name)
{
    int n;
    const enh_model_entry *e = enh_manifest_models(&n, NULL);
    for (int i = 0; i < n && name; i++)
        if (!strcmp(e[i].name, name))
            return &e[i];
    return NULL;
}

enh_status enh_manifest_names(int format, char *list, size_t n, enh_error *err)
{
    int count;
    enh_error merr = {0};
    const enh_model_entry *all = enh_manifest_models(&count, &merr);
    if (n)
        list[0] = 0;
    if (!all && merr.code == ENH_ENOMEM)
        return enh_fail(err, ENH_ENOMEM, "%s", merr.msg);
    for (int i = 0; i < count && n; i++)
        if (format < 0 || all[i].format == (enh_model_format)format)
            snprintf(list + strlen(list), n - strlen(list), "%s%s", list[0] ? ", " : "", all[i].name);
    return ENH_OK;
}

const enh_model_entry *enh_manifest_find_tfjs(const char *name)
{
    const enh_model_entry *e = enh_manifest_find(name);
    return e && e->format == ENH_MODEL_TFJS ? e : NULL;
}

const char *enh_manifest_default_model(void)
{
    return manifest_ready(NULL) ? default_model : "";
}

void enh_models_dir_rule(const char *models_dir, const char *xdg_cache_home, const char *home, char *out, size_t n)
{
    if (models_dir && *models_dir) {
        snprintf(out, n, "%s", models_dir);
        return;
    }
    if (xdg_cache_home && *xdg_cache_home) {
        snprintf(out, n, "%s/enhance/models", xdg_cache_home);
        return;
    }
    char pwbuf[4096];
    struct passwd pw, *res = NULL;
    if (!(home && *home) && getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res)
        home = res->pw_dir;
    snprintf(out, n, "%s/.cache/enhance/models", home && *home ? home : ".");
}

static char g_models_dir[4096]; /* "" = not set */
static pthread_once_t g_models_dir_once = PTHREAD_ONCE_INIT;
static char g_home_models_dir[4096];

static void home_models_dir(void) { enh_models_dir_rule(NULL, NULL, NULL, g_home_models_dir, sizeof g_home_models_dir); }

const char *enh_models_default_dir(void)
{
    if (g_models_dir[0])
        return g_models_dir;
    pthread_once(&g_models_dir_once, home_models_dir);
    return g_home_models_dir;
}

void enh_models_set_default_dir(const char *dir) { snprintf(g_models_dir, sizeof g_models_dir, "%s", dir ? dir : ""); }

static const enh_model_file *find_ext(const enh_model_entry *e, const char *ext)
{
    for (int i = 0; i < e->nfiles; i++) {
        size_t l = strlen(e->files[i].file), el = strlen(ext);
        if (l > el && !strcmp(e->files[i].file + l - el, ext))
            return &e->files[i];
    }
    return NULL;
}

const char *enh_model_format_name(enh_model_format f)
{
    return f == ENH_MODEL_TFJS ? "tfjs" : f == ENH_MODEL_TFJS_LAYERS ? "tfjs-layers" : "ncnn";
}

int enh_model_is_classifier(const enh_model_entry *e) { return e && !strcmp(e->purpose, "moderation"); }

size_t enh_model_bytes(const enh_model_entry *e)
{
    size_t n = 0;
    for (int i = 0; i < e->nfiles; i++)
        n += e->files[i].bytes;
    return n;
}

enh_status enh_model_folder(const enh_model_entry *e, const char *dir, char *path, size_t size, enh_error *err)
{
    if (!dir)
        dir = enh_models_default_dir();
    int n = e->format != ENH_MODEL_NCNN ? snprintf(path, size, "%s/%s", dir, e->name) : snprintf(path, size, "%s", dir);
    if (n < 0 || (size_t)n >= size)
        return enh_fail(err, ENH_EINVAL, "models folder path is too long: %s", dir);
    return ENH_OK;
}

enh_status enh_model_tfjs_path(const enh_model_entry *e, const char *dir, char *path, size_t size, enh_error *err)
{
    if (e->format != ENH_MODEL_TFJS)
        return enh_fail(err, ENH_EUNSUPPORTED, "model %s is an %s model, not a TF.js graph model", e->name,
                        enh_model_format_name(e->format));
    if (!dir)
        dir = enh_models_default_dir();
    int n = snprintf(path, size, "%s/%s/model.json", dir, e->name);
    if (n < 0 || (size_t)n >= size)
        return enh_fail(err, ENH_EINVAL, "models folder path is too long: %s", dir);
    return ENH_OK;
}

enh_status enh_model_files(const enh_model_entry *e, const char *dir, char *param, char *bin, size_t size,
                           enh_error *err)
{
    if (enh_model_is_classifier(e))
        return enh_fail(err, ENH_EUNSUPPORTED, "model %s is a moderation classifier (`enhance check`), not an "
                        "enhancement model", e->name);
    if (e->format != ENH_MODEL_NCNN)
        return enh_fail(err, ENH_EUNSUPPORTED, "model %s is a %s model, not an ncnn .param/.bin pair", e->name,
                        enh_model_format_name(e->format));
    if (!dir)
        dir = enh_models_default_dir();
    const enh_model_file *p = find_ext(e, ".param"), *b = find_ext(e, ".bin");
    if (!p || !b)
        return enh_fail(err, ENH_EUNSUPPORTED, "model %s has no .param/.bin pair in the manifest", e->name);
    if ((size_t)snprintf(param, size, "%s/%s", dir, p->file) >= size ||
        (size_t)snprintf(bin, size, "%s/%s", dir, b->file) >= size)
        return enh_fail(err, ENH_EINVAL, "models folder path is too long: %s", dir);
    return ENH_OK;
}

int enh_model_installed(const enh_model_entry *e, const char *dir)
{
    char folder[4352], path[4608];
    if (enh_model_folder(e, dir, folder, sizeof folder, NULL) != ENH_OK)
        return 0;
    for (int i = 0; i < e->nfiles; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", folder, e->files[i].file);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != e->files[i].bytes)
            return 0;
    }
    return 1;
}

enh_status enh_model_verify(const enh_model_entry *e, const char *dir, enh_error *err)
{
    char folder[4352], path[4608], hex[65];
    enh_status fst = enh_model_folder(e, dir, folder, sizeof folder, err);
    if (fst != ENH_OK)
        return fst;
    for (int i = 0; i < e->nfiles; i++) {
        size_t bytes;
        snprintf(path, sizeof path, "%s/%s", folder, e->files[i].file);
        enh_status st = enh_sha256_file(path, hex, &bytes, err);
        if (st == ENH_ENOTFOUND)
            return enh_fail(err, ENH_ENOTFOUND, "model %s is not installed (%s is missing): run `enhance models fetch %s`",
                            e->name, path, e->name);
        if (st != ENH_OK)
            return st;
        if (strcmp(hex, e->files[i].sha256) || bytes != e->files[i].bytes)
            return enh_fail(err, ENH_EINVAL,
                            "model file %s is corrupt or modified (sha256 %.16s..., expected %.16s...): "
                            "run `enhance models fetch --force %s`", path, hex, e->files[i].sha256, e->name);
    }
    return ENH_OK;
}
