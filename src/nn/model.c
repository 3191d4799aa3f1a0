/* model.c - the model object and the graph executor (nn.h, model.h).
 * Every convolution runs through a conv plan created at load (enh_conv_plan_create_ex, in the
 * model's precision: fp32 unless bf16 is asked, see precision.h), with
 * its activation and residual add fused into the plan's parameters where the plan
 * supports them; other ops run the reference kernels of ops_ref.h. A conv followed by a
 * PixelShuffle and a residual add (the SR tail, ps_tail.h) or by a weighted sum (elt_tail.h)
 * runs them in its epilogue in fused models. Activations live in one arena per call, laid out by the memory planner. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/memplan.h"
#include "nn/model.h"
#include "nn/ncnn.h"
#include "nn/ops_par.h"
#include "nn/ops_ref.h"
#include "nn/elt_tail.h"
#include "nn/ps_tail.h"

/* Activation arenas kept between runs: a fresh arena of tens of MiB is page-faulted in by
 * every run otherwise, and page faults serialise the threads on the process's address
 * space (x4fast 256x256 on 2 threads: 354 -> 228 ms). At most ARENA_KEEP arenas of at most
 * ARENA_KEEP_BYTES in all are kept per model; larger ones are freed after their run. */
#define ARENA_KEEP 4
#define ARENA_KEEP_BYTES ((size_t)512 << 20)

struct enh_model {
    enh_graph *g;
    enh_conv_plan **plans; /* per node, NULL for non-conv */
    enh_ps_tail *tails;    /* per node (fused models only, else NULL): tail.add >= 0 = fused tail */
    int *next_conv;        /* per node: the next conv node (its weights are prefetched), or -1 */
    int *elt_tail;         /* per node (fused models only): the Eltwise run in its epilogue, or -1 */
    int *early;            /* per node (fused models only): the node whose output its epilogue
                              writes, for the memory planner (enh_memplan_build_ex), or -1 */
    int *vkey;             /* per conv node: the channel-concat chain its input is a prefix of
                              (the chain's longest tensor), whose Winograd input transforms the
                              convs share (enh_conv_vcache), or -1; NULL = none */
    enh_model_info info;
    pthread_mutex_t arena_mu;
    struct { float *p; size_t n; } arenas[ARENA_KEEP]; /* idle arenas (floats) */
    int narenas;
};

/* The smallest idle arena that holds n floats, or a new one (NULL: out of memory). */
static float *arena_take(enh_model *m, size_t n)
{
    float *p = NULL, *drop = NULL;
    pthread_mutex_lock(&m->arena_mu);
    int best = -1;
    for (int i = 0; i < m->narenas; i++)
        if (m->arenas[i].n >= n && (best < 0 || m->arenas[i].n < m->arenas[best].n))
            best = i;
    if (best >= 0) {
        p = m->arenas[best].p;
        m->arenas[best] = m->arenas[--m->narenas];
    } else if (m->narenas == ARENA_KEEP) { /* all too small: make room for the larger one */
        drop = m->arenas[0].p;
        m->arenas[0] = m->arenas[--m->narenas];
    }
    pthread_mutex_unlock(&m->arena_mu);
    enh_free(drop);
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

static int plan_supports(enh_nact k)
{
    return k == ENH_NACT_NONE || k == ENH_NACT_RELU || k == ENH_NACT_LEAKY || k == ENH_NACT_PRELU;
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
    enh_precision prec;
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
        j->st[k] = enh_conv_plan_create_ex(&p, j->prec, &j->m->plans[j->idx[k]], NULL);
        if (j->st[k] == ENH_OK) { /* the plan holds its own copy: drop the raw weights now (peak RSS) */
            enh_free(n->p.conv.weight);
            n->p.conv.weight = NULL;
        }
    }
}

