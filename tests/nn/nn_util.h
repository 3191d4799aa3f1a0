/* nn_util.h - helpers for the nn tests: synthetic graphs with seeded random weights,
 * locating the real models, comparing float buffers. Header-only (static functions). */
#ifndef ENH_TESTS_NN_UTIL_H
#define ENH_TESTS_NN_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/graph.h"
#include "nn/manifest.h"
#include "nn/model.h"

#define SKIP_CODE 77

static unsigned long long nn_rng_state = 88172645463325252ull;
static inline void nn_seed(unsigned long long s) { nn_rng_state = s ? s : 1; }
static inline float nn_rand(void) /* uniform in [-1, 1) */
{
    nn_rng_state ^= nn_rng_state << 13;
    nn_rng_state ^= nn_rng_state >> 7;
    nn_rng_state ^= nn_rng_state << 17;
    return (float)((nn_rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.f - 1.f;
}

static inline float *nn_rand_buf(size_t n, float scale)
{
    float *p = enh_alloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = nn_rand() * scale;
    return p;
}

/* appends a node reading tensors ins[0..nin) and producing a new tensor; returns the tensor id */
static inline int nn_node(enh_graph *g, enh_op op, const char *name, int nin, const int *ins, enh_node **out)
{
    enh_node *n = enh_graph_add(g, op, name, nin);
    for (int k = 0; k < nin; k++)
        n->in[k] = ins[k];
    n->out = g->ntensors++;
    if (out)
        *out = n;
    return n->out;
}

static inline int nn_input(enh_graph *g, int c)
{
    enh_node *n;
    int t = nn_node(g, ENH_OP_INPUT, "input", 0, NULL, &n);
    g->input = t;
    g->in_channels = c;
    return t;
}

static inline int nn_conv(enh_graph *g, const char *name, int in, int cin, int cout, int k, int pad, int stride,
                   enh_nact act, float slope)
{
    enh_node *n;
    int t = nn_node(g, ENH_OP_CONV, name, 1, &in, &n);
    n->p.conv.cin = cin;
    n->p.conv.cout = cout;
    n->p.conv.kh = n->p.conv.kw = k;
    n->p.conv.sh = n->p.conv.sw = stride;
    n->p.conv.dh = n->p.conv.dw = 1;
    n->p.conv.pt = n->p.conv.pl = n->p.conv.pb = n->p.conv.pr = pad;
    n->p.conv.groups = 1;
    float sc = 1.5f / sqrtf((float)(cin * k * k));
    n->p.conv.weight = nn_rand_buf((size_t)cout * cin * k * k, sc);
    n->p.conv.bias = nn_rand_buf((size_t)cout, 0.1f);
    n->act.kind = act;
    n->act.a = slope;
    return t;
}

static inline int nn_act(enh_graph *g, const char *name, int in, enh_nact kind, float a, int nslopes)
{
    enh_node *n;
    int t = nn_node(g, ENH_OP_ACT, name, 1, &in, &n);
    n->act.kind = kind;
    n->act.a = a;
    if (kind == ENH_NACT_PRELU) {
        n->act.nslopes = nslopes;
        n->act.slopes = nn_rand_buf((size_t)nslopes, 0.3f);
    }
    return t;
}

static inline int nn_ps(enh_graph *g, const char *name, int in, int r)
{
    enh_node *n;
    int t = nn_node(g, ENH_OP_PIXELSHUFFLE, name, 1, &in, &n);
    n->p.ps.r = r;
    return t;
}

static inline int nn_interp(enh_graph *g, const char *name, int in, enh_interp_mode mode, float scale)
{
    enh_node *n;
    int t = nn_node(g, ENH_OP_INTERP, name, 1, &in, &n);
    n->p.interp.mode = mode;
    n->p.interp.scale_h = n->p.interp.scale_w = scale;
    return t;
}

static inline int nn_add(enh_graph *g, const char *name, int a, int b)
{
    int ins[2] = {a, b};
    enh_node *n;
    int t = nn_node(g, ENH_OP_BINARY, name, 2, ins, &n);
    n->p.bin.op = ENH_BIN_ADD;
    return t;
}

static inline int nn_eltsum(enh_graph *g, const char *name, int a, int b, float ca, float cb)
{
    int ins[2] = {a, b};
    enh_node *n;
    int t = nn_node(g, ENH_OP_ELTWISE, name, 2, ins, &n);
    n->p.elt.op = ENH_ELT_SUM;
    n->p.elt.coeffs = malloc(2 * sizeof(float));
    n->p.elt.coeffs[0] = ca;
    n->p.elt.coeffs[1] = cb;
    return t;
}

/* A small SRVGG-like x2 model: depth convs of 3x3 (receptive radius = depth), PReLU,
 * pixel-shuffle x2, plus the nearest-upsampled input. */
static inline enh_graph *nn_small_sr(int depth, int feat)
{
    enh_graph *g = enh_graph_new();
    int x = nn_input(g, 3);
    int t = nn_conv(g, "c0", x, 3, feat, 3, 1, 1, ENH_NACT_NONE, 0);
    t = nn_act(g, "p0", t, ENH_NACT_PRELU, 0, feat);
    for (int i = 1; i < depth - 1; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "c%d", i);
        int u = nn_conv(g, nm, t, feat, feat, 3, 1, 1, ENH_NACT_LEAKY, 0.2f);
        t = (i % 2 == 0) ? nn_eltsum(g, "res", u, t, 0.2f, 1.f) : u;
    }
    t = nn_conv(g, "last", t, feat, 12, 3, 1, 1, ENH_NACT_NONE, 0);
    t = nn_ps(g, "ps", t, 2);
    int up = nn_interp(g, "up", x, ENH_INTERP_NEAREST, 2.f);
    g->output = nn_add(g, "add", t, up);
    return g;
}

static inline double nn_max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || d != d)
            m = d != d ? INFINITY : d;
    }
    return m;
}

