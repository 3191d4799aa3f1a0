/* model.c - the model object and the graph executor (nn.h, model.h).
 * Every convolution runs through a conv plan created at load (enh_conv_plan_create_ex, with the
 * model's runtime options: nn_options.h; fp32 unless bf16 is asked, see precision.h), with
 * its activation and residual add fused into the plan's parameters where the plan
 * supports them; other ops run the reference kernels of ops_ref.h. A conv followed by a
 * PixelShuffle and a residual add (the SR tail, ps_tail.h) or by a weighted sum (elt_tail.h)
 * runs them in its epilogue in fused models (found at load and checked per run in model_fuse.c).
 * Activations live in one arena per call, laid out by the memory planner. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/model_internal.h"
#include "nn/ncnn.h"
#include "nn/ops_par.h"
#include "nn/ops_ref.h"

/* The smallest idle arena that holds n floats, or a new one (NULL: out of memory). When none
 * is large enough, the idle ones are all smaller than the new one, which serves their sizes
 * too once it is given back: they are freed, so that runs one after another (a folder of
 * images of different sizes, tiles of different windows) keep one arena, the largest, not one
 * per size seen (measured on 8 photos at x2: batch peak RSS 463 MB, where the largest file alone
 * takes 312 MB). Runs at the same time still get one arena each. */
static float *arena_take(enh_model *m, size_t n)
{
    float *p = NULL, *drop[ARENA_KEEP];
    int ndrop = 0;
    pthread_mutex_lock(&m->arena_mu);
    int best = -1;
    for (int i = 0; i < m->narenas; i++)
        if (m->arenas[i].n >= n && (best < 0 || m->arenas[i].n < m->arenas[best].n))
            best = i;
    if (best >= 0) {
        p = m->arenas[best].p;
        m->arenas[best] = m->arenas[--m->narenas];
    } else {
        while (m->narenas > 0)
            drop[ndrop++] = m->arenas[--m->narenas].p;
    }
    pthread_mutex_unlock(&m->arena_mu);
    for (int i = 0; i < ndrop; i++)
        enh_free(drop[i]);
    return p ? p : enh_alloc(n * sizeof(float));
}

static void arena_give(enh_model *m, float *p, size_t n)
{
    if (!p)
        return;
    pthread_mutex_lock(&m->arena_mu);
    size_t kept = n;
    for (int i = 0; i < m->narenas; i++)
        kept += m->arenas[i].n;
    if (m->narenas < ARENA_KEEP && kept * sizeof(float) <= ARENA_KEEP_BYTES) {
        m->arenas[m->narenas].p = p;
        m->arenas[m->narenas].n = n;
        m->narenas++;
        p = NULL;
    }
    pthread_mutex_unlock(&m->arena_mu);
    enh_free(p);
}

static void conv_params(const enh_node *n, enh_conv_params *p)
{
    memset(p, 0, sizeof *p);
    p->cin = n->p.conv.cin;
    p->cout = n->p.conv.cout;
    p->kh = n->p.conv.kh;
    p->kw = n->p.conv.kw;
    p->stride_h = n->p.conv.sh;
    p->stride_w = n->p.conv.sw;
    p->dil_h = n->p.conv.dh;
    p->dil_w = n->p.conv.dw;
    p->pad_top = n->p.conv.pt;
    p->pad_left = n->p.conv.pl;
    p->pad_bottom = n->p.conv.pb;
    p->pad_right = n->p.conv.pr;
    p->groups = n->p.conv.groups;
    p->weight = n->p.conv.weight;
    p->bias = n->p.conv.bias;
    switch (n->act.kind) {
    case ENH_NACT_RELU: p->act = ENH_ACT_RELU; break;
    case ENH_NACT_LEAKY: p->act = ENH_ACT_LEAKY; p->act_slope = n->act.a; break;
    case ENH_NACT_PRELU: p->act = ENH_ACT_PRELU; p->prelu = n->act.slopes; p->prelu_count = n->act.nslopes; break;
    case ENH_NACT_CLIP: p->act = ENH_ACT_CLIP; p->clip_lo = n->act.a; p->clip_hi = n->act.b; break;
    default: p->act = ENH_ACT_NONE; break;
    }
}