/* The conv -> PixelShuffle -> add tails the executor runs in the conv's epilogue. */
static enh_status find_tails(enh_model *m, enh_error *err)
{
    const enh_graph *g = m->g;
    int *readers = calloc((size_t)g->ntensors + 1, sizeof *readers);
    m->tails = calloc((size_t)g->nnodes, sizeof *m->tails);
    m->elt_tail = malloc((size_t)g->nnodes * sizeof *m->elt_tail);
    m->early = malloc((size_t)g->nnodes * sizeof *m->early);
    if (!readers || !m->tails || !m->elt_tail || !m->early) {
        free(readers);
        return enh_fail(err, ENH_ENOMEM, "out of memory building the model");
    }
    for (int i = 0; i < g->nnodes; i++)
        for (int k = 0; k < g->nodes[i].nin; k++)
            readers[g->nodes[i].in[k]]++;
    readers[g->output]++;
    for (int i = 0; i < g->nnodes; i++) {
        enh_ps_tail_find(g, i, readers, &m->tails[i]);
        m->elt_tail[i] = m->tails[i].add >= 0 ? -1 : enh_elt_tail_find(g, i, readers);
        m->early[i] = m->tails[i].add >= 0 ? m->tails[i].add : m->elt_tail[i];
        m->info.ps_tails += m->tails[i].add >= 0;
        m->info.elt_tails += m->elt_tail[i] >= 0;
    }
    free(readers);
    return ENH_OK;
}

/* The dense-block chains (memplan_concat.c finds them for the in-place concats): a conv whose
 * input is a prefix of a chain's longest tensor shares that chain's transformed inputs.
 * ENHANCE_NO_VCACHE=1 turns this off (to measure it). */
static enh_status find_vkeys(enh_model *m, enh_error *err)
{
    const enh_graph *g = m->g;
    const char *off = getenv("ENHANCE_NO_VCACHE");
    if (off && *off && strcmp(off, "0") != 0)
        return ENH_OK;
    int nt = g->ntensors;
    enh_shape *sh = calloc((size_t)nt, sizeof *sh);
    int *root = malloc((size_t)nt * sizeof *root);
    size_t *choff = calloc((size_t)nt, sizeof *choff);
    unsigned char *skip = calloc((size_t)g->nnodes + 1, 1), *isroot = calloc((size_t)nt, 1);
    m->vkey = malloc((size_t)g->nnodes * sizeof *m->vkey);
    enh_status st = ENH_OK;
    if (!sh || !root || !choff || !skip || !isroot || !m->vkey) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory building the model");
        goto done;
    }
    for (int t = 0; t < nt; t++)
        root[t] = -1;
    for (int i = 0; i < g->nnodes; i++)
        m->vkey[i] = -1;
    if ((enh_graph_infer_shapes(g, g->in_channels, 64, 64, sh, NULL) != ENH_OK &&
         enh_graph_infer_shapes(g, g->in_channels, 256, 256, sh, NULL) != ENH_OK) ||
        enh_memplan_concat_views(g, sh, root, choff, skip) != 0)
        goto done; /* no chains: every conv transforms its own input */
    for (int t = 0; t < nt; t++)
        if (root[t] >= 0)
            isroot[root[t]] = 1;
    for (int i = 0; i < g->nnodes; i++) {
        if (!m->plans[i])
            continue;
        int in = g->nodes[i].in[0];
        m->vkey[i] = root[in] >= 0 && choff[in] == 0 ? root[in] : isroot[in] ? in : -1;
    }
done:
    free(sh);
    free(root);
    free(choff);
    free(skip);
    free(isroot);
    return st;
}

