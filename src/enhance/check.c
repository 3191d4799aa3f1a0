/* check.c - one check of one image (moderation, BRISQUE, assessment) and its JSON (see
 * check.h). */
#include "enhance/check.h"

#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/json_mem.h"
#include "enhance/brisque.h"

void enh_check_opts_init(enh_check_opts *o)
{
    memset(o, 0, sizeof *o);
    o->moderation = o->brisque = o->assess = ENH_CHECK_TRY;
    enh_check_policy_default(&o->policy);
}

static void keep_error(char *dst, size_t n, const enh_error *e)
{
    size_t l = strnlen(e->msg, n - 1);
    memcpy(dst, e->msg, l);
    dst[l] = 0;
}

enh_status enh_check_moderate(enh_checker *k, VipsImage *in, const enh_check_policy *p, enh_check_result *r,
                              enh_error *err)
{
    double t0 = enh_now();
    r->policy = *p;
    snprintf(r->classifier, sizeof r->classifier, "%s", enh_checker_classifier_name(k));
    const enh_classifier *c = NULL;
    enh_error e;
    enh_error_clear(&e);
    enh_status st = enh_checker_classifier(k, &c, &e);
    if (!st)
        st = enh_classify(c, in, r->probs, &e);
    r->moderation_s = enh_now() - t0;
    if (st) {
        r->moderation_status = st;
        keep_error(r->moderation_error, sizeof r->moderation_error, &e);
        if (err)
            *err = e;
        return st;
    }
    r->moderation_ran = 1;
    r->decision = enh_check_decide(p, r->probs, r->reasons, &r->nreasons);
    return ENH_OK;
}

enh_status enh_check_run(enh_checker *k, VipsImage *in, const enh_check_opts *o, enh_check_result *r, enh_error *err)
{
    memset(r, 0, sizeof *r);
    r->width = vips_image_get_width(in);
    r->height = vips_image_get_height(in);
    r->policy = o->policy;
    snprintf(r->classifier, sizeof r->classifier, "%s", enh_checker_classifier_name(k));
    enh_error e;
    enh_status st;
    if (o->moderation != ENH_CHECK_SKIP) {
        st = enh_check_moderate(k, in, &o->policy, r, &e);
        if (st && (o->moderation == ENH_CHECK_REQUIRE || st == ENH_ENOMEM))
            return err ? (*err = e, st) : st;
    }
    if (o->brisque != ENH_CHECK_SKIP) {
        double t0 = enh_now();
        const enh_brisque *b = NULL;
        enh_error_clear(&e);
        st = enh_checker_brisque(k, &b, &e);
        if (!st)
            st = enh_brisque_score(b, in, &r->brisque, &e);
        r->brisque_s = enh_now() - t0;
        if (st) {
            r->brisque_status = st;
            keep_error(r->brisque_error, sizeof r->brisque_error, &e);
            if (o->brisque == ENH_CHECK_REQUIRE || st == ENH_ENOMEM)
                return err ? (*err = e, st) : st;
        } else {
            r->brisque_ran = 1;
        }
    }
    if (o->assess != ENH_CHECK_SKIP) {
        double t0 = enh_now();
        enh_error_clear(&e);
        st = enh_assess_image_path(in, o->jpeg_path, &r->assess, &e);
        r->assess_s = enh_now() - t0;
        if (st) {
            r->assess_status = st;
            keep_error(r->assess_error, sizeof r->assess_error, &e);
            if (o->assess == ENH_CHECK_REQUIRE || st == ENH_ENOMEM)
                return err ? (*err = e, st) : st;
        } else {
            r->assess_ran = 1;
        }
    }
    return ENH_OK;
}

const char *enh_check_result_decision(const enh_check_result *r)
{
    return r->moderation_ran ? enh_check_decision_name(r->decision) : "unchecked";
}

void enh_check_probs_format(const float probs[ENH_NSFW_NCLASSES], char *buf, size_t n)
{
    size_t off = 0;
    if (n)
        buf[0] = 0;
    for (int c = 0; c < ENH_NSFW_NCLASSES && off < n; c++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s=%.4f", c ? ", " : "", enh_nsfw_class_name((enh_nsfw_class)c),
                                probs[c]);
}

static json_t *threshold_json(double t) { return t < 0 ? json_null() : json_real(t); }

static json_t *policy_json(const enh_check_policy *p)
{
    json_t *o = json_object();
    for (int c = 0; o && c < ENH_NSFW_NCLASSES; c++)
        if (json_object_set_new(o, enh_nsfw_class_name((enh_nsfw_class)c),
                                json_pack("{s:o,s:o}", "review", threshold_json(p->review[c]), "block",
                                          threshold_json(p->block[c])))) {
            json_decref(o); /* out of memory: no policy rather than part of one */
            o = NULL;
        }
    return o;
}