/* PSNR of two [0,1] float images after clamping */
static inline double nn_psnr(const float *a, const float *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i] < 0 ? 0 : a[i] > 1 ? 1 : a[i], y = b[i] < 0 ? 0 : b[i] > 1 ? 1 : b[i];
        se += (x - y) * (x - y);
    }
    return se == 0 ? 999.0 : 10 * log10(1.0 / (se / n));
}

/* The models folder the enhance command would use: the same rule over this environment. */
static inline void nn_use_env_models_dir(void)
{
    char dir[4096];
    enh_models_dir_rule(getenv("ENHANCE_MODELS_DIR"), getenv("XDG_CACHE_HOME"), getenv("HOME"), dir, sizeof dir);
    enh_models_set_default_dir(dir);
}

/* Finds an installed model: the models folder (manifest; the environment's, as the command's),
 * else the peers harness cache of this checkout (development convenience: same files, same
 * sha256), which then becomes the default models folder. Returns 0 and the paths, or -1. */
static inline int nn_find_model(const char *name, char *param, char *bin, size_t size)
{
    const enh_model_entry *e = enh_manifest_find(name);
    enh_error err;
    if (!e)
        return -1;
    nn_use_env_models_dir();
    if (enh_model_installed(e, NULL) && enh_model_files(e, NULL, param, bin, size, &err) == ENH_OK)
        return 0;
#ifdef ENH_SOURCE_DIR
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/.cache/peers/.cache/models", ENH_SOURCE_DIR);
    if (enh_model_installed(e, dir) && enh_model_files(e, dir, param, bin, size, &err) == ENH_OK) {
        enh_models_set_default_dir(dir);
        return 0;
    }
#endif
    return -1;
}

static inline enh_model *nn_load_or_skip_ex(const char *name, const enh_nn_options *opt)
{
    char param[4096], bin[4096];
    if (nn_find_model(name, param, bin, sizeof param)) {
        printf("SKIP: model %s is not installed (enhance models fetch %s)\n", name, name);
        return NULL;
    }
    enh_model *m;
    enh_error err;
    if (enh_model_load_ncnn_ex(param, bin, opt, &m, &err) != ENH_OK) {
        fprintf(stderr, "loading %s failed: %s\n", name, err.msg);
        return NULL;
    }
    return m;
}

static inline enh_model *nn_load_or_skip(const char *name) { return nn_load_or_skip_ex(name, NULL); }

#endif
