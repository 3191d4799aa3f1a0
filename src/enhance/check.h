/* check.h - one check of one image, the answer a marketplace acts on: the moderation
 * classifier's class probabilities (moderate.h), a decision from a policy (allow / review /
 * block, with the rules that fired), the BRISQUE score (brisque.h) and our own assessment
 * (assess.h), in one result with one JSON rendering.
 *
 * The policy is a value: per class a `review` and a `block` threshold (a probability at or
 * above it fires; ENH_CHECK_NEVER = the class never does). The defaults, chosen for a
 * marketplace that publishes photos of goods (enh_check_policy_default):
 *   porn    review >= 0.60, block >= 0.90
 *   hentai  review >= 0.60, block >= 0.90
 *   sexy    review >= 0.80, never blocked (swimwear and underwear are legitimate goods)
 *   drawing, neutral: never (a drawing is not a violation; neutral is what is wanted)
 * Written compactly as "porn=0.6:0.9,hentai=0.6:0.9,sexy=0.8:" (REVIEW:BLOCK, an empty side =
 * never); a spec changes the classes it names and keeps the defaults for the others, unless
 * its first item is `none` (start from a policy where nothing fires) or `default`.
 * As JSON: {"base": "default"|"none", "porn": {"review": 0.6, "block": 0.9}, "sexy":
 * {"review": 0.8, "block": null}, ...} (null = never; a missing key keeps the base's value),
 * or the compact string as a JSON string.
 *
 * Each part may be skipped or be unavailable (no classifier installed, no BRISQUE files): the
 * result says so, with the command that installs it, instead of failing the whole check,
 * unless the caller required that part (ENH_CHECK_REQUIRE).
 *
 * Ownership: enh_checker owns the models it loads (lazily, once, under its own mutex) and is
 * freed with enh_checker_free; images are borrowed; enh_check_result is a plain value.
 * Thread-safety: policy functions are pure; one enh_checker may be used by many threads at
 * once (the models are immutable after load). Errors: ENH_EINVAL for a bad policy (the
 * message names the item and what is allowed); a required part's own error; ENH_ENOMEM.
 */
#ifndef ENH_ENHANCE_CHECK_H
#define ENH_ENHANCE_CHECK_H

#include <vips/vips.h>

#include "core/error.h"
#include "enhance/assess.h"
#include "enhance/brisque.h"
#include "enhance/moderate.h"
#include "nn/nn_options.h"

typedef enum { ENH_CHECK_ALLOW = 0, ENH_CHECK_REVIEW, ENH_CHECK_BLOCK } enh_check_decision;
/* "allow" | "review" | "block" */
const char *enh_check_decision_name(enh_check_decision d);

/* A threshold that never fires. */
#define ENH_CHECK_NEVER (-1.0)

typedef struct enh_check_policy {
    double review[ENH_NSFW_NCLASSES]; /* 0..1 or ENH_CHECK_NEVER */
    double block[ENH_NSFW_NCLASSES];
} enh_check_policy;

void enh_check_policy_default(enh_check_policy *p);
void enh_check_policy_none(enh_check_policy *p); /* nothing fires */
/* Parses the compact form into *p (which it starts from the defaults, or from nothing with a
 * leading `none`). An empty or NULL spec gives the defaults. */
enh_status enh_check_policy_parse(const char *spec, enh_check_policy *p, enh_error *err);
/* Parses the JSON form (an object, or the compact form as a string). */
enh_status enh_check_policy_from_json(const char *json, size_t len, enh_check_policy *p, enh_error *err);
/* Compact form of p ("none,porn=0.6:0.9,..."): it parses back to p. Writes at most n bytes. */
void enh_check_policy_format(const enh_check_policy *p, char *buf, size_t n);

/* One rule that fired: class c's probability reached the level's threshold. */
typedef struct enh_check_reason {
    enh_nsfw_class cls;
    enh_check_decision level; /* REVIEW or BLOCK */
    double probability, threshold;
} enh_check_reason;

/* The decision of p for probs; the rules that fired go to reasons (at most one per class:
 * the highest level it reached), ordered from the most to the least severe. */
enh_check_decision enh_check_decide(const enh_check_policy *p, const float probs[ENH_NSFW_NCLASSES],
                                    enh_check_reason reasons[ENH_NSFW_NCLASSES], int *nreasons);

/* What to do with each part. */
typedef enum {
    ENH_CHECK_SKIP = 0, /* not run */
    ENH_CHECK_TRY,      /* run when its model is there; otherwise the result says how to get it */
    ENH_CHECK_REQUIRE   /* run, or fail the check with the part's error */
} enh_check_part;

