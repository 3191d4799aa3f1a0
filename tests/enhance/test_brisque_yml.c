/* test_brisque_yml.c - the BRISQUE model files without OpenCV's package: the FileStorage YAML
 * reader on well-formed, hostile and truncated text; a tiny SVR model written here, whose
 * prediction is computed by hand; missing files (ENH_ENOTFOUND naming the Debian package).
 * When opencv-data is installed, truncated copies of its model must be refused cleanly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "enhance/brisque.h"
#include "enhance/brisque_yml.h"

static enh_status parse(const char *text, enh_yml_doc **d, enh_error *err)
{
    return enh_yml_parse(text, strlen(text), "test.yml", d, err);
}

static void test_reader(void)
{
    const char *ok = "%YAML:1.0\n---\n"
                     "top:\n"
                     "   kind: \"quoted text\"\n"
                     "   nested:\n"
                     "      type: RBF\n"
                     "      gamma: 5.0000000000000003e-02\n"
                     "   crit: { epsilon:1.0e-03, n: 4 }\n"
                     "   list:\n"
                     "      - [ 1., -2.5e+00,\n"
                     "          3 ]\n"
                     "      - []\n"
                     "   funcs:\n"
                     "      -\n"
                     "         a: 1\n"
                     "         b: [ 7 ]\n"
                     "      - c: 2\n"
                     "        d: 3\n"
                     "   empty:\n"
                     "   mat: !!opencv-matrix\n"
                     "      rows: 1\n"
                     "      data: [ 0.5 ] # a comment\n"
                     "last: 12\n";
    enh_yml_doc *d = NULL;
    enh_error err = {0};
    CHECK_MSG(parse(ok, &d, &err) == ENH_OK, "%s", err.msg);
    const enh_yml_node *top = enh_yml_get(enh_yml_root(d), "top");
    CHECK(top && top->type == ENH_YML_MAP);
    const enh_yml_node *k = enh_yml_get(top, "kind");
    CHECK(k && !strcmp(k->text, "quoted text"));
    double v = 0;
    CHECK(enh_yml_number(enh_yml_get(enh_yml_get(top, "nested"), "gamma"), &v) == 0 && v == 0.05);
    CHECK(!strcmp(enh_yml_get(enh_yml_get(top, "nested"), "type")->text, "RBF"));
    CHECK(enh_yml_number(enh_yml_get(enh_yml_get(top, "crit"), "epsilon"), &v) == 0 && v == 1e-3);
    const enh_yml_node *l = enh_yml_get(top, "list");
    CHECK(l && l->type == ENH_YML_SEQ && l->n == 2 && l->kids[0]->n == 3 && l->kids[1]->n == 0);
    CHECK(enh_yml_number(l->kids[0]->kids[1], &v) == 0 && v == -2.5);
    const enh_yml_node *f = enh_yml_get(top, "funcs");
    CHECK(f && f->n == 2 && enh_yml_get(f->kids[0], "b") && enh_yml_get(f->kids[1], "d"));
    CHECK(enh_yml_get(top, "empty") && !strcmp(enh_yml_get(top, "empty")->text, ""));
    const enh_yml_node *m = enh_yml_get(top, "mat");
    CHECK(m && m->tag && !strcmp(m->tag, "!!opencv-matrix") && enh_yml_get(m, "data")->n == 1);
    CHECK(enh_yml_number(enh_yml_get(enh_yml_root(d), "last"), &v) == 0 && v == 12);
    CHECK(enh_yml_number(k, &v) == -1); /* text is not a number */
    enh_yml_free(d);

    /* malformed or hostile: refused with a message, never a crash (ASan) */
    static const char *const bad[] = {
        "",
        "just text\n",
        "a: [1, 2\n",
        "a: [1, 2,, 3]\n",
        "a: [1, 2] trailing\n",
        "a: \"open\n",
        "a: { x 1 }\n",
        "a: 1\na: 2\n",
        "a:\n   b: 1\n     c: 2\n",
        "a: 1\n  - 2\n",
        "- 1\n",
        "a: 1\0b: 2\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = i == sizeof bad / sizeof bad[0] - 1 ? 10 : strlen(bad[i]);
        d = NULL;
        enh_status st = enh_yml_parse(bad[i], len, "bad.yml", &d, &err);
        CHECK_MSG(st == ENH_EINVAL && !d && strstr(err.msg, "bad.yml"), "case %zu: %d %s", i, st, err.msg);
    }
    /* nesting beyond the limit */
    char deep[200];
    strcpy(deep, "a: ");
    for (int i = 0; i < 60; i++)
        strcat(deep, "[");
    CHECK(parse(deep, &d, &err) == ENH_ETOOBIG && !d);
    /* more values than the node limit: one long flow list */
    size_t n = ENH_YML_MAX_NODES + 10, len = 0;
    char *big = malloc(4 + 2 * n + 3);
    len += (size_t)sprintf(big, "a: [");
    for (size_t i = 0; i < n; i++)
        big[len++] = '1', big[len++] = ',';
    big[len - 1] = ']';
    big[len++] = '\n';
    CHECK(enh_yml_parse(big, len, "big.yml", &d, &err) == ENH_ETOOBIG && !d);
    free(big);
    /* numbers: C syntax only, finite */
    static const char *const nums[] = {"a: .nan\n", "a: .Inf\n", "a: 1e999\n", "a: 0x10\n", "a: 1.5.2\n"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        CHECK(parse(nums[i], &d, &err) == ENH_OK);
        CHECK_MSG(enh_yml_number(enh_yml_get(enh_yml_root(d), "a"), &v) == -1, "%s", nums[i]);
        enh_yml_free(d);
    }
}

