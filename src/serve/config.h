/* config.h - the server's model configuration ("model repository").
 *
 * Source: a JSON file, or a folder. A folder holds <name>.param + <name>.bin pairs (each
 * becomes a model with the defaults) and optionally a config.json (then that file decides).
 * models_dir defaults to enh_models_default_dir() (src/nn/manifest.h).
 * JSON (unknown keys are errors that name the key):
 *   {"models_dir": "DIR",                      relative to the file's folder; default: the
 *                                              folder itself, else $ENHANCE_MODELS_DIR, else
 *                                              ${XDG_CACHE_HOME:-~/.cache}/enhance/models
 *    "defaults": {MODEL SETTINGS},             applied to every model (and "resample")
 *    "resample": {"max_queue", "default_deadline_ms"},   requests that run no network
 *    "models": [{"name": "realesrgan-x4fast", "purpose": "photo", MODEL SETTINGS}, ...]}
 *   A model named in the manifest (src/nn/manifest.h) is loaded from models_dir and checked
 *   against its sha256; any other model needs "param": "FILE.param" (its .bin beside it).
 *   MODEL SETTINGS: "instances" (1), "tile_size" (LR px; 0 = the tiler picks from its memory budget),
 *   "max_batch" (4), "max_queue_delay_ms" (2), "max_queue" (requests waiting, 32),
 *   "default_deadline_ms" (60000), "precision" ("fp32" | "bf16"; default "auto": the process
 *   default, nn_options.h). The precision is part of the model cache's key, so two entries can
 *   serve the same network in fp32 and in bf16 side by side (the second one under another name,
 *   with "param" pointing at the same .param file).
 * Ownership: serve_models_config owns its arrays (serve_models_config_free).
 * Thread-safety: plain data. Errors: ENH_EINVAL/ENH_ENOTFOUND with the file and key named.
 */
#ifndef ENH_SERVE_CONFIG_H
#define ENH_SERVE_CONFIG_H

#include "core/error.h"
#include "nn/precision.h"

typedef struct serve_model_cfg {
    char name[64];
    char param_path[1024], bin_path[1024]; /* bin = param with .bin */
    int custom;       /* "param" given: loaded by path (no manifest checksum) */
    char purpose[32]; /* photo / art / quality / "" */
    int instances, tile_size, max_batch, max_queue;
    double max_queue_delay_ms, default_deadline_ms;
    enh_precision precision; /* DEFAULT = the process default options' */
} serve_model_cfg;

typedef struct serve_models_config {
    char source[1024];     /* the file or folder it came from ("" = none) */
    char models_dir[1024];
    serve_model_cfg *models;
    int nmodels;
    serve_model_cfg resample; /* queue + deadline for requests without a network */
} serve_models_config;

/* Empty configuration (no models) with the built-in defaults. */
void serve_models_config_init(serve_models_config *c);
/* path: a JSON file or a model-repository folder. */
enh_status serve_models_config_load(const char *path, serve_models_config *c, enh_error *err);
/* Parses JSON text; base_dir resolves relative paths. */
enh_status serve_models_config_parse(const char *json, const char *base_dir, serve_models_config *c,
                                     enh_error *err);
/* Zero-config (no --models-config; config_installed.c): every ncnn model of the manifest installed
 * in the default models folder, with per-model defaults; logs what it serves and what is missing. */
enh_status serve_models_config_installed(serve_models_config *c, enh_error *err);
void serve_models_config_free(serve_models_config *c);
const serve_model_cfg *serve_models_config_find(const serve_models_config *c, const char *name);

#endif