typedef struct enh_check_opts {
    enh_check_part moderation, brisque, assess;
    enh_check_policy policy;
    const char *jpeg_path; /* the image's file when it is a JPEG (assess reads its quantisation table), or NULL */
} enh_check_opts;

/* TRY for every part, the default policy. */
void enh_check_opts_init(enh_check_opts *o);
/* Sets the parts named in a comma list ("moderation", "brisque", "assess", "quality" = brisque
 * and assess, "all") to `what`; ENH_EINVAL names an unknown or missing part. */
enh_status enh_check_parts_set(const char *list, enh_check_opts *o, enh_check_part what, enh_error *err);

typedef struct enh_check_result {
    int width, height;
    /* moderation */
    int moderation_ran;
    float probs[ENH_NSFW_NCLASSES];
    char classifier[64];
    enh_check_decision decision;      /* meaningful when moderation_ran */
    enh_check_reason reasons[ENH_NSFW_NCLASSES];
    int nreasons;
    enh_check_policy policy;
    enh_status moderation_status;     /* why it did not run (ENH_OK when skipped or ran) */
    char moderation_error[512];
    /* quality */
    int brisque_ran;
    double brisque;
    enh_status brisque_status;
    char brisque_error[512];
    int assess_ran;
    enh_assessment assess;
    enh_status assess_status;
    char assess_error[512];
    double moderation_s, brisque_s, assess_s; /* wall time of each part */
} enh_check_result;

typedef struct enh_checker enh_checker;

/* classifier: a manifest model name (NULL = ENH_CLASSIFIER_DEFAULT); models_dir NULL = the
 * default folder; brisque paths NULL = brisque.h's defaults; opt may be NULL. Nothing is loaded
 * yet. NULL on out of memory. */
enh_checker *enh_checker_new(const char *classifier, const char *models_dir, const enh_nn_options *opt,
                             const char *brisque_model, const char *brisque_range);
void enh_checker_free(enh_checker *k);
/* The classifier / the BRISQUE model, loaded on first use. A model that is not installed is
 * looked for again on the next call (so installing it needs no restart); a damaged one is not. */
enh_status enh_checker_classifier(enh_checker *k, const enh_classifier **out, enh_error *err);
enh_status enh_checker_brisque(enh_checker *k, const enh_brisque **out, enh_error *err);
const char *enh_checker_classifier_name(const enh_checker *k);

/* Checks `in` (8/16-bit, 1-4 bands). Fails only when the image cannot be read or a REQUIRE part
 * fails (r is still filled with what ran). */
enh_status enh_check_run(enh_checker *k, VipsImage *in, const enh_check_opts *o, enh_check_result *r,
                         enh_error *err);

/* The moderation part alone (the server's moderation=flag|block on enhance requests):
 * probabilities and decision into r (moderation fields only). Fails when it cannot run. */
enh_status enh_check_moderate(enh_checker *k, VipsImage *in, const enh_check_policy *p, enh_check_result *r,
                              enh_error *err);

/* The result as JSON (malloc'd, caller frees; NULL on OOM, never a document with a member
 * missing); `name` (may be NULL; left out when it is not UTF-8) is the image's file name. Shape:
 *   {"image": NAME?, "width", "height", "decision": "allow"|"review"|"block"|"unchecked",
 *    "moderation": {"available": true, "model", "probabilities": {"drawing",...}, "decision",
 *                   "reasons": [{"class","level","probability","threshold"}], "policy"}
 *                | {"available": false, "skipped"?: true, "error", "install"},
 *    "quality": {"brisque": {"available", "score" | "error", "install"},
 *                "assessment": {... enh_assessment_to_json ...} | {"available": false, "error"},
 *                "score": the assessment's 0..100 or null},
 *    "timing_ms": {"moderation", "brisque", "assessment"}}
 * "unchecked" = moderation did not run (skipped or unavailable). */
char *enh_check_result_to_json(const enh_check_result *r, const char *name);
/* Decision of a result for the top level: "allow" | "review" | "block" | "unchecked". */
const char *enh_check_result_decision(const enh_check_result *r);
/* "porn=0.0123, sexy=0.0456, ..." (every class, fixed order) into buf. */
void enh_check_probs_format(const float probs[ENH_NSFW_NCLASSES], char *buf, size_t n);

/* The command that installs what a part lacks. */
#define ENH_CHECK_INSTALL_CLASSIFIER "enhance models fetch " ENH_CLASSIFIER_DEFAULT
/* What BRISQUE's score means, in every JSON that carries one (check, assess). */
#define ENH_CHECK_BRISQUE_SCALE "0 (best) .. 100 (worst), LIVE-trained"
#define ENH_CHECK_INSTALL_BRISQUE "apt-get install opencv-data (Debian; BRISQUE's model files)"

#endif
