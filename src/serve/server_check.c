/* server_check.c - POST /v1/check jobs and the moderation of enhance jobs (see server_check.h). */
#include "serve/server_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/json_mem.h"
#include "core/log.h"
#include "serve/server_internal.h"

struct serve_checks {
    enh_checker *k;
    enh_check_policy policy; /* the server's (--moderation-policy) */
};

static enh_status parse_policy(const char *spec, enh_check_policy *p, enh_error *err)
{
    const char *s = spec;
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    return *s == '{' || *s == '"' ? enh_check_policy_from_json(s, strlen(s), p, err) : enh_check_policy_parse(s, p, err);
}

enh_status serve_checks_validate(const enh_serve_options *o, enh_error *err)
{
    enh_check_policy p;
    if ((unsigned)o->moderation > ENH_MODERATION_BLOCK)
        return enh_fail(err, ENH_EINVAL, "--moderation must be off, flag or block");
    enh_status st = parse_policy(o->moderation_policy, &p, err);
    return st ? enh_error_prefix(err, "--moderation-policy") : ENH_OK;
}

void serve_checks_free(serve_checks *c)
{
    if (!c)
        return;
    enh_checker_free(c->k);
    free(c);
}

/* The server's checker, made on first use. */
static serve_checks *checks_of(enh_server *s)
{
    pthread_mutex_lock(&s->mu);
    if (!s->checks) {
        serve_checks *c = calloc(1, sizeof *c);
        enh_error err;
        if (c && !parse_policy(s->opt.moderation_policy, &c->policy, &err) &&
            (c->k = enh_checker_new(s->opt.classifier[0] ? s->opt.classifier : NULL,
                                    s->config.models_dir[0] ? s->config.models_dir : NULL, NULL, NULL, NULL)))
            s->checks = c;
        else
            free(c);
    }
    serve_checks *c = s->checks;
    pthread_mutex_unlock(&s->mu);
    return c;
}

enh_status serve_checks_preload(enh_server *s, enh_error *err)
{
    serve_checks *c = checks_of(s);
    if (!c)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    const enh_classifier *cl = NULL;
    enh_status st = enh_checker_classifier(c->k, &cl, err);
    return st ? enh_error_prefix(err, "--moderation %s needs the classifier", s->opt.moderation == ENH_MODERATION_BLOCK
                                                                                  ? "block"
                                                                                  : "flag")
              : ENH_OK;
}

serve_check *serve_check_new_job(enh_server *s)
{
    serve_check *c = calloc(1, sizeof *c);
    serve_checks *sc = checks_of(s);
    if (!c || !sc) {
        free(c);
        return NULL;
    }
    c->is_check = 1;
    enh_check_opts_init(&c->opts);
    c->opts.policy = sc->policy;
    return c;
}

void serve_check_free(serve_check *c)
{
    if (!c)
        return;
    free(c->json);
    free(c);
}

static void count_decision(enh_server *s, const char *endpoint, const enh_check_result *r)
{
    const char *cls = r->nreasons ? enh_nsfw_class_name(r->reasons[0].cls) : "none";
    serve_metrics_moderation(s->metrics, endpoint, r->moderation_ran ? enh_check_decision_name(r->decision) : "unavailable",
                             r->moderation_ran ? cls : "none");
}

