/* fuzz_brisque.c - the BRISQUE model files: OpenCV FileStorage YAML (src/enhance/brisque_yml.c)
 * and the SVM and range files read from it (brisque_model.c), through enh_brisque_load (the
 * files a user may point --brisque-model at), then a prediction on fixed features, which must be
 * a finite score in [0, 100] or a user's error. Input: the model YAML, FUZZ_SPLIT, the range
 * YAML. Seeds: a 3-vector EPS_SVR model and a range file in OpenCV's layout (generated here). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enhance/brisque.h"
#include "enhance/brisque_yml.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t mlen, rlen;
    const uint8_t *r;
    fuzz_split(data, size, &mlen, &r, &rlen);
    const char *dir = fuzz_tmpdir();
    char mp[256], rp[256];
    snprintf(mp, sizeof mp, "%s/model.yml", dir);
    snprintf(rp, sizeof rp, "%s/range.yml", dir);
    fuzz_write_file(mp, data, mlen);
    fuzz_write_file(rp, r, rlen);
    enh_error e;
    enh_error_clear(&e);
    /* the YAML reader alone on the model text, from memory */
    enh_yml_doc *d = NULL;
    enh_status st = enh_yml_parse((const char *)data, mlen, "model", &d, &e);
    fuzz_check_status("enh_yml_parse", st, &e);
    if ((st == ENH_OK) != (d != NULL))
        fuzz_fail("enh_yml_parse: status %d with document %p", (int)st, (void *)d);
    enh_yml_free(d);
    enh_brisque *b = NULL;
    enh_error_clear(&e);
    st = enh_brisque_load(mp, rp, &b, &e);
    fuzz_check_status("enh_brisque_load", st, &e);
    if (st != ENH_OK)
        return 0;
    fuzz_accepted++;
    float f[ENH_BRISQUE_FEATURES];
    for (int i = 0; i < ENH_BRISQUE_FEATURES; i++)
        f[i] = 0.1f + 0.02f * (float)i;
    double score = -1;
    enh_error_clear(&e);
    st = enh_brisque_predict(b, f, &score, &e);
    fuzz_check_status("enh_brisque_predict", st, &e);
    if (st == ENH_OK && !(score >= 0 && score <= 100))
        fuzz_fail("score %g outside [0, 100]", score);
    enh_brisque_free(b);
    return 0;
}

static void cat(char **s, size_t *n, const char *fmt, double v)
{
    char t[64];
    int k = snprintf(t, sizeof t, fmt, v);
    *s = realloc(*s, *n + (size_t)k + 1);
    memcpy(*s + *n, t, (size_t)k + 1);
    *n += (size_t)k;
}

static void text(char **s, size_t *n, const char *t)
{
    size_t k = strlen(t);
    *s = realloc(*s, *n + k + 1);
    memcpy(*s + *n, t, k + 1);
    *n += k;
}

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    char *m = NULL;
    size_t mn = 0;
    text(&m, &mn, "%YAML:1.0\n---\nopencv_ml_svm:\n   format: 3\n   svmType: EPS_SVR\n   kernel:\n      type: RBF\n"
                  "      gamma: 5.0000000000000003e-02\n   C: 1024.\n   p: 1.0000000000000001e-01\n"
                  "   term_criteria: { epsilon:1.0000000000000000e-03, iterations:1000 }\n   var_count: 36\n"
                  "   sv_total: 3\n   support_vectors:\n");
    for (int v = 0; v < 3; v++) {
        text(&m, &mn, "      - [ ");
        for (int i = 0; i < ENH_BRISQUE_FEATURES; i++) {
            cat(&m, &mn, "%.8e", ((v * 7 + i * 3) % 11 - 5) / 5.0);
            text(&m, &mn, i + 1 < ENH_BRISQUE_FEATURES ? (i % 4 == 3 ? ",\n          " : ", ") : " ]\n");
        }
    }
    text(&m, &mn, "   decision_functions:\n      -\n         sv_count: 3\n         rho: -4.5e+01\n"
                  "         alpha: [ 1.5, -2.25, 3. ]\n         index: [ 2, 0, 1 ]\n");
    char *r = NULL;
    size_t rn = 0;
    text(&r, &rn, "%YAML:1.0\n---\nrange: !!opencv-matrix\n   rows: 2\n   cols: 36\n   dt: f\n   data: [ ");
    for (int i = 0; i < 2 * ENH_BRISQUE_FEATURES; i++) {
        cat(&r, &rn, "%.8e", i < ENH_BRISQUE_FEATURES ? -0.5 + 0.01 * i : 1.0 + 0.02 * i);
        text(&r, &rn, i + 1 < 2 * ENH_BRISQUE_FEATURES ? (i % 4 == 3 ? ",\n       " : ", ") : " ]\n");
    }
    size_t n;
    void *d = fuzz_join(m, mn, r, rn, &n);
    emit(ctx, "live-like.yml", d, n);
    free(d);
    free(m);
    free(r);
}