void enh_model_free(enh_model *m)
{
    if (!m)
        return;
    if (m->plans && m->g)
        for (int i = 0; i < m->g->nnodes; i++)
            enh_conv_plan_free(m->plans[i]);
    free(m->plans);
    free(m->tails);
    free(m->next_conv);
    free(m->elt_tail);
    free(m->early);
    free(m->vkey);
    enh_graph_free(m->g);
    for (int i = 0; i < m->narenas; i++)
        enh_free(m->arenas[i].p);
    pthread_mutex_destroy(&m->arena_mu);
    free(m);
}

typedef struct {
    enh_model *m;
    int *idx;          /* the conv nodes */
    enh_status *st;    /* per conv node */
    int n;
} plan_job;

static void make_plans(void *ctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    plan_job *j = ctx;
    for (size_t k = begin; k < end; k++) {
        enh_node *n = &j->m->g->nodes[j->idx[k]];
        enh_conv_params p;
        conv_params(n, &p);
        j->st[k] = enh_conv_plan_create_ex(&p, &j->m->opt, &j->m->plans[j->idx[k]], NULL);
        if (j->st[k] == ENH_OK) { /* the plan holds its own copy: drop the raw weights now (peak RSS) */
            enh_free(n->p.conv.weight);
            n->p.conv.weight = NULL;
        }
    }
}

static enh_status build(enh_graph *g, int fuse, const enh_nn_options *opt, enh_model **out, enh_error *err)
{
    *out = NULL;
    opt = enh_nn_options_or_default(opt);
    enh_status st = enh_nn_options_check(opt, err); /* once, not per layer */
    if (st != ENH_OK) {
        enh_graph_free(g);
        return st;
    }
    st = enh_graph_validate(g, err);
    if (st == ENH_OK && fuse)
        st = enh_graph_fuse(g, err);
    if (st != ENH_OK) {
        enh_graph_free(g);
        return st;
    }
    /* a shape error (channels that do not match, ...) shows now, not at the first run */
    enh_shape *probe = calloc((size_t)g->ntensors, sizeof *probe);
    if (!probe) {
        enh_graph_free(g);
        return enh_fail(err, ENH_ENOMEM, "out of memory building the model");
    }
    if (g->fixed_h > 0 && g->fixed_w > 0) /* a classifier: the one size it runs at */
        st = enh_graph_infer_shapes(g, g->in_channels, g->fixed_h, g->fixed_w, probe, err);
    else {
        st = enh_graph_infer_shapes(g, g->in_channels, 64, 64, probe, err);
        if (st != ENH_OK && enh_graph_infer_shapes(g, g->in_channels, 256, 256, probe, NULL) == ENH_OK)
            st = ENH_OK; /* models that need large inputs */
    }
    if (st != ENH_OK) {
        free(probe);
        enh_graph_free(g);
        return st;
    }
    enh_model *m = calloc(1, sizeof *m);
    if (!m || !(m->plans = calloc((size_t)g->nnodes, sizeof *m->plans))) {
        free(m);
        free(probe);
        enh_graph_free(g);
        return enh_fail(err, ENH_ENOMEM, "out of memory building the model");
    }
    m->g = g;
    m->opt = *opt;
    pthread_mutex_init(&m->arena_mu, NULL);
    enh_model_info *in = &m->info;
    in->in_channels = g->in_channels;
    in->layers = g->nnodes;
    for (int i = 0; i < g->nnodes; i++) {
        enh_node *n = &g->nodes[i];
        if (n->op == ENH_OP_CONV || n->op == ENH_OP_DECONV)
            in->weight_bytes += ((size_t)n->p.conv.cout * (n->p.conv.cin / n->p.conv.groups) * n->p.conv.kh *
                                     n->p.conv.kw + (n->p.conv.bias ? (size_t)n->p.conv.cout : 0)) * sizeof(float);
        else if (n->op == ENH_OP_INNERPRODUCT)
            in->weight_bytes += ((size_t)n->p.fc.num_output * n->p.fc.in_size +
                                 (n->p.fc.bias ? (size_t)n->p.fc.num_output : 0)) * sizeof(float);
        in->weight_bytes += (size_t)n->act.nslopes * sizeof(float);
    }
    in->flops_per_pixel = enh_graph_flops_per_pixel(g);
    in->receptive_radius = enh_graph_receptive_radius(g);
    /* scale and output channels from two probe sizes */
    int oc = 0, oh1, ow1, oh2, ow2;
    int p1 = g->fixed_h <= 0 ? enh_model_output_size(m, 64, 48, &oc, &oh1, &ow1) : -1;
    int p2 = p1 == 0 ? enh_model_output_size(m, 40, 56, &oc, &oh2, &ow2) : -1;
    if (p1 == -2 || p2 == -2) { /* else the model would be cached as "not a super-resolution model" */
        free(probe);
        enh_model_free(m);
        return enh_fail(err, ENH_ENOMEM, "out of memory building the model");
    }
    if (p1 == 0 && p2 == 0 &&
        oh1 % 64 == 0 && ow1 % 48 == 0 && oh1 / 64 == ow1 / 48 && oh2 == 40 * (oh1 / 64) && ow2 == 56 * (oh1 / 64)) {
        in->scale = oh1 / 64;
        in->out_channels = oc;
    } else {
        in->scale = 0; /* not a same-grid image-to-image model: enh_model_run refuses it */
        in->out_channels = g->fixed_h > 0 ? probe[g->output].c : oc;
    }
    /* conv plans (weight transforms and packing: most of a load) are made on the pool */
    plan_job pj = {m, malloc((size_t)g->nnodes * sizeof(int)), NULL, 0};
    pj.st = pj.idx ? malloc((size_t)g->nnodes * sizeof *pj.st) : NULL;
    if (!pj.st) {
        free(pj.idx);
        free(probe);
        enh_model_free(m);
        return enh_fail(err, ENH_ENOMEM, "out of memory building the model");
    }
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].op == ENH_OP_CONV)
            pj.idx[pj.n++] = i;
    enh_pool_run(enh_pool_default(), (size_t)pj.n, 1, make_plans, &pj);
    st = ENH_OK;
    for (int k = 0; k < pj.n; k++) {
        enh_node *n = &g->nodes[pj.idx[k]];
        if (pj.st[k] != ENH_OK) { /* again on this thread: for the message, or it works now (memory) */
            enh_conv_params p;
            conv_params(n, &p);
            if ((st = enh_conv_plan_create_ex(&p, &m->opt, &m->plans[pj.idx[k]], err)) != ENH_OK) {
                enh_error_prefix(err, "layer '%s'", n->name);
                break;
            }
            enh_free(n->p.conv.weight); /* make_plans drops them for the plans it made */
            n->p.conv.weight = NULL;
        }
        in->convs++;
        in->bf16_convs += enh_conv_plan_precision(m->plans[pj.idx[k]]) == ENH_PRECISION_BF16;
    }
    free(pj.idx);
    free(pj.st);
    if (st == ENH_OK && !(m->next_conv = malloc((size_t)g->nnodes * sizeof *m->next_conv)))
        st = enh_fail(err, ENH_ENOMEM, "out of memory building the model");
    for (int i = g->nnodes - 1, nx = -1; st == ENH_OK && i >= 0; i--) {
        m->next_conv[i] = nx;
        if (m->plans[i])
            nx = i;
    }
    if (st == ENH_OK && fuse)
        st = enh_model_find_fusions(m, probe, err);
    free(probe);
    if (st != ENH_OK) {
        enh_model_free(m);
        return st;
    }
    *out = m;
    return ENH_OK;
}

