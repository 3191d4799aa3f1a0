/* brisque_yml_flow.c - the FileStorage YAML reader's flow collections: [ ] and { } lists that
 * may span lines, with quoted and plain scalars (brisque_yml.h; the block structure and the
 * document are brisque_yml.c, their shared parser state brisque_yml_internal.h). */
#include <stdlib.h>

#include "enhance/brisque_yml_internal.h"

/* Skips blanks and newlines inside a flow collection. */
static int flow_space(parser *p)
{
    for (;;) {
        int c = peek(p);
        if (c == ' ' || c == '\t' || c == '\r')
            p->pos++;
        else if (c == '\n') {
            p->pos++;
            p->line++;
        } else
            return c;
    }
}

static enh_yml_node *quoted(parser *p)
{
    int q = peek(p);
    size_t s = ++p->pos;
    while (peek(p) != q) {
        if (at_eol(p)) {
            yml_fail(p, ENH_EINVAL, "a quoted string does not end on its line");
            return NULL;
        }
        p->pos++;
    }
    enh_yml_node *n = yml_scalar(p, s, p->pos - s);
    p->pos++;
    return n;
}

/* Plain scalar inside a flow collection: up to , ] } (and : in a key) or the end of the line. */
static enh_yml_node *flow_plain(parser *p)
{
    size_t s = p->pos;
    while (!at_eol(p) && peek(p) != ',' && peek(p) != ']' && peek(p) != '}')
        p->pos++;
    size_t len = p->pos - s;
    while (len && (p->b[s + len - 1] == ' ' || p->b[s + len - 1] == '\t'))
        len--;
    if (len == 0) {
        yml_fail(p, ENH_EINVAL, "an empty value in a [ ] or { } list");
        return NULL;
    }
    return yml_scalar(p, s, len);
}

enh_yml_node *yml_parse_flow(parser *p)
{
    int c = flow_space(p);
    if (c == '"' || c == '\'')
        return quoted(p);
    if (c != '[' && c != '{')
        return flow_plain(p);
    if (yml_enter(p))
        return NULL;
    int close = c == '[' ? ']' : '}';
    enh_yml_node *n = yml_new_node(p, c == '[' ? ENH_YML_SEQ : ENH_YML_MAP);
    if (!n)
        return NULL;
    p->pos++;
    for (;;) {
        c = flow_space(p);
        if (c == close && n->n == 0) /* empty collection; a trailing comma is refused below */
            break;
        if (c < 0) {
            yml_fail(p, ENH_EINVAL, "the file ends inside a [ ] or { } list");
            goto bad;
        }
        char *key = NULL;
        if (close == '}') {
            size_t s = p->pos;
            while (!at_eol(p) && peek(p) != ':' && peek(p) != ',' && peek(p) != '}')
                p->pos++;
            if (peek(p) != ':') {
                yml_fail(p, ENH_EINVAL, "a { } entry without 'key:'");
                goto bad;
            }
            if (!(key = yml_copy_key(p, s, p->pos - s)))
                goto bad;
            p->pos++;
        }
        enh_yml_node *kid = yml_parse_flow(p);
        if (!kid) {
            free(key);
            goto bad;
        }
        if (yml_add_kid(p, n, key, kid))
            goto bad;
        c = flow_space(p);
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == close)
            break;
        yml_fail(p, ENH_EINVAL, c < 0 ? "the file ends inside a [ ] or { } list" : "expected ',' or the end of the list");
        goto bad;
    }
    p->pos++;
    p->depth--;
    return n;
bad:
    yml_free_node(n);
    return NULL;
}