/* A 36-feature RBF SVR with two support vectors, in OpenCV's layout. */
static void write_model(const char *path, const char *svm_type, int sv_total, const char *extra)
{
    FILE *f = fopen(path, "w");
    fprintf(f, "%%YAML:1.0\n---\nopencv_ml_svm:\n   format: 3\n   svmType: %s\n   kernel:\n      type: RBF\n"
               "      gamma: 0.5\n   C: 1024.\n   var_count: 36\n   sv_total: %d\n   support_vectors:\n",
            svm_type, sv_total);
    for (int s = 0; s < 2; s++) {
        fprintf(f, "      - [ ");
        for (int i = 0; i < 36; i++)
            fprintf(f, "%s%s", s == 0 ? "0." : (i == 0 ? "1." : "0."), i == 35 ? " ]\n" : ", ");
    }
    fprintf(f, "   decision_functions:\n      -\n         sv_count: 2\n         rho: -10.\n"
               "         alpha: [ 20., -5. ]\n%s",
            extra);
    fclose(f);
}

static void write_range(const char *path, double max0)
{
    FILE *f = fopen(path, "w");
    fprintf(f, "%%YAML:1.0\n---\nrange: !!opencv-matrix\n   rows: 2\n   cols: 36\n   dt: f\n   data: [ ");
    for (int i = 0; i < 72; i++)
        fprintf(f, "%g%s", i < 36 ? -1.0 : (i == 36 ? max0 : 1.0), i == 71 ? " ]\n" : ", ");
    fclose(f);
}