enh_status enh_model_from_graph(enh_graph *g, enh_model **out, enh_error *err)
{
    return build(g, 1, NULL, out, err);
}

enh_status enh_model_from_graph_ex(enh_graph *g, const enh_nn_options *opt, enh_model **out, enh_error *err)
{
    return build(g, 1, opt, out, err);
}

enh_status enh_model_from_graph_unfused(enh_graph *g, enh_model **out, enh_error *err)
{
    return build(g, 0, NULL, out, err);
}

enh_status enh_model_load_ncnn(const char *param_path, const char *bin_path, enh_model **out,
                               enh_error *err)
{
    return enh_model_load_ncnn_ex(param_path, bin_path, NULL, out, err);
}

enh_status enh_model_load_ncnn_ex(const char *param_path, const char *bin_path, const enh_nn_options *opt,
                                  enh_model **out, enh_error *err)
{
    enh_graph *g;
    *out = NULL;
    enh_status st = enh_ncnn_load_files(param_path, bin_path, &g, err);
    if (st != ENH_OK)
        return st;
    return build(g, 1, opt, out, err);
}

const enh_nn_options *enh_model_options(const enh_model *m) { return &m->opt; }

const enh_model_info *enh_model_get_info(const enh_model *m) { return &m->info; }
const enh_graph *enh_model_graph(const enh_model *m) { return m->g; }

const char *enh_model_kernel_name(const enh_model *m)
{
    for (int i = 0; i < m->g->nnodes; i++)
        if (m->plans[i])
            return enh_conv_plan_kernel(m->plans[i]);
    return "";
}

