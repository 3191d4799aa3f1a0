/* brisque_model.c - the BRISQUE model: OpenCV's SVM file (cv::ml::SVM, an EPS_SVR with an RBF
 * kernel) and range file (a 2 x 36 opencv-matrix of per-feature minima and maxima) read with
 * brisque_yml.c, and the prediction, with OpenCV's arithmetic (float features scaled to [-1, 1]
 * in float; squared distances of float differences summed in double; the kernel value rounded to
 * float; the weighted sum in double, then float, clamped to [0, 100]).
 * OpenCV's cv::exp for float is its own polynomial, expf here: they differ by about one float
 * ulp per kernel value, ~1e-4 on a score of 0..100 (measured by bench/quality/brisque.py). */
#include "enhance/brisque_internal.h"
#include "enhance/brisque_yml.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SV 1000000

static const char pkg_hint[] =
    "install Debian's opencv-data package (apt-get install opencv-data), or give the path of OpenCV's "
    "brisque_model_live.yml / brisque_range_live.yml";

static enh_status bad(enh_error *err, const enh_yml_doc *d, const enh_yml_node *n, const char *what)
{
    return enh_fail(err, ENH_EINVAL, "%s, line %d: %s", enh_yml_name(d), n ? n->line : 1, what);
}

static int get_int(const enh_yml_node *n, long lo, long hi, long *out)
{
    double v;
    if (enh_yml_number(n, &v) || v != floor(v) || v < (double)lo || v > (double)hi)
        return -1;
    *out = (long)v;
    return 0;
}

static int is_text(const enh_yml_node *n, const char *s) { return n && n->type == ENH_YML_SCALAR && !strcmp(n->text, s); }

/* A sequence of exactly count numbers into dst (float or double). */
static int numbers(const enh_yml_node *n, size_t count, float *f, double *d)
{
    if (!n || n->type != ENH_YML_SEQ || n->n != count)
        return -1;
    for (size_t i = 0; i < count; i++) {
        double v;
        if (enh_yml_number(n->kids[i], &v))
            return -1;
        if (f)
            f[i] = (float)v;
        if (d)
            d[i] = v;
    }
    return 0;
}

