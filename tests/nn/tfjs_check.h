/* tfjs_check.h - the harness of the TF.js op tests: run_case writes a synthetic model
 * (tfjs_synth.h) to a fresh folder under g_dir, loads it with the real loader, runs it as
 * reference steps (fuse 0) and fused, and checks the output's shape and values; the fused
 * plan's step kinds are left in g_kinds for checks that fusion happened. Header-only, one
 * test program at a time (static state). */
#ifndef ENH_TESTS_TFJS_CHECK_H
#define ENH_TESTS_TFJS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check.h"
#include "nn/tf_plan.h"
#include "nn/tfjs_load.h"
#include "tfjs_synth.h"

static char g_dir[64];
static int g_case;

/* step kinds of the last fused plan */
static int g_kinds[TFS_DEAD + 1];
static int g_ref_ops[TFOP_COUNT];

/* Writes m with output `out`, loads it and runs it on in (1 x h x w x c) unfused and fused;
 * both must give oshape and expect (|d| <= tol * (1 + |expect|)). */
static void run_case(const char *label, tfs_model *m, const char *out, int h, int w, int c, const float *in, int orank,
                     const int *oshape, const float *expect, float tol)
{
    char sub[128], path[4096];
    snprintf(sub, sizeof sub, "%s/c%d", g_dir, g_case++);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(tfs_write(m, sub, out, path, sizeof path) == 0);
    tfs_free(m);
    tf_graph *g = NULL;
    enh_error err = {0};
    enh_status st = enh_tfjs_load_graph(path, &g, &err);
    CHECK_MSG(st == ENH_OK, "%s: load: %s", label, err.msg);
    if (st != ENH_OK)
        return;
    size_t n = tfs_count(orank, oshape);
    float *got = malloc((n ? n : 1) * sizeof *got);
    for (int fuse = 0; fuse < 2; fuse++) {
        tf_plan *p = NULL;
        st = tf_plan_build_ex(g, h, w, c, fuse, &p, &err);
        CHECK_MSG(st == ENH_OK, "%s (fuse %d): plan: %s", label, fuse, err.msg);
        if (st != ENH_OK)
            continue;
        const tf_shape *os = &p->val[p->output].s;
        int same = os->rank == orank;
        for (int i = 0; same && i < orank; i++)
            same = os->d[i] == oshape[i];
        char b1[128];
        CHECK_MSG(same, "%s (fuse %d): output shape %s", label, fuse, tf_shape_str(os, b1, sizeof b1));
        if (fuse) {
            memset(g_kinds, 0, sizeof g_kinds);
            memset(g_ref_ops, 0, sizeof g_ref_ops);
            for (int s = 0; s < p->nsteps; s++) {
                g_kinds[p->steps[s].kind]++;
                if (p->steps[s].kind == TFS_REF)
                    g_ref_ops[g->nodes[p->steps[s].node].op]++;
            }
        } else
            for (int s = 0; s < p->nsteps; s++)
                CHECK_MSG(p->steps[s].kind == TFS_REF || p->steps[s].kind == TFS_VIEW, "%s: unfused plan has a "
                          "fused step", label);
        if (same) {
            st = tf_plan_run(p, in, got, n, NULL, NULL, &err);
            CHECK_MSG(st == ENH_OK, "%s (fuse %d): run: %s", label, fuse, err.msg);
            for (size_t i = 0; st == ENH_OK && i < n; i++) {
                int ok = isinf(expect[i]) ? got[i] == expect[i]
                                          : fabsf(got[i] - expect[i]) <= tol * (1.0f + fabsf(expect[i]));
                CHECK_MSG(ok, "%s (fuse %d): [%zu] = %.9g, expected %.9g", label, fuse, i, got[i], expect[i]);
                if (!ok)
                    break;
            }
        }
        tf_plan_free(p);
    }
    free(got);
    tf_graph_free(g);
}

static float *iota(int n, float start)
{
    static float buf[4][256];
    static int k;
    float *b = buf[k++ & 3];
    for (int i = 0; i < n && i < 256; i++)
        b[i] = start + (float)i;
    return b;
}

#define OSHAPE(...) TFS_DIMS(__VA_ARGS__)

/* makes g_dir (a temp folder) */
static int tfjs_check_begin(const char *name)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/enh-%s-XXXXXX", name);
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

static void tfjs_check_end(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    CHECK(system(cmd) == 0);
}

#endif
