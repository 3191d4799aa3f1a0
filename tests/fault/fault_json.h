/* fault_json.h - what test_fault_json.c (the sweep) and its cases share: the digest of a result
 * and the case table. A case's run is armed (its allocations are counted and failed) and fills
 * the case's own static result; its digest, disarmed, describes that result as bytes and frees
 * it; prepare, disarmed, runs before each run. Test code: not thread-safe. */
#ifndef ENH_TESTS_FAULT_JSON_H
#define ENH_TESTS_FAULT_JSON_H

#include <stddef.h>

#include "core/error.h"

typedef struct blob {
    char *p;
    size_t n, cap;
} blob;

void put(blob *b, const void *p, size_t n);
void putf(blob *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void put_text(blob *b, char *s); /* takes s (NULL: "(null)") */

typedef struct parser {
    const char *name;
    enh_status (*run)(enh_error *err);
    void (*digest)(enh_status st, blob *b);
    void (*prepare)(void); /* may be NULL */
} parser;

/* fault_json_models.c: operations, manifest, TF.js model.json, .min.js container, BRISQUE YAML.
 * setup writes their files in dir; 0 on success. */
extern const parser fj_model_cases[];
extern const int fj_model_ncases;
int fj_models_setup(const char *dir);

/* fault_json_checks.c: policy, check JSON, server details and config, batch report, report line
 * and batch state. with_assessment: the check's result has an assessment to re-read. */
extern const parser fj_check_cases[];
extern const int fj_check_ncases;
int fj_checks_setup(const char *dir, int with_assessment);
void fj_checks_teardown(void);

#endif