static enh_status read_model(const enh_yml_doc *d, enh_brisque *b, enh_error *err)
{
    const enh_yml_node *root = enh_yml_root(d), *svm = enh_yml_get(root, "opencv_ml_svm");
    if (!svm && root && root->n == 1) /* cv::ml::SVM::load reads the first top-level node */
        svm = root->kids[0];
    if (!svm || svm->type != ENH_YML_MAP)
        return bad(err, d, root, "no 'opencv_ml_svm' mapping: not an OpenCV SVM model");
    const enh_yml_node *t = enh_yml_get(svm, "svmType");
    if (!t || t->type != ENH_YML_SCALAR)
        return bad(err, d, svm, "no svmType: not an OpenCV SVM model");
    if (!is_text(t, "EPS_SVR") && !is_text(t, "NU_SVR"))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s, line %d: svmType is '%s'; BRISQUE needs a regression (EPS_SVR)",
                        enh_yml_name(d), t->line, t->text);
    const enh_yml_node *k = enh_yml_get(svm, "kernel");
    if (!is_text(enh_yml_get(k, "type"), "RBF"))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s, line %d: the SVM kernel is not RBF, the only one supported",
                        enh_yml_name(d), k ? k->line : svm->line);
    if (enh_yml_number(enh_yml_get(k, "gamma"), &b->gamma) || !(b->gamma > 0))
        return bad(err, d, k, "kernel gamma missing or not a positive number");
    long nvar, total, count;
    if (get_int(enh_yml_get(svm, "var_count"), 0, 1 << 20, &nvar) || nvar != ENH_BRISQUE_FEATURES)
        return bad(err, d, svm, "var_count must be 36 (the BRISQUE features)");
    if (get_int(enh_yml_get(svm, "sv_total"), 1, MAX_SV, &total))
        return bad(err, d, svm, "sv_total missing or not 1..1000000");
    const enh_yml_node *svs = enh_yml_get(svm, "support_vectors");
    if (!svs || svs->type != ENH_YML_SEQ || svs->n != (size_t)total)
        return bad(err, d, svs ? svs : svm, "support_vectors must be a list of sv_total vectors");
    const enh_yml_node *dfs = enh_yml_get(svm, "decision_functions");
    if (!dfs || dfs->type != ENH_YML_SEQ || dfs->n != 1 || dfs->kids[0]->type != ENH_YML_MAP)
        return bad(err, d, dfs ? dfs : svm, "decision_functions must hold exactly one function (a regression)");
    const enh_yml_node *df = dfs->kids[0], *idx = enh_yml_get(df, "index");
    if (get_int(enh_yml_get(df, "sv_count"), 1, total, &count) || (!idx && count != total))
        return bad(err, d, df, "sv_count missing, not 1..sv_total, or below sv_total without an index");
    if (enh_yml_number(enh_yml_get(df, "rho"), &b->rho))
        return bad(err, d, df, "rho missing or not a number");

    b->nsv = (int)count;
    b->sv = malloc(sizeof(float) * ENH_BRISQUE_FEATURES * (size_t)count);
    b->alpha = malloc(sizeof(double) * (size_t)count);
    long *order = malloc(sizeof(long) * (size_t)count);
    float *all = malloc(sizeof(float) * ENH_BRISQUE_FEATURES * (size_t)total);
    enh_status st = ENH_OK;
    if (!b->sv || !b->alpha || !order || !all) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory loading %s", enh_yml_name(d));
        goto done;
    }
    for (long i = 0; i < total; i++)
        if (numbers(svs->kids[i], ENH_BRISQUE_FEATURES, all + (size_t)i * ENH_BRISQUE_FEATURES, NULL)) {
            st = bad(err, d, svs->kids[i], "a support vector is not a list of 36 numbers");
            goto done;
        }
    if (numbers(enh_yml_get(df, "alpha"), (size_t)count, NULL, b->alpha)) {
        st = bad(err, d, df, "alpha must be a list of sv_count numbers");
        goto done;
    }
    for (long i = 0; i < count; i++) {
        order[i] = i;
        if (idx && (idx->type != ENH_YML_SEQ || idx->n != (size_t)count || get_int(idx->kids[i], 0, total - 1, &order[i]))) {
            st = bad(err, d, idx, "index must be a list of sv_count integers below sv_total");
            goto done;
        }
        memcpy(b->sv + (size_t)i * ENH_BRISQUE_FEATURES, all + (size_t)order[i] * ENH_BRISQUE_FEATURES,
               sizeof(float) * ENH_BRISQUE_FEATURES);
    }
done:
    free(order);
    free(all);
    return st;
}

static enh_status read_range(const enh_yml_doc *d, enh_brisque *b, enh_error *err)
{
    const enh_yml_node *m = enh_yml_get(enh_yml_root(d), "range");
    if (!m || m->type != ENH_YML_MAP)
        return bad(err, d, enh_yml_root(d), "no 'range' matrix: not a BRISQUE range file");
    long rows, cols;
    const enh_yml_node *dt = enh_yml_get(m, "dt");
    if (get_int(enh_yml_get(m, "rows"), 0, 1 << 20, &rows) || get_int(enh_yml_get(m, "cols"), 0, 1 << 20, &cols) ||
        rows != 2 || cols != ENH_BRISQUE_FEATURES)
        return bad(err, d, m, "range must be a 2 x 36 matrix (minima, maxima)");
    if (!is_text(dt, "f") && !is_text(dt, "d"))
        return bad(err, d, m, "range dt must be f or d");
    float v[2 * ENH_BRISQUE_FEATURES];
    if (numbers(enh_yml_get(m, "data"), 2 * ENH_BRISQUE_FEATURES, v, NULL))
        return bad(err, d, m, "range data must be 72 numbers");
    for (int i = 0; i < ENH_BRISQUE_FEATURES; i++) {
        b->range_min[i] = v[i];
        b->range_max[i] = v[ENH_BRISQUE_FEATURES + i];
        if (!(b->range_max[i] > b->range_min[i]))
            return enh_fail(err, ENH_EINVAL, "%s: feature %d has max %g <= min %g; the range would divide by zero",
                            enh_yml_name(d), i + 1, b->range_max[i], b->range_min[i]);
    }
    return ENH_OK;
}

