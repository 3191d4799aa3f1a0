/* cmd_check.c - `enhance check IMAGE... [--json] [--policy SPEC] [--model NAME]`: moderation
 * (class probabilities and the policy's decision), the BRISQUE score and our own assessment of
 * each image, for people (one block per image) or scripts (--json: one JSON document per line),
 * with an exit status a script can act on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/fsutil.h"
#include "enhance/check.h"
#include "image/image_decode.h"
#include "image/image_init.h"

/* Exit codes, the most urgent of all the images wins (in this order). */
enum { CX_ALLOW = 0, CX_INPUT = 1, CX_INTERNAL = 2, CX_REVIEW = 3, CX_BLOCK = 4, CX_UNCHECKED = 5 };
static int urgency(int x)
{
    static const int rank[] = {[CX_ALLOW] = 0, [CX_UNCHECKED] = 1, [CX_REVIEW] = 2, [CX_BLOCK] = 3, [CX_INPUT] = 4,
                               [CX_INTERNAL] = 5};
    return rank[x];
}

static void usage(FILE *f)
{
    char def[256];
    enh_check_policy p;
    enh_check_policy_default(&p);
    enh_check_policy_format(&p, def, sizeof def);
    fprintf(f,
"usage: enhance check IMAGE... [--json] [--policy SPEC] [--model NAME] [--skip PART] [--require PART]\n"
"\n"
"Checks each image for a marketplace: content moderation (the nsfwjs classifier's probabilities of\n"
"drawing, hentai, neutral, porn, sexy, and the policy's decision: allow, review or block, with the\n"
"rules that fired), the BRISQUE quality score (0 best .. 100 worst) and our own assessment (blur,\n"
"JPEG quality, noise, exposure, colour cast, a 0-100 score; see `enhance assess`).\n"
"\n"
"  --json           one JSON document per image, one per line (JSON Lines)\n"
"  --policy SPEC    moderation thresholds, CLASS=REVIEW:BLOCK items separated by commas (a\n"
"                   probability at or above a threshold fires; an empty side = never). Items change\n"
"                   the default policy; a first item `none` starts from a policy where nothing fires.\n"
"                   Default: %s\n"
"                   (porn/hentai blocked from 0.90 and reviewed from 0.60, sexy reviewed from 0.80,\n"
"                   drawings and neutral never). A JSON object works too: {\"porn\": {\"review\": 0.6,\n"
"                   \"block\": 0.9}} (a file, or the text itself if it starts with '{').\n"
"  --model NAME     the classifier (default " ENH_CLASSIFIER_DEFAULT "; see `enhance models list`)\n"
"  --skip PART      do not run moderation, brisque or assess (repeatable, or a comma list)\n"
"  --require PART   fail (exit 1) when the part cannot run; --policy and --model require moderation.\n"
"                   Otherwise a part whose model is missing is reported with the command that\n"
"                   installs it (" ENH_CHECK_INSTALL_CLASSIFIER "; BRISQUE: %s).\n"
"  -h, --help       this help\n"
"\n"
"Exit status (several images: the first of these that applies to any of them):\n"
"  2 internal error, 1 bad input or usage (a file that cannot be read, a bad policy, a required\n"
"  part missing), 4 an image is blocked, 3 an image needs review, 5 moderation could not run\n"
"  (not installed) or was skipped, 0 every image allowed.\n"
"\n"
"Examples:\n"
"  enhance check upload.jpg\n"
"  enhance check --json shots/*.jpg > report.jsonl\n"
"  enhance check --policy 'porn=0.5:0.8,sexy=:0.95' upload.jpg || echo \"hold for review\"\n",
            def, ENH_CHECK_INSTALL_BRISQUE);
}

/* "moderation,brisque" -> the parts' fields set to what. */
static int set_parts(const char *list, enh_check_opts *o, enh_check_part what, char *msg, size_t n)
{
    enh_error err = {0};
    if (enh_check_parts_set(list, o, what, &err) == ENH_OK)
        return 0;
    snprintf(msg, n, "%s", err.msg);
    return -1;
}

