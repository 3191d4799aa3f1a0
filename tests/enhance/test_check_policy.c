/* test_check_policy.c - the moderation policy (enhance/check.h): the compact and JSON forms,
 * their errors, the decisions and reasons, the round trip through the compact writer, and the
 * JSON shape of a check result. Pure: no model, no image files. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "enhance/check.h"

static void expect_ok(const char *spec, int cls, double review, double block)
{
    enh_check_policy p;
    enh_error err = {0};
    enh_status st = enh_check_policy_parse(spec, &p, &err);
    CHECK_MSG(st == ENH_OK, "'%s': %s", spec, err.msg);
    if (!st && cls >= 0) {
        CHECK_MSG(p.review[cls] == review && p.block[cls] == block, "'%s': class %d review %g block %g", spec, cls,
                  p.review[cls], p.block[cls]);
    }
}

static void expect_fail(const char *spec, const char *needle)
{
    enh_check_policy p;
    enh_error err = {0};
    enh_status st = enh_check_policy_parse(spec, &p, &err);
    CHECK_MSG(st == ENH_EINVAL, "'%s' should fail", spec);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "'%s': message '%s' lacks '%s'", spec, err.msg, needle);
}

static void expect_json_fail(const char *json, const char *needle)
{
    enh_check_policy p;
    enh_error err = {0};
    enh_status st = enh_check_policy_from_json(json, strlen(json), &p, &err);
    CHECK_MSG(st == ENH_EINVAL, "'%s' should fail", json);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "'%s': message '%s' lacks '%s'", json, err.msg, needle);
}

static void test_parse(void)
{
    const double N = ENH_CHECK_NEVER;
    /* defaults */
    enh_check_policy d;
    enh_check_policy_default(&d);
    CHECK(d.review[ENH_NSFW_PORN] == 0.6 && d.block[ENH_NSFW_PORN] == 0.9);
    CHECK(d.review[ENH_NSFW_HENTAI] == 0.6 && d.block[ENH_NSFW_HENTAI] == 0.9);
    CHECK(d.review[ENH_NSFW_SEXY] == 0.8 && d.block[ENH_NSFW_SEXY] == N);
    CHECK(d.review[ENH_NSFW_NEUTRAL] == N && d.block[ENH_NSFW_NEUTRAL] == N);
    CHECK(d.review[ENH_NSFW_DRAWING] == N && d.block[ENH_NSFW_DRAWING] == N);

    static const struct {
        const char *spec;
        int cls;
        double review, block;
    } ok[] = {
        {"", ENH_NSFW_PORN, 0.6, 0.9},
        {"default", ENH_NSFW_SEXY, 0.8, -1},
        {"porn=0.5:0.7", ENH_NSFW_PORN, 0.5, 0.7},
        {"porn=0.5:0.7", ENH_NSFW_HENTAI, 0.6, 0.9}, /* others keep the defaults */
        {"none,porn=0.5:0.7", ENH_NSFW_HENTAI, -1, -1},
        {"none", ENH_NSFW_PORN, -1, -1},
        {"sexy=0.8:", ENH_NSFW_SEXY, 0.8, -1},
        {"sexy=:0.95", ENH_NSFW_SEXY, -1, 0.95},
        {"sexy=never:never", ENH_NSFW_SEXY, -1, -1},
        {"neutral=0:0.0001", ENH_NSFW_NEUTRAL, 0, 0.0001},
        {" Porn = 0.1 : 1 , sexy=0.2:0.3,", ENH_NSFW_PORN, 0.1, 1},
        {"drawing=1:1", ENH_NSFW_DRAWING, 1, 1},
        {"hentai=0.3:-", ENH_NSFW_HENTAI, 0.3, -1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        expect_ok(ok[i].spec, ok[i].cls, ok[i].review, ok[i].block);

    static const struct {
        const char *spec, *needle;
    } bad[] = {
        {"porn", "has no '='"},
        {"nudity=0.5:0.9", "unknown class 'nudity'"},
        {"porn=0.5", "with a colon"},
        {"porn=0.5:0.9:1", "one colon"},
        {"porn=1.5:", "not a probability"},
        {"porn=-0.1:", "not a probability"},
        {"porn=abc:", "not a probability"},
        {"porn=nan:", "not a probability"},
        {"porn=0.9:0.5", "above its block threshold"},
        {"porn=0.5:0.9,,sexy=0.8:", "empty item"},
        {",porn=0.5:0.9", "empty item"},
        {"porn=0.5:0.9,none", "must be the first item"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_fail(bad[i].spec, bad[i].needle);

    /* a failed parse leaves the caller's policy alone */
    enh_check_policy p;
    enh_check_policy_none(&p);
    enh_error err = {0};
    CHECK(enh_check_policy_parse("porn=2:", &p, &err) == ENH_EINVAL);
    CHECK(p.review[ENH_NSFW_PORN] == N);
}

static void test_json(void)
{
    enh_check_policy p;
    enh_error err = {0};
    const char *j = "{\"base\":\"none\",\"porn\":{\"review\":0.5,\"block\":0.8},\"sexy\":{\"review\":0.7,\"block\":null}}";
    CHECK_MSG(enh_check_policy_from_json(j, strlen(j), &p, &err) == ENH_OK, "%s", err.msg);
    CHECK(p.review[ENH_NSFW_PORN] == 0.5 && p.block[ENH_NSFW_PORN] == 0.8);
    CHECK(p.review[ENH_NSFW_SEXY] == 0.7 && p.block[ENH_NSFW_SEXY] == ENH_CHECK_NEVER);
    CHECK(p.review[ENH_NSFW_HENTAI] == ENH_CHECK_NEVER);
    const char *j2 = "{\"porn\":{\"block\":0.95}}"; /* review keeps the default */
    CHECK(enh_check_policy_from_json(j2, strlen(j2), &p, &err) == ENH_OK);
    CHECK(p.review[ENH_NSFW_PORN] == 0.6 && p.block[ENH_NSFW_PORN] == 0.95);
    const char *j3 = "\"none,neutral=0:0.0001\"";
    CHECK(enh_check_policy_from_json(j3, strlen(j3), &p, &err) == ENH_OK);
    CHECK(p.block[ENH_NSFW_NEUTRAL] == 0.0001 && p.block[ENH_NSFW_PORN] == ENH_CHECK_NEVER);

    expect_json_fail("{\"porn\":", "not valid JSON");
    expect_json_fail("[1]", "must be a JSON object");
    expect_json_fail("{\"nudity\":{}}", "unknown key 'nudity'");
    expect_json_fail("{\"porn\":0.5}", "must be an object");
    expect_json_fail("{\"porn\":{\"review\":2}}", "policy.porn.review");
    expect_json_fail("{\"porn\":{\"review\":\"0.5\"}}", "policy.porn.review");
    expect_json_fail("{\"porn\":{\"warn\":0.5}}", "policy.porn.warn");
    expect_json_fail("{\"porn\":{\"review\":0.95}}", "above its block threshold");
    expect_json_fail("{\"base\":\"strict\"}", "policy.base");
    expect_json_fail("\"porn=3:\"", "not a probability");
}

static void test_format_roundtrip(void)
{
    const char *specs[] = {"", "none", "none,neutral=0:0.0001", "porn=0.123456:0.9,sexy=:0.99,drawing=0.5:"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        enh_check_policy a, b;
        enh_error err = {0};
        CHECK(enh_check_policy_parse(specs[i], &a, &err) == ENH_OK);
        char buf[256];
        enh_check_policy_format(&a, buf, sizeof buf);
        CHECK_MSG(enh_check_policy_parse(buf, &b, &err) == ENH_OK, "'%s' -> '%s': %s", specs[i], buf, err.msg);
        CHECK_MSG(!memcmp(&a, &b, sizeof a), "'%s' -> '%s' does not parse back", specs[i], buf);
    }
}

static void test_decide(void)
{
    enh_check_policy p;
    enh_check_policy_default(&p);
    static const struct {
        float probs[ENH_NSFW_NCLASSES]; /* drawing hentai neutral porn sexy */
        enh_check_decision want;
        int nreasons;
        enh_nsfw_class first;
    } cases[] = {
        {{0.05f, 0.01f, 0.9f, 0.02f, 0.02f}, ENH_CHECK_ALLOW, 0, 0},
        {{0.0f, 0.0f, 0.05f, 0.95f, 0.0f}, ENH_CHECK_BLOCK, 1, ENH_NSFW_PORN},
        {{0.0f, 0.0f, 0.1f, 0.9f, 0.0f}, ENH_CHECK_BLOCK, 1, ENH_NSFW_PORN},   /* at the threshold: fires */
        {{0.0f, 0.0f, 0.3f, 0.6f, 0.1f}, ENH_CHECK_REVIEW, 1, ENH_NSFW_PORN},  /* review at 0.6 */
        {{0.0f, 0.0f, 0.41f, 0.59f, 0.0f}, ENH_CHECK_ALLOW, 0, 0},            /* just under */
        {{0.0f, 0.0f, 0.0f, 0.0f, 1.0f}, ENH_CHECK_REVIEW, 1, ENH_NSFW_SEXY},  /* sexy is never blocked */
        {{1.0f, 0.0f, 0.0f, 0.0f, 0.0f}, ENH_CHECK_ALLOW, 0, 0},              /* drawings are fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enh_check_reason rs[ENH_NSFW_NCLASSES];
        int n = -1;
        enh_check_decision d = enh_check_decide(&p, cases[i].probs, rs, &n);
        CHECK_MSG(d == cases[i].want, "case %zu: %s", i, enh_check_decision_name(d));
        CHECK_MSG(n == cases[i].nreasons, "case %zu: %d reasons", i, n);
        if (n > 0)
            CHECK_MSG(rs[0].cls == cases[i].first, "case %zu: first reason %s", i, enh_nsfw_class_name(rs[0].cls));
    }
    /* several rules: the block first, then the reviews by probability */
    enh_error err = {0};
    CHECK(enh_check_policy_parse("none,porn=0.2:0.5,sexy=0.1:,hentai=0.1:", &p, &err) == ENH_OK);
    float probs[ENH_NSFW_NCLASSES] = {0.0f, 0.15f, 0.0f, 0.55f, 0.3f};
    enh_check_reason rs[ENH_NSFW_NCLASSES];
    int n = 0;
    CHECK(enh_check_decide(&p, probs, rs, &n) == ENH_CHECK_BLOCK);
    CHECK(n == 3);
    CHECK(rs[0].cls == ENH_NSFW_PORN && rs[0].level == ENH_CHECK_BLOCK && rs[0].threshold == 0.5);
    CHECK(rs[1].cls == ENH_NSFW_SEXY && rs[1].level == ENH_CHECK_REVIEW);
    CHECK(rs[2].cls == ENH_NSFW_HENTAI && rs[2].level == ENH_CHECK_REVIEW);
    /* the deterministic block the server tests use: anything is >= 0 */
    CHECK(enh_check_policy_parse("neutral=0:0.0001", &p, &err) == ENH_OK);
    float flat[ENH_NSFW_NCLASSES] = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
    CHECK(enh_check_decide(&p, flat, rs, &n) == ENH_CHECK_BLOCK && rs[0].cls == ENH_NSFW_NEUTRAL);
}

/* The JSON of results built by hand: what ran, what did not and why, and the shape. */
static void test_result_json(void)
{
    enh_check_result r;
    memset(&r, 0, sizeof r);
    r.width = 64;
    r.height = 48;
    enh_check_policy_default(&r.policy);
    r.moderation_status = ENH_ENOTFOUND;
    snprintf(r.moderation_error, sizeof r.moderation_error, "model nsfwjs-mobilenetv2 is not installed");
    snprintf(r.classifier, sizeof r.classifier, "nsfwjs-mobilenetv2");
    r.brisque_status = ENH_EUNSUPPORTED;
    snprintf(r.brisque_error, sizeof r.brisque_error, "not built");
    char *s = enh_check_result_to_json(&r, "a.jpg");
    CHECK(s != NULL);
    json_error_t je;
    json_t *j = s ? json_loads(s, 0, &je) : NULL;
    CHECK(j != NULL);
    CHECK(s && !strchr(s, '\n')); /* one line: JSON Lines */
    CHECK(!strcmp(json_string_value(json_object_get(j, "decision")), "unchecked"));
    CHECK(!strcmp(json_string_value(json_object_get(j, "image")), "a.jpg"));
    CHECK(json_integer_value(json_object_get(j, "width")) == 64);
    json_t *m = json_object_get(j, "moderation");
    CHECK(json_is_false(json_object_get(m, "available")));
    CHECK(!strcmp(json_string_value(json_object_get(m, "install")), "enhance models fetch nsfwjs-mobilenetv2"));
    json_t *q = json_object_get(j, "quality");
    CHECK(json_is_false(json_object_get(json_object_get(q, "brisque"), "available")));
    CHECK(strstr(json_string_value(json_object_get(json_object_get(q, "brisque"), "install")), "opencv-data"));
    CHECK(json_is_true(json_object_get(json_object_get(q, "assessment"), "skipped")));
    CHECK(json_is_null(json_object_get(q, "score")));
    json_decref(j);
    free(s);

    /* moderation ran and blocked; BRISQUE and the assessment ran */
    memset(&r, 0, sizeof r);
    enh_check_policy_default(&r.policy);
    snprintf(r.classifier, sizeof r.classifier, "nsfwjs-mobilenetv2");
    r.moderation_ran = 1;
    float probs[ENH_NSFW_NCLASSES] = {0.01f, 0.02f, 0.02f, 0.93f, 0.02f};
    memcpy(r.probs, probs, sizeof probs);
    r.decision = enh_check_decide(&r.policy, r.probs, r.reasons, &r.nreasons);
    r.brisque_ran = 1;
    r.brisque = 23.5;
    r.assess_ran = 1;
    r.assess.score = 88;
    s = enh_check_result_to_json(&r, NULL);
    j = s ? json_loads(s, 0, &je) : NULL;
    CHECK(j != NULL);
    CHECK(!json_object_get(j, "image"));
    CHECK(!strcmp(json_string_value(json_object_get(j, "decision")), "block"));
    m = json_object_get(j, "moderation");
    CHECK(json_is_true(json_object_get(m, "available")));
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(m, "probabilities"), "porn")), 0.93, 1e-6);
    CHECK(json_object_size(json_object_get(m, "probabilities")) == ENH_NSFW_NCLASSES);
    json_t *r0 = json_array_get(json_object_get(m, "reasons"), 0);
    CHECK(r0 && !strcmp(json_string_value(json_object_get(r0, "class")), "porn"));
    CHECK(r0 && !strcmp(json_string_value(json_object_get(r0, "level")), "block"));
    CHECK_NEAR(json_real_value(json_object_get(r0, "threshold")), 0.9, 1e-12);
    json_t *pol = json_object_get(m, "policy");
    CHECK(json_is_null(json_object_get(json_object_get(pol, "sexy"), "block")));
    q = json_object_get(j, "quality");
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(q, "brisque"), "score")), 23.5, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(q, "score")), 88, 1e-9);
    CHECK(json_is_object(json_object_get(q, "assessment")));
    json_decref(j);
    free(s);

    char buf[200];
    enh_check_probs_format(probs, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, "drawing=0.0100, hentai=0.0200, neutral=0.0200, porn=0.9300, sexy=0.0200"), "%s", buf);
}

int main(void)
{
    test_parse();
    test_json();
    test_format_roundtrip();
    test_decide();
    test_result_json();
    CHECK_MAIN_END();
}
