/* brisque_yml_read.c - the FileStorage YAML reader's file loading and value look-ups
 * (brisque_yml.h); the parser is brisque_yml.c. */
#include "enhance/brisque_yml.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enh_status enh_yml_load(const char *path, enh_yml_doc **out, enh_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return enh_fail(err, errno == ENOENT ? ENH_ENOTFOUND : ENH_EIO, "cannot open %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    enh_status st = ENH_OK;
    for (;;) {
        if (n == cap) {
            if (cap > ENH_YML_MAX_BYTES) {
                st = enh_fail(err, ENH_ETOOBIG, "%s: more than the %u MB a model file may have", path,
                              ENH_YML_MAX_BYTES >> 20);
                break;
            }
            cap = cap ? cap * 2 : 1 << 16;
            char *nb = realloc(buf, cap);
            if (!nb) {
                st = enh_fail(err, ENH_ENOMEM, "out of memory reading %s", path);
                break;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                st = enh_fail(err, ENH_EIO, "cannot read %s", path);
            break;
        }
    }
    fclose(f);
    if (st == ENH_OK)
        st = enh_yml_parse(buf ? buf : "", n, path, out, err);
    free(buf);
    return st;
}

const enh_yml_node *enh_yml_get(const enh_yml_node *m, const char *key)
{
    if (!m || m->type != ENH_YML_MAP)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->keys[i], key))
            return m->kids[i];
    return NULL;
}

int enh_yml_number(const enh_yml_node *n, double *v)
{
    if (!n || n->type != ENH_YML_SCALAR)
        return -1;
    size_t len = strlen(n->text);
    if (len == 0 || len > 63)
        return -1;
    /* strtod follows LC_NUMERIC; FileStorage always writes '.', so accept only the C syntax */
    char tmp[64];
    memcpy(tmp, n->text, len + 1);
    for (size_t i = 0; i < len; i++) {
        char c = tmp[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return -1;
    }
    struct lconv *lc = localeconv();
    if (lc && lc->decimal_point && lc->decimal_point[0] && lc->decimal_point[0] != '.') {
        char *dot = strchr(tmp, '.');
        if (dot && !lc->decimal_point[1])
            *dot = lc->decimal_point[0];
    }
    char *end = NULL;
    errno = 0;
    double d = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(d) || errno == ERANGE)
        return -1;
    *v = d;
    return 0;
}