static int read_policy(const char *v, enh_check_policy *p, char *msg, size_t n)
{
    enh_error err = {0};
    const char *s = v;
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    enh_status st;
    if (*s == '{') {
        st = enh_check_policy_from_json(s, strlen(s), p, &err);
    } else if (!strchr(s, '=') && enh_is_file(s)) {
        char *data = NULL;
        size_t len = 0;
        st = enh_read_file(s, 1 << 20, &data, &len, &err);
        if (!st)
            st = enh_check_policy_from_json(data, len, p, &err);
        free(data);
    } else {
        st = enh_check_policy_parse(s, p, &err);
    }
    if (st) {
        snprintf(msg, n, "--policy: %s", err.msg);
        return -1;
    }
    return 0;
}

static void print_human(const char *path, const enh_check_result *r)
{
    const char *d = enh_check_result_decision(r);
    char up[16];
    size_t i = 0;
    for (; d[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(d[i] >= 'a' && d[i] <= 'z' ? d[i] - 32 : d[i]);
    up[i] = 0;
    printf("%s: %s", path, up);
    for (int k = 0; k < r->nreasons; k++)
        printf("%s%s %.3f >= %.3g (%s)", k ? ", " : " (", enh_nsfw_class_name(r->reasons[k].cls),
               r->reasons[k].probability, r->reasons[k].threshold, enh_check_decision_name(r->reasons[k].level));
    printf("%s\n", r->nreasons ? ")" : "");
    if (r->moderation_ran) {
        char probs[200];
        enh_check_probs_format(r->probs, probs, sizeof probs);
        printf("  moderation  %s: %s\n", r->classifier, probs);
    } else if (r->moderation_status) {
        printf("  moderation  unavailable: %s\n              install it: enhance models fetch %s\n",
               r->moderation_error, r->classifier);
    } else {
        printf("  moderation  skipped\n");
    }
    if (r->brisque_ran)
        printf("  BRISQUE     %.1f (0 best .. 100 worst)\n", r->brisque);
    else if (r->brisque_status)
        printf("  BRISQUE     unavailable: %s\n              install it: %s\n", r->brisque_error,
               ENH_CHECK_INSTALL_BRISQUE);
    if (r->assess_ran) {
        const enh_assessment *a = &r->assess;
        char q[16] = "unknown";
        if (a->jpeg_quality > 0)
            snprintf(q, sizeof q, "%d", a->jpeg_quality);
        printf("  assessment  score %.0f/100, main problem %s: blur %.2f, JPEG quality %s, noise %.1f, exposure "
               "%+.2f EV, cast %.1f\n",
               a->score, enh_degradation_name(a->dominant), a->blur, q, a->noise_sigma, a->exposure_ev,
               a->cast_chroma);
    } else if (r->assess_status) {
        printf("  assessment  failed: %s\n", r->assess_error);
    }
}

enum { O_JSON = 1, O_POLICY, O_MODEL, O_SKIP, O_REQUIRE, O_HELP };
static const cli_opt g_opts[] = {
    {"json", 0, CLI_ARG_NONE, O_JSON},       {"policy", 0, CLI_ARG_REQUIRED, O_POLICY},
    {"model", 0, CLI_ARG_REQUIRED, O_MODEL}, {"skip", 0, CLI_ARG_REQUIRED, O_SKIP},
    {"require", 0, CLI_ARG_REQUIRED, O_REQUIRE}, {"help", 'h', CLI_ARG_NONE, O_HELP},
    {NULL, 0, 0, 0}};

int cmd_check(int argc, char **argv)
{
    enh_check_opts o;
    enh_check_opts_init(&o);
    int json = 0, explicit_moderation = 0;
    const char *model = NULL;
    char msg[1200];
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    int npaths = 0;
    if (!paths)
        return CX_INTERNAL;
    cli_parser p;
    cli_parser_init(&p, argc, argv, g_opts);
    const char *v;
    int id;
    while ((id = cli_next(&p, &v, msg, sizeof msg)) != CLI_END) {
        int bad = 0;
        switch (id) {
        case CLI_ERROR: bad = 1; break;
        case CLI_POSITIONAL: paths[npaths++] = v; break;
        case O_JSON: json = 1; break;
        case O_HELP:
            usage(stdout);
            free(paths);
            return 0;
        case O_POLICY:
            bad = read_policy(v, &o.policy, msg, sizeof msg);
            explicit_moderation = 1;
            break;
        case O_MODEL:
            model = v;
            explicit_moderation = 1;
            break;
        case O_SKIP: bad = set_parts(v, &o, ENH_CHECK_SKIP, msg, sizeof msg); break;
        case O_REQUIRE: bad = set_parts(v, &o, ENH_CHECK_REQUIRE, msg, sizeof msg); break;
        default: break;
        }
        if (bad) {
            fprintf(stderr, "enhance check: %s\n", msg);
            free(paths);
            return CX_INPUT;
        }
    }
    if (!npaths) {
        fprintf(stderr, "enhance check: no IMAGE given\n");
        usage(stderr);
        free(paths);
        return CX_INPUT;
    }
    if (explicit_moderation && o.moderation == ENH_CHECK_SKIP) {
        fprintf(stderr, "enhance check: --policy or --model with --skip moderation: choose one\n");
        free(paths);
        return CX_INPUT;
    }
    if (explicit_moderation)
        o.moderation = ENH_CHECK_REQUIRE;
    enh_error err = {0};
    if (enh_image_init(&err)) {
        fprintf(stderr, "enhance check: %s\n", err.msg);
        free(paths);
        return CX_INTERNAL;
    }
    enh_checker *k = enh_checker_new(model, NULL, NULL, NULL, NULL);
    if (!k) {
        fprintf(stderr, "enhance check: out of memory\n");
        free(paths);
        return CX_INTERNAL;
    }
    int worst = CX_ALLOW, noted = 0;
    for (int i = 0; i < npaths; i++) {
        const char *path = paths[i];
        VipsImage *img = NULL;
        enh_image_info info;
        int x;
        enh_status st = enh_image_decode_file(path, ENH_IMAGE_DEFAULT_MAX_PIXELS, &img, &info, &err);
        enh_check_result r;
        if (!st) {
            o.jpeg_path = !strcmp(info.format, "jpeg") ? path : NULL;
            st = enh_check_run(k, img, &o, &r, &err);
            g_object_unref(img);
        }
        if (st) {
            size_t lp = strlen(path); /* decode messages often start with the path already */
            const char *why = !strncmp(err.msg, path, lp) && !strncmp(err.msg + lp, ": ", 2) ? err.msg + lp + 2 : err.msg;
            fprintf(stderr, "enhance check: %s: %s\n", path, why);
            x = st == ENH_EINTERNAL || st == ENH_ENOMEM ? CX_INTERNAL : CX_INPUT;
        } else {
            x = !r.moderation_ran                   ? CX_UNCHECKED
                : r.decision == ENH_CHECK_BLOCK     ? CX_BLOCK
                : r.decision == ENH_CHECK_REVIEW    ? CX_REVIEW
                                                    : CX_ALLOW;
            if (json) {
                char *s = enh_check_result_to_json(&r, path);
                if (!s) {
                    fprintf(stderr, "enhance check: out of memory\n");
                    x = CX_INTERNAL;
                } else {
                    puts(s);
                    free(s);
                }
            } else {
                print_human(path, &r);
            }
            if (!r.moderation_ran && r.moderation_status && !noted) {
                noted = 1;
                fprintf(stderr,
                        "enhance check: moderation did not run (%s); install the classifier with `enhance models "
                        "fetch %s` (exit status 5 until then)\n",
                        r.moderation_error, enh_checker_classifier_name(k));
            }
        }
        fflush(stdout);
        if (urgency(x) > urgency(worst))
            worst = x;
    }
    enh_checker_free(k);
    free(paths);
    return worst;
}
