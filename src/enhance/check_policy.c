/* check_policy.c - the moderation policy as a value: defaults, the compact and the JSON forms,
 * and the decision (see check.h). Pure functions. */
#include "enhance/check.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json_mem.h"

static const char *const g_decisions[] = {"allow", "review", "block"};

const char *enh_check_decision_name(enh_check_decision d)
{
    return (unsigned)d < 3 ? g_decisions[d] : "?";
}

void enh_check_policy_none(enh_check_policy *p)
{
    for (int c = 0; c < ENH_NSFW_NCLASSES; c++)
        p->review[c] = p->block[c] = ENH_CHECK_NEVER;
}

/* A marketplace of photos of goods: explicit content (porn, hentai) is blocked when the
 * classifier is sure and reviewed from 0.6; suggestive photos (sexy) are only reviewed, from
 * 0.8, because swimwear and underwear are goods too; drawings and neutral never fire. */
void enh_check_policy_default(enh_check_policy *p)
{
    enh_check_policy_none(p);
    p->review[ENH_NSFW_PORN] = 0.60;
    p->block[ENH_NSFW_PORN] = 0.90;
    p->review[ENH_NSFW_HENTAI] = 0.60;
    p->block[ENH_NSFW_HENTAI] = 0.90;
    p->review[ENH_NSFW_SEXY] = 0.80;
}

static int class_of(const char *name, size_t len)
{
    for (int c = 0; c < ENH_NSFW_NCLASSES; c++) {
        const char *n = enh_nsfw_class_name((enh_nsfw_class)c);
        if (strlen(n) == len && !strncasecmp(n, name, len))
            return c;
    }
    return -1;
}

#define CLASSES "drawing, hentai, neutral, porn, sexy"

/* One threshold: "" or "never" = never, else a number in 0..1. */
static enh_status threshold(const char *s, size_t len, const char *item, double *out, enh_error *err)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (!len || (len == 5 && !strncasecmp(s, "never", 5)) || (len == 1 && *s == '-')) {
        *out = ENH_CHECK_NEVER;
        return ENH_OK;
    }
    char buf[32];
    if (len >= sizeof buf)
        return enh_fail(err, ENH_EINVAL, "policy item '%s': '%.*s' is not a probability (0..1, or empty for never)",
                        item, (int)len, s);
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end = NULL;
    errno = 0;
    double d = strtod(buf, &end);
    if (errno || end == buf || *end || !isfinite(d) || d < 0 || d > 1)
        return enh_fail(err, ENH_EINVAL, "policy item '%s': '%s' is not a probability (0..1, or empty for never)",
                        item, buf);
    *out = d;
    return ENH_OK;
}

static enh_status check_order(const enh_check_policy *p, int c, const char *where, enh_error *err)
{
    if (p->review[c] >= 0 && p->block[c] >= 0 && p->review[c] > p->block[c])
        return enh_fail(err, ENH_EINVAL,
                        "%s: the review threshold of %s (%g) is above its block threshold (%g); review must not "
                        "be stricter than block",
                        where, enh_nsfw_class_name((enh_nsfw_class)c), p->review[c], p->block[c]);
    return ENH_OK;
}

enh_status enh_check_policy_parse(const char *spec, enh_check_policy *p, enh_error *err)
{
    enh_check_policy q;
    enh_check_policy_default(&q);
    int first = 1;
    for (const char *s = spec; s && *s;) {
        size_t len = strcspn(s, ",");
        const char *item = s;
        s += len;
        if (*s == ',')
            s++;
        while (len && isspace((unsigned char)*item))
            item++, len--;
        while (len && isspace((unsigned char)item[len - 1]))
            len--;
        char shown[80];
        snprintf(shown, sizeof shown, "%.*s", (int)(len < 70 ? len : 70), item);
        if (!len) {
            if (*s || first)
                return enh_fail(err, ENH_EINVAL, "policy: an empty item (write CLASS=REVIEW:BLOCK items separated by "
                                                 "commas, e.g. porn=0.6:0.9,sexy=0.8:)");
            continue;
        }
        int was_first = first;
        first = 0;
        if ((len == 4 && !strncasecmp(item, "none", 4)) || (len == 7 && !strncasecmp(item, "default", 7))) {
            if (!was_first)
                return enh_fail(err, ENH_EINVAL, "policy: '%s' must be the first item (it sets the base the others "
                                                 "change)", shown);
            if (len == 4)
                enh_check_policy_none(&q);
            continue;
        }
        const char *eq = memchr(item, '=', len);
        if (!eq)
            return enh_fail(err, ENH_EINVAL,
                            "policy item '%s' has no '=': write CLASS=REVIEW:BLOCK (e.g. porn=0.6:0.9; an empty side "
                            "means never), classes: " CLASSES,
                            shown);
        size_t nl = (size_t)(eq - item);
        while (nl && isspace((unsigned char)item[nl - 1]))
            nl--;
        int c = class_of(item, nl);
        if (c < 0)
            return enh_fail(err, ENH_EINVAL, "policy item '%s': unknown class '%.*s' (classes: " CLASSES ")", shown,
                            (int)nl, item);
        const char *v = eq + 1;
        size_t vl = len - (size_t)(v - item);
        const char *colon = memchr(v, ':', vl);
        if (!colon)
            return enh_fail(err, ENH_EINVAL,
                            "policy item '%s': write %s=REVIEW:BLOCK with a colon (e.g. %s=0.6:0.9, or %s=0.8: to "
                            "review only)",
                            shown, enh_nsfw_class_name((enh_nsfw_class)c), enh_nsfw_class_name((enh_nsfw_class)c),
                            enh_nsfw_class_name((enh_nsfw_class)c));
        if (memchr(colon + 1, ':', vl - (size_t)(colon + 1 - v)))
            return enh_fail(err, ENH_EINVAL, "policy item '%s': one colon between REVIEW and BLOCK", shown);
        enh_status st = threshold(v, (size_t)(colon - v), shown, &q.review[c], err);
        if (!st)
            st = threshold(colon + 1, vl - (size_t)(colon + 1 - v), shown, &q.block[c], err);
        if (st)
            return st;
        char where[100];
        snprintf(where, sizeof where, "policy item '%s'", shown);
        if ((st = check_order(&q, c, where, err)))
            return st;
    }
    *p = q;
    return ENH_OK;
}