enh_status serve_check_gate(enh_server *s, serve_job *j, enh_error *err)
{
    if (j->check && j->check->is_check)
        return ENH_OK;
    /* the server's setting is a floor: a request may ask for more moderation, never less */
    enh_moderation mode = j->ops.moderation > (enh_moderation)s->opt.moderation ? j->ops.moderation
                                                                                 : (enh_moderation)s->opt.moderation;
    if (mode == ENH_MODERATION_OFF)
        return ENH_OK;
    serve_checks *sc = checks_of(s);
    if (!j->check)
        j->check = calloc(1, sizeof *j->check);
    if (!sc || !j->check)
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    serve_check *c = j->check;
    c->mode = mode;
    enh_status st = enh_check_moderate(sc->k, j->image_in, &sc->policy, &c->res, err);
    count_decision(s, "enhance", &c->res);
    if (st) {
        if (st == ENH_ENOTFOUND || st == ENH_EUNSUPPORTED)
            enh_error_prefix(err, "moderation=%s needs the classifier, which cannot run (install it with `enhance "
                                  "models fetch %s`, or send moderation=off where the server allows it)",
                             mode == ENH_MODERATION_BLOCK ? "block" : "flag", enh_checker_classifier_name(sc->k));
        return st == ENH_EUNSUPPORTED ? ENH_ENOTFOUND : st;
    }
    c->ran = 1;
    if (mode == ENH_MODERATION_BLOCK && c->res.decision == ENH_CHECK_BLOCK) {
        const enh_check_reason *x = &c->res.reasons[0];
        c->blocked = 1;
        return enh_fail(err, ENH_EINVAL,
                        "the image was refused by the moderation policy: %s probability %.4f >= block threshold %.4g "
                        "(moderation=block; the details list every class)",
                        enh_nsfw_class_name(x->cls), x->probability, x->threshold);
    }
    return ENH_OK;
}

enh_status serve_check_run_job(enh_server *s, serve_job *j, enh_error *err)
{
    serve_check *c = j->check;
    serve_compute_started(s, j);
    serve_checks *sc = checks_of(s);
    enh_error_clear(err);
    double t0 = enh_now();
    enh_status st = sc ? enh_check_run(sc->k, j->image_in, &c->opts, &c->res, err)
                       : enh_fail(err, ENH_ENOMEM, "out of memory");
    j->compute_s = enh_now() - t0;
    g_object_unref(j->image_in);
    j->image_in = NULL;
    if (!st) {
        c->ran = c->res.moderation_ran;
        count_decision(s, "check", &c->res);
        c->json = enh_check_result_to_json(&c->res, NULL);
        if (!c->json)
            st = enh_fail(err, ENH_ENOMEM, "out of memory");
    } else if (st == ENH_EUNSUPPORTED) {
        st = ENH_ENOTFOUND; /* a required part that is not built or installed: model_not_found */
        err->code = st;
    }
    return st;
}

const char *serve_check_error_type(const serve_job *j)
{
    return j->check && j->check->blocked ? "moderation_blocked" : NULL;
}

void serve_check_add_headers(struct MHD_Response *resp, const serve_job *j)
{
    const serve_check *c = j->check;
    if (!c || !c->ran)
        return;
    char probs[200];
    enh_check_probs_format(c->res.probs, probs, sizeof probs);
    MHD_add_response_header(resp, "X-Moderation", probs);
    MHD_add_response_header(resp, "X-Moderation-Decision", enh_check_decision_name(c->res.decision));
    MHD_add_response_header(resp, "X-Moderation-Model", c->res.classifier);
    if (c->res.nreasons) {
        char why[400];
        size_t off = 0;
        for (int i = 0; i < c->res.nreasons && off < sizeof why; i++)
            off += (size_t)snprintf(why + off, sizeof why - off, "%s%s %s>=%.4g", i ? ", " : "",
                                    enh_check_decision_name(c->res.reasons[i].level),
                                    enh_nsfw_class_name(c->res.reasons[i].cls), c->res.reasons[i].threshold);
        MHD_add_response_header(resp, "X-Moderation-Reasons", why);
    }
}

json_t *serve_check_details(const serve_job *j)
{
    const serve_check *c = j->check;
    if (!c || !c->ran)
        return NULL;
    char *txt = enh_check_result_to_json(&c->res, NULL);
    json_error_t je;
    json_t *doc = NULL;
    if (txt && enh_json_parse(txt, strlen(txt), 0, "the check's result", &doc, &je, NULL))
        doc = NULL; /* out of memory: no details rather than details a character short */
    free(txt);
    json_t *m = doc ? json_incref(json_object_get(doc, "moderation")) : NULL;
    json_decref(doc);
    return m;
}