static enh_status load_doc(const char *path, const char *what, enh_yml_doc **doc, enh_error *err)
{
    enh_status st = enh_yml_load(path, doc, err);
    if (st == ENH_ENOTFOUND)
        return enh_fail(err, ENH_ENOTFOUND, "BRISQUE %s file %s not found: %s", what, path, pkg_hint);
    return st;
}

enh_status enh_brisque_load(const char *model_yml, const char *range_yml, enh_brisque **out, enh_error *err)
{
    *out = NULL;
    const char *mp = model_yml ? model_yml : ENH_BRISQUE_MODEL_DEFAULT;
    const char *rp = range_yml ? range_yml : ENH_BRISQUE_RANGE_DEFAULT;
    enh_brisque *b = calloc(1, sizeof *b);
    if (!b)
        return enh_fail(err, ENH_ENOMEM, "out of memory loading the BRISQUE model");
    enh_yml_doc *d = NULL;
    enh_status st = load_doc(mp, "model", &d, err);
    if (!st)
        st = read_model(d, b, err);
    enh_yml_free(d);
    d = NULL;
    if (!st)
        st = load_doc(rp, "range", &d, err);
    if (!st)
        st = read_range(d, b, err);
    enh_yml_free(d);
    if (st) {
        enh_brisque_free(b);
        return st;
    }
    *out = b;
    return ENH_OK;
}

void enh_brisque_free(enh_brisque *b)
{
    if (!b)
        return;
    free(b->sv);
    free(b->alpha);
    free(b);
}

enh_status enh_brisque_predict(const enh_brisque *b, const float f[ENH_BRISQUE_FEATURES], double *score,
                               enh_error *err)
{
    *score = 0;
    if (!b || !f)
        return enh_fail(err, ENH_EINVAL, "BRISQUE needs a loaded model and features");
    float x[ENH_BRISQUE_FEATURES];
    for (int i = 0; i < ENH_BRISQUE_FEATURES; i++) {
        if (!isfinite(f[i])) {
            /* no local contrast at one of the scales (a flat, two-level or tiny image): every kernel
             * value is then the same, the coefficients of an SVR sum to zero (LIVE: 7.7e-12), so
             * OpenCV 4.6 gives -rho clamped, 100 with the LIVE model (measured: constant, white,
             * step and 9x9 images) - the worst score, which is what a blank upload deserves */
            float r = (float)-b->rho;
            *score = r < 0.f ? 0.f : r > 100.f ? 100.f : r;
            return ENH_OK;
        }
        x[i] = -1.f + 2.f * (f[i] - b->range_min[i]) / (b->range_max[i] - b->range_min[i]);
    }
    double g = -b->gamma, sum = -b->rho;
    for (int j = 0; j < b->nsv; j++) {
        const float *sv = b->sv + (size_t)j * ENH_BRISQUE_FEATURES;
        double s = 0;
        for (int k = 0; k < ENH_BRISQUE_FEATURES; k += 4) {
            double t0 = sv[k] - x[k], t1 = sv[k + 1] - x[k + 1];
            s += t0 * t0 + t1 * t1;
            t0 = sv[k + 2] - x[k + 2];
            t1 = sv[k + 3] - x[k + 3];
            s += t0 * t0 + t1 * t1;
        }
        float kv = expf((float)(s * g));
        sum += kv * b->alpha[j];
    }
    float r = (float)sum;
    *score = r < 0.f ? 0.f : r > 100.f ? 100.f : r;
    return ENH_OK;
}