int enh_model_output_size(const enh_model *m, int h, int w, int *oc, int *oh, int *ow)
{
    enh_shape *s = calloc((size_t)m->g->ntensors, sizeof *s);
    if (!s)
        return -2;
    int rc = -1;
    enh_status st = enh_graph_infer_shapes(m->g, m->g->in_channels, h, w, s, NULL);
    if (st == ENH_OK) {
        *oc = s[m->g->output].c;
        *oh = s[m->g->output].h;
        *ow = s[m->g->output].w;
        rc = 0;
    } else if (st == ENH_ENOMEM) {
        rc = -2;
    }
    free(s);
    return rc;
}

size_t enh_model_workspace_bytes(const enh_model *m, int n, int h, int w)
{
    enh_memplan mp;
    if (enh_memplan_build_ex(m->g, n, m->g->in_channels, h, w, m->early, &mp, NULL) != ENH_OK)
        return 0;
    size_t b = mp.arena_floats * sizeof(float) + ENH_ALIGN;
    enh_memplan_free(&mp);
    return b;
}

static enh_status run_graph(const enh_model *m, const float *in, int n, int h, int w, float *out,
                            enh_pool *pool, int image_to_image, enh_error *err);

enh_status enh_model_run(const enh_model *m, const float *in, int n, int h, int w, float *out,
                         enh_pool *pool, enh_error *err)
{
    if (m->info.scale <= 0)
        return enh_fail(err, ENH_EUNSUPPORTED, "this model's output is not a fixed multiple of its input size");
    return run_graph(m, in, n, h, w, out, pool, 1, err);
}

enh_status enh_model_run_graph(const enh_model *m, const float *in, int n, int h, int w, float *out,
                               enh_pool *pool, enh_error *err)
{
    return run_graph(m, in, n, h, w, out, pool, 0, err);
}