/* A JSON threshold: a number in 0..1, or null = never. */
static enh_status json_threshold(const json_t *v, const char *path, double *out, enh_error *err)
{
    if (json_is_null(v)) {
        *out = ENH_CHECK_NEVER;
        return ENH_OK;
    }
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(d >= 0 && d <= 1))
        return enh_fail(err, ENH_EINVAL, "policy.%s must be a probability in 0..1 or null (never)", path);
    *out = d;
    return ENH_OK;
}

enh_status enh_check_policy_from_json(const char *json, size_t len, enh_check_policy *p, enh_error *err)
{
    json_error_t je;
    json_t *root;
    if (enh_json_parse(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, "the policy", &root, &je, err))
        return ENH_ENOMEM;
    if (!root)
        return enh_fail(err, ENH_EINVAL, "policy: not valid JSON (%s at line %d); expected an object such as "
                                         "{\"porn\": {\"review\": 0.6, \"block\": 0.9}}",
                        je.text, je.line);
    enh_status st = ENH_OK;
    enh_check_policy q;
    enh_check_policy_default(&q);
    if (json_is_string(root)) {
        st = enh_check_policy_parse(json_string_value(root), &q, err);
    } else if (!json_is_object(root)) {
        st = enh_fail(err, ENH_EINVAL, "policy must be a JSON object (or the compact form as a string)");
    } else {
        json_t *base = json_object_get(root, "base");
        if (base) {
            const char *b = json_string_value(base);
            if (b && !strcmp(b, "none"))
                enh_check_policy_none(&q);
            else if (!b || strcmp(b, "default"))
                st = enh_fail(err, ENH_EINVAL, "policy.base must be \"default\" or \"none\"");
        }
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v)
        {
            if (st)
                break;
            if (!strcmp(key, "base"))
                continue;
            int c = class_of(key, strlen(key));
            if (c < 0) {
                st = enh_fail(err, ENH_EINVAL, "policy: unknown key '%s' (classes: " CLASSES "; and \"base\")", key);
                break;
            }
            if (!json_is_object(v)) {
                st = enh_fail(err, ENH_EINVAL, "policy.%s must be an object {\"review\": P, \"block\": P}", key);
                break;
            }
            const char *k2;
            json_t *t;
            json_object_foreach(v, k2, t)
            {
                char path[64];
                snprintf(path, sizeof path, "%s.%s", key, k2);
                if (!strcmp(k2, "review"))
                    st = json_threshold(t, path, &q.review[c], err);
                else if (!strcmp(k2, "block"))
                    st = json_threshold(t, path, &q.block[c], err);
                else
                    st = enh_fail(err, ENH_EINVAL, "policy.%s: unknown key (review, block)", path);
                if (st)
                    break;
            }
            if (!st)
                st = check_order(&q, c, "policy", err);
        }
    }
    json_decref(root);
    if (!st)
        *p = q;
    return st;
}

static int fmt_threshold(char *buf, size_t n, double t)
{
    return t < 0 ? snprintf(buf, n, "%s", "") : snprintf(buf, n, "%.15g", t);
}

void enh_check_policy_format(const enh_check_policy *p, char *buf, size_t n)
{
    size_t off = (size_t)snprintf(buf, n, "none");
    for (int c = 0; c < ENH_NSFW_NCLASSES && off < n; c++) {
        if (p->review[c] < 0 && p->block[c] < 0)
            continue;
        char r[24], b[24];
        fmt_threshold(r, sizeof r, p->review[c]);
        fmt_threshold(b, sizeof b, p->block[c]);
        off += (size_t)snprintf(buf + off, n - off, ",%s=%s:%s", enh_nsfw_class_name((enh_nsfw_class)c), r, b);
    }
}

enh_check_decision enh_check_decide(const enh_check_policy *p, const float probs[ENH_NSFW_NCLASSES],
                                    enh_check_reason reasons[ENH_NSFW_NCLASSES], int *nreasons)
{
    int n = 0;
    enh_check_decision d = ENH_CHECK_ALLOW;
    for (int c = 0; c < ENH_NSFW_NCLASSES; c++) {
        /* compared in float, the probabilities' own precision: 0.9f is below the double 0.9, and
         * a probability shown as 0.9000 must fire a 0.9 threshold */
        float pr = probs[c];
        enh_check_reason r = {(enh_nsfw_class)c, ENH_CHECK_ALLOW, pr, 0};
        if (p->block[c] >= 0 && pr >= (float)p->block[c])
            r.level = ENH_CHECK_BLOCK, r.threshold = p->block[c];
        else if (p->review[c] >= 0 && pr >= (float)p->review[c])
            r.level = ENH_CHECK_REVIEW, r.threshold = p->review[c];
        else
            continue;
        if (r.level > d)
            d = r.level;
        /* insertion by severity, then probability */
        int i = n++;
        while (i > 0 && (reasons[i - 1].level < r.level ||
                         (reasons[i - 1].level == r.level && reasons[i - 1].probability < r.probability))) {
            reasons[i] = reasons[i - 1];
            i--;
        }
        reasons[i] = r;
    }
    *nreasons = n;
    return d;
}