static void test_tiny_model(const char *dir)
{
    char model[512], range[512];
    snprintf(model, sizeof model, "%s/m.yml", dir);
    snprintf(range, sizeof range, "%s/r.yml", dir);
    write_model(model, "EPS_SVR", 2, "");
    write_range(range, 1.0);
    enh_brisque *b = NULL;
    enh_error err = {0};
    CHECK_MSG(enh_brisque_load(model, range, &b, &err) == ENH_OK, "%s", err.msg);
    if (b) {
        /* ranges are [-1, 1], so features map to themselves; x = (0.9, 0, ...) is 0.81 from the
         * first vector (0, ...) and 0.01 from the second (1, 0, ...): 20 e^-0.405 - 5 e^-0.005 + 10 */
        float feat[ENH_BRISQUE_FEATURES] = {0.9f};
        double s = 0;
        CHECK(enh_brisque_predict(b, feat, &s, &err) == ENH_OK);
        CHECK_NEAR(s, 20 * exp(-0.405) - 5 * exp(-0.005) + 10, 1e-4);
        feat[0] = 3.0f; /* far from both vectors: the score is -rho = 10 */
        CHECK(enh_brisque_predict(b, feat, &s, &err) == ENH_OK);
        CHECK_NEAR(s, 10 + 20 * exp(-0.5 * 9) - 5 * exp(-0.5 * 4), 1e-4);
        feat[1] = NAN; /* undefined features (a flat image): -rho, clamped, as OpenCV's SVR gives */
        CHECK(enh_brisque_predict(b, feat, &s, &err) == ENH_OK);
        CHECK_NEAR(s, 10, 1e-6);
        enh_brisque_free(b);
    }
    /* an index picks the vectors: reversed, the coefficients swap */
    write_model(model, "EPS_SVR", 2, "         index: [ 1, 0 ]\n");
    CHECK_MSG(enh_brisque_load(model, range, &b, &err) == ENH_OK, "%s", err.msg);
    if (b) {
        float feat[ENH_BRISQUE_FEATURES] = {0.9f};
        double s = 0;
        CHECK(enh_brisque_predict(b, feat, &s, &err) == ENH_OK);
        CHECK_NEAR(s, 20 * exp(-0.005) - 5 * exp(-0.405) + 10, 1e-4);
        enh_brisque_free(b);
    }
    /* refused models and ranges */
    struct {
        const char *type, *extra;
        int total;
        enh_status want;
    } bad[] = {
        {"C_SVC", "", 2, ENH_EUNSUPPORTED},
        {"EPS_SVR", "", 3, ENH_EINVAL},                           /* sv_total != vectors listed */
        {"EPS_SVR", "         index: [ 0, 2 ]\n", 2, ENH_EINVAL}, /* index out of range */
        {"EPS_SVR", "         index: [ 0 ]\n", 2, ENH_EINVAL},    /* index too short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_model(model, bad[i].type, bad[i].total, bad[i].extra);
        enh_status st = enh_brisque_load(model, range, &b, &err);
        CHECK_MSG(st == bad[i].want && !b, "case %zu: %d %s", i, st, err.msg);
    }
    write_model(model, "EPS_SVR", 2, "");
    write_range(range, -1.0); /* max == min for feature 1 */
    CHECK(enh_brisque_load(model, range, &b, &err) == ENH_EINVAL && !b && strstr(err.msg, "feature 1"));
    /* missing files: not found, and the message names the package */
    char missing[512];
    snprintf(missing, sizeof missing, "%s/none.yml", dir);
    CHECK(enh_brisque_load(missing, range, &b, &err) == ENH_ENOTFOUND && !b && strstr(err.msg, "opencv-data"));
    write_range(range, 1.0);
    CHECK(enh_brisque_load(model, missing, &b, &err) == ENH_ENOTFOUND && !b && strstr(err.msg, "opencv-data"));
    /* the range file given as the model and the other way round */
    CHECK(enh_brisque_load(range, model, &b, &err) == ENH_EINVAL && !b);
    CHECK(enh_brisque_load(model, model, &b, &err) == ENH_EINVAL && !b);
    remove(model);
    remove(range);
}

/* Truncated copies of the installed model (opencv-data) are refused without a crash. */
static void test_truncated(const char *dir)
{
    FILE *f = fopen(ENH_BRISQUE_MODEL_DEFAULT, "rb");
    if (!f) {
        printf("opencv-data not installed: truncated-model checks skipped\n");
        return;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size);
    CHECK(fread(buf, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    char path[512];
    snprintf(path, sizeof path, "%s/t.yml", dir);
    enh_brisque *b = NULL;
    enh_error err = {0};
    for (int k = 0; k < 12; k++) {
        long cut = k < 10 ? size * k / 10 : size - (k == 10 ? 40 : 3);
        FILE *o = fopen(path, "wb");
        fwrite(buf, 1, (size_t)cut, o);
        fclose(o);
        enh_status st = enh_brisque_load(path, NULL, &b, &err);
        CHECK_MSG(st == ENH_EINVAL && !b, "cut at %ld of %ld: %d %s", cut, size, st, err.msg);
    }
    /* the whole file loads, from this copy too */
    FILE *o = fopen(path, "wb");
    fwrite(buf, 1, (size_t)size, o);
    fclose(o);
    CHECK_MSG(enh_brisque_load(path, NULL, &b, &err) == ENH_OK, "%s", err.msg);
    enh_brisque_free(b);
    remove(path);
    free(buf);
}

int main(void)
{
    char dir[] = "/tmp/test_brisque_ymlXXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_reader();
    test_tiny_model(dir);
    test_truncated(dir);
    rmdir(dir);
    CHECK_MAIN_END();
}