static enh_status run_graph(const enh_model *m, const float *in, int n, int h, int w, float *out,
                            enh_pool *pool, int image_to_image, enh_error *err)
{
    const enh_graph *g = m->g;
    if (n <= 0 || h <= 0 || w <= 0)
        return enh_fail(err, ENH_EINVAL, "invalid input shape %d x %d x %d", n, h, w);
    if (!pool)
        pool = enh_pool_default();
    enh_memplan mp;
    enh_status st = enh_memplan_build_ex(g, n, g->in_channels, h, w, m->early, &mp, err);
    if (st != ENH_OK)
        return st;
    const enh_shape *os = &mp.shapes[g->output];
    if (image_to_image &&
        (os->c != m->info.out_channels || os->h != h * m->info.scale || os->w != w * m->info.scale)) {
        enh_memplan_free(&mp);
        return enh_fail(err, ENH_EUNSUPPORTED, "model output %dx%d is not %d x the %dx%d input", os->w, os->h,
                        m->info.scale, w, h);
    }
    enh_model *cache = (enh_model *)m; /* only the arena cache changes, under its mutex */
    float *arena = mp.arena_floats ? arena_take(cache, mp.arena_floats) : NULL;
    if (mp.arena_floats && !arena) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory: %.1f MiB of activations needed for %d x %dx%d",
                      (double)mp.arena_floats * 4 / (1 << 20), n, w, h);
        enh_memplan_free(&mp);
        return st;
    }
    float **T = calloc((size_t)g->ntensors, sizeof *T);
    if (!T) {
        enh_free(arena);
        enh_memplan_free(&mp);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    for (int t = 0; t < g->ntensors; t++)
        T[t] = mp.offset[t] == ENH_MEMPLAN_EXTERNAL ? NULL : arena + mp.offset[t];
    T[g->input] = (float *)in; /* never written: no op writes its inputs */
    enh_conv_vcache vc = {0}; /* the current dense-block chain's transformed inputs */
    int vc_key = -1;
    T[g->output] = out;
    for (int i = 0; i < g->nnodes; i++) {
        if (mp.skip[i]) /* an in-place concat: its inputs were written where it would copy them */
            continue;
        const enh_node *nd = &g->nodes[i];
        const enh_shape *so = &mp.shapes[nd->out];
        const enh_shape *si = nd->nin ? &mp.shapes[nd->in[0]] : NULL;
        float *y = T[nd->out];
        const float *x = nd->nin ? T[nd->in[0]] : NULL;
        size_t plane = (size_t)so->h * so->w;
        switch (nd->op) {
        case ENH_OP_INPUT:
            if (g->output == g->input)
                memcpy(out, in, (size_t)n * si->c * plane * sizeof *out);
            break;
        case ENH_OP_CONV: {
            const float *res = nd->nin > 1 ? T[nd->in[1]] : NULL;
            const enh_conv_plan *next = m->next_conv[i] >= 0 ? m->plans[m->next_conv[i]] : NULL;
            enh_conv_vcache *vcp = NULL;
            int cmax = 0;
            if (m->vkey && m->vkey[i] >= 0) {
                if (m->vkey[i] != vc_key) { /* a new chain: its transforms start empty */
                    vc.done = 0;
                    vc_key = m->vkey[i];
                }
                vcp = &vc;
                cmax = mp.shapes[vc_key].c;
            }
            /* a fused tail (its nodes are then skipped); tails only follow convs whose
             * activation is in the epilogue */
            enh_ps_tail_run tr;
            enh_elt_tail_run er;
            enh_conv_post_fn post = NULL;
            void *post_ctx = NULL;
            if (m->tails && enh_model_ps_tail_setup(m, i, &mp, T, n, &tr)) {
                const enh_ps_tail *t = &m->tails[i];
                post = enh_ps_tail_box, post_ctx = &tr;
                mp.skip[t->ps] = mp.skip[t->add] = 1;
                if (t->interp >= 0)
                    mp.skip[t->interp] = 1;
            } else if (m->elt_tail && enh_model_elt_tail_setup(m, i, &mp, T, n, &er)) {
                post = enh_elt_tail_box, post_ctx = &er;
                mp.skip[m->elt_tail[i]] = 1;
            }
            int in_epilogue = enh_nact_in_conv_epilogue(nd->act.kind);
            enh_conv_plan_run_ex(m->plans[i], x, n, si->h, si->w, y, in_epilogue ? res : NULL, pool, post, post_ctx,
                                 next, vcp, cmax);
            if (!in_epilogue) /* sigmoid: fusion never adds a residual here */
                enh_act_ref(&nd->act, y, n, so->c, plane, pool);
            break;
        }
        case ENH_OP_DECONV:
            enh_deconv_ref(nd, x, n, *si, *so, y, pool);
            break;
        case ENH_OP_ACT:
            memcpy(y, x, (size_t)n * so->c * plane * sizeof *y);
            enh_act_ref(&nd->act, y, n, so->c, plane, pool);
            break;
        case ENH_OP_PIXELSHUFFLE:
            enh_pixelshuffle(x, n, *si, nd->p.ps.r, nd->p.ps.dcr, y, pool);
            break;
        case ENH_OP_INTERP:
            enh_interp_ref(nd, x, n, *si, *so, y, pool);
            break;
        case ENH_OP_BINARY:
            enh_binary(nd->p.bin.op, x, *si, nd->p.bin.with_scalar ? NULL : T[nd->in[1]],
                       nd->p.bin.with_scalar ? *si : mp.shapes[nd->in[1]], nd->p.bin.scalar, n, *so, y, pool);
            break;
        case ENH_OP_ELTWISE:
        case ENH_OP_CONCAT: {
            const float *ins[ENH_GRAPH_MAX_INPUTS]; /* enh_graph_validate bounds nin */
            enh_shape shp[ENH_GRAPH_MAX_INPUTS];
            for (int k = 0; k < nd->nin; k++) {
                ins[k] = T[nd->in[k]];
                shp[k] = mp.shapes[nd->in[k]];
            }
            if (nd->op == ENH_OP_ELTWISE)
                enh_eltwise(nd->p.elt.op, nd->p.elt.coeffs, ins, nd->nin, n, *so, y, pool);
            else
                enh_concat(nd->p.concat.axis, ins, shp, nd->nin, n, *so, y, pool);
            break;
        }
        case ENH_OP_CROP: {
            int start[3], len[3];
            enh_crop_resolve(nd, si, start, len);
            enh_crop_ref(x, n, *si, start, *so, y);
            break;
        }
        case ENH_OP_POOL:
            enh_pool2d_ref(nd, x, n, *si, *so, y, pool);
            break;
        case ENH_OP_INNERPRODUCT:
            enh_fc_ref(nd, x, n, y);
            break;
        default:
            break;
        }
    }
    free(T);
    enh_conv_vcache_free(&vc);
    arena_give(cache, arena, mp.arena_floats);
    enh_memplan_free(&mp);
    return ENH_OK;
}
