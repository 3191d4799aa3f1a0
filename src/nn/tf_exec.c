/* tf_exec.c - runs a specialised plan (tf_plan.h): one arena for every computed value, laid out
 * by the plan; each step reads its inputs there (or in the constants) and writes its value. */
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "nn/tf_kern.h"
#include "nn/tf_plan.h"

static void *value_data(const tf_plan *p, unsigned char *arena, const float *in, int v)
{
    if (p->is_const[v])
        return p->val[v].data;
    int r = p->root[v];
    if (p->g->nodes[r].op == TFOP_PLACEHOLDER)
        return (void *)in;
    return arena + p->offset[r];
}

/* Profiling clock: the calling thread's CPU time, so that per-step figures of a 1-thread run
 * stay meaningful on a busy machine (with more threads they miss the helpers' share). */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

enh_status tf_plan_run(tf_plan *p, const float *in, float *out, size_t out_count, enh_pool *pool,
                       double *prof, enh_error *err)
{
    if (tf_shape_count(&p->val[p->output].s) != out_count)
        return enh_fail(err, ENH_EINVAL, "output buffer of %zu floats for an output of %zu", out_count,
                        tf_shape_count(&p->val[p->output].s));
    unsigned char *arena = atomic_exchange(&p->spare, NULL);
    if (!arena)
        arena = enh_alloc(p->arena_bytes ? p->arena_bytes : 64);
    if (!arena)
        return enh_fail(err, ENH_ENOMEM, "out of memory for %zu MB of activations (try a smaller image or tile)",
                        p->arena_bytes >> 20);
    enh_status st = ENH_OK;
    tf_tensor ins[64];
    for (int si = 0; si < p->nsteps && st == ENH_OK; si++) {
        const tf_step *s = &p->steps[si];
        const tf_node *n = &p->g->nodes[s->node];
        tf_tensor o = p->val[s->node];
        o.data = value_data(p, arena, in, s->node);
        if (s->kind == TFS_VIEW || s->kind == TFS_DEAD)
            continue;
        double t0 = prof ? now_s() : 0;
        if (s->kind == TFS_REF) {
            for (int k = 0; k < n->nin; k++) {
                ins[k] = p->val[n->in[k]];
                ins[k].data = value_data(p, arena, in, n->in[k]);
            }
            st = tf_op_eval(n, ins, &o, err);
            if (prof) {
                double dt = now_s() - t0;
                prof[TFS_DEAD + 1 + n->op] += dt;
                prof[TF_PROF_SLOTS + si] += dt;
            }
            continue;
        }
        const void *sin[TF_STEP_MAXIN];
        for (int k = 0; k < s->nin; k++)
            sin[k] = value_data(p, arena, in, s->in[k]);
        const void *res = s->residual >= 0 ? value_data(p, arena, in, s->residual) : NULL;
        if (tf_kern_run(p, s, sin, res, o.data, pool) != ENH_OK)
            st = enh_fail(err, ENH_ENOMEM, "out of memory for the scratch of '%s' (%s); try a smaller image or tile",
                          n->name, tf_op_name(n->op));
        if (prof) {
            double dt = now_s() - t0;
            prof[s->kind] += dt;
            prof[TF_PROF_SLOTS + si] += dt;
        }
    }
    if (st == ENH_OK)
        memcpy(out, value_data(p, arena, in, p->output), out_count * 4);
    void *none = NULL;
    if (p->arena_bytes > TF_SPARE_MAX || !atomic_compare_exchange_strong(&p->spare, &none, (void *)arena))
        enh_free(arena);
    return st;
}
