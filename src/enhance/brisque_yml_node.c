/* brisque_yml_node.c - the YAML reader's nodes and error recording (brisque_yml_internal.h),
 * shared by the block parser (brisque_yml.c) and the flow parser (brisque_yml_flow.c), so that
 * neither file needs the other's helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enhance/brisque_yml_internal.h"

const char yml_empty_text[1] = "";

int yml_fail(parser *p, enh_status code, const char *what)
{
    if (p->st == ENH_OK)
        p->st = enh_fail(p->err, code, "%s, line %d: %s (not an OpenCV FileStorage YAML file the BRISQUE reader understands)",
                         p->name, p->line, what);
    return -1;
}

enh_yml_node *yml_new_node(parser *p, enh_yml_type t)
{
    if (++p->nodes > ENH_YML_MAX_NODES) {
        if (p->st == ENH_OK)
            p->st = enh_fail(p->err, ENH_ETOOBIG, "%s: more than %u values; refusing the file", p->name, ENH_YML_MAX_NODES);
        return NULL;
    }
    enh_yml_node *n = calloc(1, sizeof *n);
    if (!n) {
        yml_fail(p, ENH_ENOMEM, "out of memory");
        return NULL;
    }
    n->type = t;
    n->line = p->line;
    n->text = yml_empty_text;
    return n;
}

void yml_free_node(enh_yml_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n && n->kids; i++) {
        yml_free_node(n->kids[i]);
        if (n->keys)
            free((void *)n->keys[i]);
    }
    free(n->kids);
    free(n->keys);
    free((void *)n->tag);
    free(n);
}

/* Appends kid (and key, owned, for a mapping); frees both on failure. */
int yml_add_kid(parser *p, enh_yml_node *parent, char *key, enh_yml_node *kid)
{
    size_t cap = 1;
    while (cap < parent->n + 1)
        cap <<= 1;
    if (parent->n == 0 || (parent->n & (parent->n - 1)) == 0) { /* grow at powers of two */
        enh_yml_node **k = realloc(parent->kids, cap * sizeof *k);
        if (k)
            parent->kids = k;
        const char **ks = k && parent->type == ENH_YML_MAP ? realloc(parent->keys, cap * sizeof *ks) : NULL;
        if (ks)
            parent->keys = ks;
        if (!k || (parent->type == ENH_YML_MAP && !ks)) {
            free(key);
            yml_free_node(kid);
            return yml_fail(p, ENH_ENOMEM, "out of memory");
        }
    }
    if (parent->type == ENH_YML_MAP) {
        if (parent->n >= 1024) { /* the duplicate check below is quadratic */
            free(key);
            yml_free_node(kid);
            return yml_fail(p, ENH_ETOOBIG, "a mapping with more than 1024 keys");
        }
        for (size_t i = 0; i < parent->n; i++)
            if (!strcmp(parent->keys[i], key)) {
                free(key);
                yml_free_node(kid);
                return yml_fail(p, ENH_EINVAL, "a key appears twice in one mapping");
            }
        parent->keys[parent->n] = key;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

/* Scalar text [s, s+len): remembered as a pointer plus its length in n until finish(). */
enh_yml_node *yml_scalar(parser *p, size_t s, size_t len)
{
    enh_yml_node *n = yml_new_node(p, ENH_YML_SCALAR);
    if (n) {
        n->text = p->b + s;
        n->n = len;
    }
    return n;
}

char *yml_copy_key(parser *p, size_t s, size_t len)
{
    while (len && (p->b[s + len - 1] == ' ' || p->b[s + len - 1] == '\t'))
        len--;
    if (len == 0 || len > 256) {
        yml_fail(p, ENH_EINVAL, len ? "a key longer than 256 characters" : "an empty key");
        return NULL;
    }
    char *k = malloc(len + 1);
    if (!k) {
        yml_fail(p, ENH_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(k, p->b + s, len);
    k[len] = 0;
    return k;
}

int yml_enter(parser *p)
{
    if (++p->depth > ENH_YML_MAX_DEPTH) {
        if (p->st == ENH_OK)
            p->st = enh_fail(p->err, ENH_ETOOBIG, "%s, line %d: nested deeper than %d levels", p->name, p->line,
                             ENH_YML_MAX_DEPTH);
        return -1;
    }
    return 0;
}
