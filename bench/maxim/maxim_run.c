/* maxim_run.c - runs a TF.js graph model (MAXIM) on a raw float32 NHWC image and writes the
 * raw float32 output, for comparison with the TF.js reference (bench/maxim/parity.sh).
 *
 *   maxim_run MODEL.json IN.f32 H W OUT.f32 [--threads N] [--runs R] [--pad 64]
 *
 * Prints load time, first-run (specialisation included) and best run seconds, arena and peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/mem.h"
#include "core/pool.h"
#include "nn/gemm.h"
#include "nn/tf_plan.h"
#include "nn/tfjs.h"
#include "nn/tfjs_load.h"

static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: maxim_run MODEL.json IN.f32 H W OUT.f32 [--threads N] [--runs R] [--pad 64] [--tile T --overlap O | --memory-limit MB] [--profile RUNS]\n");
        return 2;
    }
    int h = atoi(argv[3]), w = atoi(argv[4]), threads = 0, runs = 1, pad = 64, profile = 0, tile = 0, overlap = 64, limit_mb = 0;
    for (int i = 6; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pad"))
            pad = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--tile"))
            tile = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--overlap"))
            overlap = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--memory-limit"))
            limit_mb = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--profile"))
            profile = atoi(argv[i + 1]);
    }
    size_t n = (size_t)h * w * 3;
    float *in = malloc(n * 4), *out = malloc(n * 4);
    FILE *f = fopen(argv[2], "rb");
    if (!f || fread(in, 4, n, f) != n) {
        fprintf(stderr, "cannot read %zu floats from %s\n", n, argv[2]);
        return 1;
    }
    fclose(f);
    enh_pool *pool = enh_pool_create(threads);
    enh_error err;
    enh_tf_model *m = NULL;
    double t0 = now();
    if (profile) { /* h, w must be multiples of the padding here */
        tf_graph *g = NULL;
        tf_plan *p = NULL;
        if (enh_tfjs_load_graph(argv[1], &g, &err) != ENH_OK || tf_plan_build(g, h, w, 3, &p, &err) != ENH_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        static const char *kinds[] = {"ref", "view", "dense", "conv", "deconv", "ew", "layernorm", "axismix",
                                      "reduce", "concat", "dead"};
        printf("load+plan %.3f s, arena %.1f MB\n", now() - t0, p->arena_bytes / 1048576.0);
        if (getenv("MAXIM_DUMP_STEPS")) { /* bench only: the fused steps, to study patterns */
            int *prod = calloc((size_t)g->n, sizeof *prod);
            for (int i = 0; i < p->nsteps; i++)
                prod[p->steps[i].node] = i;
            for (int i = 0; i < p->nsteps; i++) {
                const tf_step *s = &p->steps[i];
                if (s->kind == TFS_DEAD || s->kind == TFS_VIEW)
                    continue;
                char b[64];
                const char *nm = g->nodes[s->node].name;
                printf("%5d %-8s %-18s", i, kinds[s->kind], tf_shape_str(&p->val[s->node].s, b, sizeof b));
                for (int k = 0; k < s->nin; k++)
                    printf(" %s%d", p->is_const[s->in[k]] ? "c" : "s", p->is_const[s->in[k]] ? s->in[k] : prod[s->in[k]]);
                printf("  %s\n", strlen(nm) > 70 ? nm + strlen(nm) - 70 : nm);
            }
            free(prod);
        }
        int cnt[TF_PROF_SLOTS] = {0};
        for (int i = 0; i < p->nsteps; i++)
            cnt[p->steps[i].kind == TFS_REF ? TFS_DEAD + 1 + g->nodes[p->steps[i].node].op : p->steps[i].kind]++;
        int acts[8] = {0}, resid = 0;
        for (int i = 0; i < p->nsteps; i++)
            if (p->steps[i].kind == TFS_DENSE || p->steps[i].kind == TFS_CONV) {
                acts[p->steps[i].act & 7]++;
                resid += p->steps[i].residual >= 0;
            }
        printf("gemm epilogues: none %d relu %d gelu %d sigmoid %d leaky %d; residual %d\n", acts[0], acts[1],
               acts[2], acts[3], acts[4], resid);
        double *prof = calloc(TF_PROF_SLOTS + (size_t)p->nsteps, sizeof *prof);
        for (int r = 0; r < profile; r++) {
            memset(prof, 0, (TF_PROF_SLOTS + (size_t)p->nsteps) * sizeof *prof);
            t0 = now();
            if (tf_plan_run(p, in, out, n, pool, prof, &err) != ENH_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            printf("run %.3f s\n", now() - t0);
            static const char *kinds[] = {"ref", "view", "dense", "conv", "deconv", "ew", "layernorm", "axismix",
                                          "reduce", "concat", "dead"};
            for (int k = 0; k < TF_PROF_SLOTS; k++)
                if (cnt[k] && r == profile - 1)
                    printf("  %-22s %5d steps %8.1f ms\n", k <= TFS_DEAD ? kinds[k] : tf_op_name((tf_opk)(k - TFS_DEAD - 1)),
                           cnt[k], prof[k] * 1e3);
        }
        { /* GEMM work: 2*M*K*N per Dense / conv / transposed conv step */
            double gf[3] = {0}, gt[3] = {0};
            for (int i = 0; i < p->nsteps; i++) {
                const tf_step *s = &p->steps[i];
                int k = s->kind == TFS_DENSE ? 0 : s->kind == TFS_CONV ? 1 : s->kind == TFS_DECONV ? 2 : -1;
                if (k < 0)
                    continue;
                double M = (double)tf_shape_count(&p->val[s->in[0]].s) / enh_gemm_b_k(s->gemm);
                if (s->kind == TFS_CONV)
                    M = (double)tf_shape_count(&p->val[s->node].s) / s->cout;
                gf[k] += 2.0 * M * enh_gemm_b_k(s->gemm) * enh_gemm_b_n(s->gemm) / 1e9;
                gt[k] += prof[TF_PROF_SLOTS + i];
            }
            printf("gemm work: dense %.1f GFLOP in %.3f s (%.1f GFLOP/s), conv %.1f GFLOP in %.3f s (%.1f GFLOP/s), "
                   "transposed conv %.1f GFLOP in %.3f s; %.2f M MAC per input pixel\n", gf[0], gt[0], gf[0] / gt[0],
                   gf[1], gt[1], gf[1] / gt[1], gf[2], gt[2], (gf[0] + gf[1] + gf[2]) * 1e9 / 2 / ((double)h * w) / 1e6);
        }
        {
            double tc = 0, tp = 0, ts = 0;
            int nc = 0, np = 0, nsm = 0;
            for (int i = 0; i < p->nsteps; i++)
                if (p->steps[i].kind == TFS_EW) {
                    int copy = p->steps[i].nin == 1 && g->nodes[p->steps[i].node].op != TFOP_ADD &&
                               (g->nodes[p->steps[i].node].op == TFOP_TRANSPOSE ||
                                g->nodes[p->steps[i].node].op == TFOP_STRIDEDSLICE ||
                                g->nodes[p->steps[i].node].op == TFOP_BROADCASTTO);
                    int small = p->val[p->steps[i].node].s.d[p->val[p->steps[i].node].s.rank - 1] == 1;
                    if (copy)
                        tc += prof[TF_PROF_SLOTS + i], nc++;
                    else if (small)
                        ts += prof[TF_PROF_SLOTS + i], nsm++;
                    else
                        tp += prof[TF_PROF_SLOTS + i], np++;
                }
            printf("ew: copies %d %.1f ms, [..,1]-shaped %d %.1f ms, other programs %d %.1f ms\n", nc, tc * 1e3, nsm,
                   ts * 1e3, np, tp * 1e3);
        }
        for (int t = 0; t < 2000; t++) { /* the slowest steps */
            int best = -1;
            for (int i = 0; i < p->nsteps; i++)
                if (prof[TF_PROF_SLOTS + i] > 0 && (best < 0 || prof[TF_PROF_SLOTS + i] > prof[TF_PROF_SLOTS + best]))
                    best = i;
            if (best < 0)
                break;
            const tf_step *s = &p->steps[best];
            char a[64], b[64];
            int in0 = s->nin ? s->in[0] : g->nodes[s->node].in[0];
            printf("  %7.2f ms  %-8s %s -> %s %s%s %.90s\n", prof[TF_PROF_SLOTS + best] * 1e3,
                   s->kind <= TFS_DEAD ? kinds[s->kind] : "?", tf_shape_str(&p->val[in0].s, a, sizeof a),
                   tf_shape_str(&p->val[s->node].s, b, sizeof b), s->kind == TFS_REF ? tf_op_name(g->nodes[s->node].op) : "",
                   s->kind == TFS_EW ? (s->nin == 1 ? " (copy/1-leaf)" : "") : "",
                   g->nodes[s->node].name + (strlen(g->nodes[s->node].name) > 90 ? strlen(g->nodes[s->node].name) - 90 : 0));
            prof[TF_PROF_SLOTS + best] = 0;
        }
        free(prof);
        tf_plan_free(p);
        tf_graph_free(g);
        return 0;
    }
    if (enh_tf_model_load(argv[1], &m, &err) != ENH_OK) {
        fprintf(stderr, "load: %s\n", err.msg);
        return 1;
    }
    double tl = now() - t0, best = 1e30, first = 0, best_cpu = 0;
    for (int r = 0; r < runs; r++) {
        t0 = now();
        double c0 = cpu_now();
        enh_status st = tile       ? enh_tf_model_run_tiled(m, in, h, w, pad, tile, overlap, out, pool, &err)
                        : limit_mb ? enh_tf_model_run_fit(m, in, h, w, pad, (size_t)limit_mb << 20, out, pool, &err)
                                   : enh_tf_model_run(m, in, h, w, pad, out, pool, &err);
        if (st != ENH_OK) {
            fprintf(stderr, "run: %s\n", err.msg);
            return 1;
        }
        double t = now() - t0, tc = cpu_now() - c0;
        if (r == 0)
            first = t;
        if (t < best)
            best = t, best_cpu = tc;
    }
    int ph = (h + pad - 1) / pad * pad, pw = (w + pad - 1) / pad * pad;
    printf("{\"load_s\": %.3f, \"first_s\": %.3f, \"best_s\": %.3f, \"best_cpu_s\": %.3f, \"threads\": %d, "
           "\"arena_mb\": %.1f, \"peak_rss_mb\": %.1f}\n", tl, first, best, best_cpu, enh_pool_threads(pool),
           enh_tf_model_peak_bytes(m, ph, pw) / 1048576.0, enh_peak_rss_bytes() / 1048576.0);
    f = fopen(argv[5], "wb");
    if (!f || fwrite(out, 4, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", argv[5]);
        return 1;
    }
    fclose(f);
    enh_tf_model_free(m);
    enh_pool_destroy(pool);
    free(in), free(out);
    return 0;
}