static enh_status build(enh_graph *g, int fuse, enh_precision prec, enh_model **out, enh_error *err)
{
    *out = NULL;
    enh_status st = enh_precision_resolve(prec, &prec, err); /* once, not per layer */
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
    st = enh_graph_infer_shapes(g, g->in_channels, 64, 64, probe, err);
    if (st != ENH_OK && enh_graph_infer_shapes(g, g->in_channels, 256, 256, probe, NULL) == ENH_OK)
        st = ENH_OK; /* models that need large inputs */
    free(probe);
    if (st != ENH_OK) {
        enh_graph_free(g);
        return st;
    }
    enh_model *m = calloc(1, sizeof *m);
    if (!m || !(m->plans = calloc((size_t)g->nnodes, sizeof *m->plans))) {
        free(m);
        enh_graph_free(g);
        return enh_fail(err, ENH_ENOMEM, "out of memory building the model");
    }
    m->g = g;
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
    int oc, oh1, ow1, oh2, ow2;
    if (enh_model_output_size(m, 64, 48, &oc, &oh1, &ow1) == 0 && enh_model_output_size(m, 40, 56, &oc, &oh2, &ow2) == 0 &&
        oh1 % 64 == 0 && ow1 % 48 == 0 && oh1 / 64 == ow1 / 48 && oh2 == 40 * (oh1 / 64) && ow2 == 56 * (oh1 / 64)) {
        in->scale = oh1 / 64;
        in->out_channels = oc;
    } else {
        in->scale = 0; /* not a same-grid image-to-image model: enh_model_run refuses it */
        in->out_channels = oc;
    }
    /* conv plans (weight transforms and packing: most of a load) are made on the pool */
    plan_job pj = {m, prec, malloc((size_t)g->nnodes * sizeof(int)), NULL, 0};
    pj.st = pj.idx ? malloc((size_t)g->nnodes * sizeof *pj.st) : NULL;
    if (!pj.st) {
        free(pj.idx);
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
            if ((st = enh_conv_plan_create_ex(&p, prec, &m->plans[pj.idx[k]], err)) != ENH_OK) {
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
        st = find_tails(m, err);
    if (st == ENH_OK && fuse)
        st = find_vkeys(m, err);
    if (st != ENH_OK) {
        enh_model_free(m);
        return st;
    }
    *out = m;
    return ENH_OK;
}

enh_status enh_model_from_graph(enh_graph *g, enh_model **out, enh_error *err)
{
    return build(g, 1, ENH_PRECISION_DEFAULT, out, err);
}

enh_status enh_model_from_graph_unfused(enh_graph *g, enh_model **out, enh_error *err)
{
    return build(g, 0, ENH_PRECISION_DEFAULT, out, err);
}

enh_status enh_model_load_ncnn(const char *param_path, const char *bin_path, enh_model **out,
                               enh_error *err)
{
    return enh_model_load_ncnn_ex(param_path, bin_path, ENH_PRECISION_DEFAULT, out, err);
}

enh_status enh_model_load_ncnn_ex(const char *param_path, const char *bin_path, enh_precision precision,
                                  enh_model **out, enh_error *err)
{
    enh_graph *g;
    *out = NULL;
    enh_status st = enh_ncnn_load_files(param_path, bin_path, &g, err);
    if (st != ENH_OK)
        return st;
    return build(g, 1, precision, out, err);
}

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
    int rc = -1;
    if (s && enh_graph_infer_shapes(m->g, m->g->in_channels, h, w, s, NULL) == ENH_OK) {
        *oc = s[m->g->output].c;
        *oh = s[m->g->output].h;
        *ow = s[m->g->output].w;
        rc = 0;
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

static int disjoint(const float *a, size_t na, const float *b, size_t nb)
{
    return a + na <= b || b + nb <= a;
}

/* Whether node i's tail can be fused in this run (shapes, buffers that do not overlap), and its
 * arguments. */
static int tail_setup(const enh_model *m, int i, const enh_memplan *mp, float *const *T, int n,
                      enh_ps_tail_run *tr)
{
    const enh_ps_tail *t = &m->tails[i];
    if (t->add < 0)
        return 0;
    const enh_node *c = &m->g->nodes[i], *ps = &m->g->nodes[t->ps], *add = &m->g->nodes[t->add];
    const enh_shape cs = mp->shapes[c->out], os = mp->shapes[ps->out], ss = mp->shapes[t->src];
    const int r = ps->p.ps.r;
    if (r < 1 || r > 8 || cs.c != os.c * r * r || os.h != cs.h * r || os.w != cs.w * r ||
        mp->shapes[add->out].c != os.c || mp->shapes[add->out].h != os.h || mp->shapes[add->out].w != os.w)
        return 0;
    int low = t->interp >= 0;
    if (low ? !enh_interp_is_nearest_by(&m->g->nodes[t->interp], ss, mp->shapes[m->g->nodes[t->interp].out], r)
            : (ss.c != os.c || ss.h != os.h || ss.w != os.w))
        return 0;
    *tr = (enh_ps_tail_run){.raw = T[c->out], .src = T[t->src], .out = T[add->out], .oc = os.c, .h = cs.h,
                            .w = cs.w, .r = r, .dcr = ps->p.ps.dcr, .src_low = low};
    /* the add's output is placed for the add's turn: it must not share memory with what the
     * fused epilogue still reads (the memory planner may give it the conv output's place) */
    size_t no = (size_t)n * os.c * os.h * os.w, nr = (size_t)n * cs.c * cs.h * cs.w,
           ns = (size_t)n * ss.c * ss.h * ss.w;
    return tr->raw && tr->src && tr->out && disjoint(tr->out, no, tr->raw, nr) && disjoint(tr->out, no, tr->src, ns);
}

/* Whether node i's Eltwise can be fused in this run (equal shapes, an output that shares no
 * memory with what the conv or the sum reads), and its arguments. */
static int elt_setup(const enh_model *m, int i, const enh_memplan *mp, float *const *T, int n, enh_elt_tail_run *er)
{
    if (m->elt_tail[i] < 0)
        return 0;
    const enh_node *c = &m->g->nodes[i], *e = &m->g->nodes[m->elt_tail[i]];
    const enh_shape os = mp->shapes[e->out];
    const size_t no = (size_t)n * os.c * os.h * os.w;
    er->out = T[e->out];
    er->count = e->nin;
    er->c = os.c, er->h = os.h, er->w = os.w;
    if (!er->out)
        return 0;
    for (int k = 0; k < e->nin; k++) {
        const enh_shape is = mp->shapes[e->in[k]];
        er->ins[k] = T[e->in[k]];
        er->coeffs[k] = e->p.elt.coeffs ? e->p.elt.coeffs[k] : 1.f;
        if (!er->ins[k] || is.c != os.c || is.h != os.h || is.w != os.w || !disjoint(er->out, no, er->ins[k], no))
            return 0;
    }
    for (int k = 0; k < c->nin; k++) { /* the conv's input and residual */
        const enh_shape is = mp->shapes[c->in[k]];
        if (!T[c->in[k]] || !disjoint(er->out, no, T[c->in[k]], (size_t)n * is.c * is.h * is.w))
            return 0;
    }
    return 1;
}

enh_status enh_model_run(const enh_model *m, const float *in, int n, int h, int w, float *out,
                         enh_pool *pool, enh_error *err)
{
    const enh_graph *g = m->g;
    if (n <= 0 || h <= 0 || w <= 0)
        return enh_fail(err, ENH_EINVAL, "invalid input shape %d x %d x %d", n, h, w);
    if (m->info.scale <= 0)
        return enh_fail(err, ENH_EUNSUPPORTED, "this model's output is not a fixed multiple of its input size");
    if (!pool)
        pool = enh_pool_default();
    enh_memplan mp;
    enh_status st = enh_memplan_build_ex(g, n, g->in_channels, h, w, m->early, &mp, err);
    if (st != ENH_OK)
        return st;
    const enh_shape *os = &mp.shapes[g->output];
    if (os->c != m->info.out_channels || os->h != h * m->info.scale || os->w != w * m->info.scale) {
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
            enh_ps_tail_run tr;
            if (m->tails && tail_setup(m, i, &mp, T, n, &tr)) {
                const enh_ps_tail *t = &m->tails[i];
                enh_conv_plan_run_ex(m->plans[i], x, n, si->h, si->w, y, res, pool, enh_ps_tail_box, &tr, next, vcp,
                                     cmax);
                mp.skip[t->ps] = mp.skip[t->add] = 1;
                if (t->interp >= 0)
                    mp.skip[t->interp] = 1;
                break;
            }
            enh_elt_tail_run er;
            if (m->elt_tail && elt_setup(m, i, &mp, T, n, &er)) {
                enh_conv_plan_run_ex(m->plans[i], x, n, si->h, si->w, y, res, pool, enh_elt_tail_box, &er, next, vcp,
                                     cmax);
                mp.skip[m->elt_tail[i]] = 1;
                break;
            }
            enh_conv_plan_run_ex(m->plans[i], x, n, si->h, si->w, y, plan_supports(nd->act.kind) ? res : NULL, pool,
                                 NULL, NULL, next, vcp, cmax);
            if (!plan_supports(nd->act.kind)) { /* clip / sigmoid: fusion never adds a residual here */
                enh_act_ref(&nd->act, y, n, so->c, plane, pool);
            }
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
            const float *ins[1024];
            enh_shape shp[1024];
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
