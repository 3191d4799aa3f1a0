/* loadgen_plan.h - the request plan of serve_loadgen --plan, and the output-size check.
 *
 * A plan file lists request kinds, one a line (blank lines and '#' comments skipped):
 *   WEIGHT  IMAGE  CONTENT-TYPE  QUERY  STATUS  [WIDTH HEIGHT]
 * IMAGE is relative to the plan file's folder; QUERY "-" means none; WIDTH HEIGHT, when
 * given, are the answer's expected pixel size, read from the answer's own bytes (PNG, JPEG,
 * WebP headers), so a 200 with the wrong image counts as wrong.
 * Requests follow the kinds in a fixed weighted order (plan_pick), so two runs of the same
 * plan send the same mix.
 * Ownership: plan_load allocates the plan and the image bytes; plan_free releases them.
 * Thread-safety: a loaded plan is read-only; plan_pick and image_dims are pure.
 * Errors: plan_load prints what is wrong (file, line) to stderr and returns -1.
 */
#ifndef LOADGEN_PLAN_H
#define LOADGEN_PLAN_H

#include <stddef.h>

typedef struct plan_kind {
    char name[64];  /* "IMAGE QUERY" shortened, for the report */
    char query[512];
    char ctype[64];
    char *body;     /* the image file's bytes */
    size_t body_len;
    long expect;    /* HTTP status */
    int width, height; /* expected answer size; 0 = not checked */
    int weight;
} plan_kind;

typedef struct plan {
    plan_kind *kinds;
    int nkinds;
    int total_weight;
    int *order; /* total_weight kind indexes, smooth weighted round-robin */
} plan;

int plan_load(const char *path, plan *p);
void plan_free(plan *p);
/* The kind of request number n (0, 1, 2, ...): weighted round-robin over the kinds. */
const plan_kind *plan_pick(const plan *p, unsigned long n);
/* Pixel size of a PNG, JPEG or WebP image from its header: 0, or -1 when not recognised. */
int image_dims(const unsigned char *b, size_t n, int *w, int *h);

#endif