static json_t *moderation_json(const enh_check_result *r)
{
    if (!r->moderation_ran) {
        if (!r->moderation_status)
            return json_pack("{s:b,s:b}", "available", 0, "skipped", 1);
        char install[128];
        snprintf(install, sizeof install, "enhance models fetch %s", r->classifier[0] ? r->classifier : ENH_CLASSIFIER_DEFAULT);
        return json_pack("{s:b,s:s,s:s}", "available", 0, "error", r->moderation_error, "install", install);
    }
    json_t *probs = json_object(), *reasons = json_array();
    int bad = 0; /* out of memory: no document rather than one with members missing */
    for (int c = 0; c < ENH_NSFW_NCLASSES; c++)
        bad |= json_object_set_new(probs, enh_nsfw_class_name((enh_nsfw_class)c), json_real(r->probs[c]));
    for (int i = 0; i < r->nreasons; i++) {
        const enh_check_reason *x = &r->reasons[i];
        bad |= json_array_append_new(reasons, json_pack("{s:s,s:s,s:f,s:f}", "class", enh_nsfw_class_name(x->cls),
                                                        "level", enh_check_decision_name(x->level), "probability",
                                                        x->probability, "threshold", x->threshold));
    }
    if (bad) {
        json_decref(probs);
        json_decref(reasons);
        return NULL;
    }
    return json_pack("{s:b,s:s,s:o,s:s,s:o,s:o}", "available", 1, "model", r->classifier, "probabilities", probs,
                     "decision", enh_check_decision_name(r->decision), "reasons", reasons, "policy",
                     policy_json(&r->policy));
}

static json_t *quality_json(const enh_check_result *r)
{
    json_t *brq;
    if (r->brisque_ran)
        brq = json_pack("{s:b,s:f,s:s}", "available", 1, "score", r->brisque, "scale",
                        ENH_CHECK_BRISQUE_SCALE);
    else if (!r->brisque_status)
        brq = json_pack("{s:b,s:b}", "available", 0, "skipped", 1);
    else
        brq = json_pack("{s:b,s:s,s:s}", "available", 0, "error", r->brisque_error, "install",
                        ENH_CHECK_INSTALL_BRISQUE);
    json_t *as = NULL;
    if (r->assess_ran) {
        char *txt = enh_assessment_to_json(&r->assess);
        json_error_t je;
        if (!txt || enh_json_parse(txt, strlen(txt), 0, "the assessment", &as, &je, NULL))
            as = NULL;
        free(txt);
    } else if (!r->assess_status) {
        as = json_pack("{s:b,s:b}", "available", 0, "skipped", 1);
    } else {
        as = json_pack("{s:b,s:s}", "available", 0, "error", r->assess_error);
    }
    /* NULL (out of memory) when any part is: never a document with a part missing */
    return json_pack("{s:o,s:o,s:o}", "brisque", brq, "assessment", as, "score",
                     r->assess_ran ? json_real(r->assess.score) : json_null());
}

char *enh_check_result_to_json(const enh_check_result *r, const char *name)
{
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    int bad = 0; /* out of memory: NULL rather than a document with members missing */
    if (name && g_utf8_validate(name, -1, NULL)) /* a name that is not UTF-8 has no place in JSON */
        bad |= json_object_set_new(doc, "image", json_string(name));
    bad |= json_object_set_new(doc, "width", json_integer(r->width));
    bad |= json_object_set_new(doc, "height", json_integer(r->height));
    bad |= json_object_set_new(doc, "decision", json_string(enh_check_result_decision(r)));
    bad |= json_object_set_new(doc, "moderation", moderation_json(r));
    bad |= json_object_set_new(doc, "quality", quality_json(r));
    bad |= json_object_set_new(doc, "timing_ms",
                               json_pack("{s:f,s:f,s:f}", "moderation", r->moderation_s * 1000, "brisque",
                                         r->brisque_s * 1000, "assessment", r->assess_s * 1000));
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    char *s = enh_json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return s;
}

enh_status enh_check_parts_set(const char *list, enh_check_opts *o, enh_check_part what, enh_error *err)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    if (!buf[0])
        return enh_fail(err, ENH_EINVAL, "no part named: moderation, brisque, assess, quality or all");
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (!strcmp(w, "moderation"))
            o->moderation = what;
        else if (!strcmp(w, "brisque"))
            o->brisque = what;
        else if (!strcmp(w, "assess") || !strcmp(w, "assessment"))
            o->assess = what;
        else if (!strcmp(w, "quality"))
            o->brisque = o->assess = what;
        else if (!strcmp(w, "all"))
            o->moderation = o->brisque = o->assess = what;
        else
            return enh_fail(err, ENH_EINVAL, "unknown part '%.40s' (moderation, brisque, assess, quality, all)", w);
    }
    return ENH_OK;
}
