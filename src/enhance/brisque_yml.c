/* brisque_yml.c - the FileStorage YAML subset (see brisque_yml.h).
 *
 * One pass over a private copy of the file. Scalars point into that copy: their ends are
 * recorded while parsing and NUL-terminated when the parse has finished (a terminator is a
 * ',', ']', quote, blank or newline that the parser no longer needs). Hostile input is met with
 * limits checked before anything is allocated from it: file size, nesting depth, node count,
 * key and number lengths; every error names the file and line. */
#include "enhance/brisque_yml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enhance/brisque_yml_internal.h"

struct enh_yml_doc {
    char *buf;
    size_t size;
    char name[256];
    enh_yml_node *root;
};

static void skip_spaces(parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        p->pos++;
}

/* Past the end of the current line (and its newline). */
static void next_line(parser *p)
{
    while (!at_eol(p))
        p->pos++;
    if (peek(p) == '\r')
        p->pos++;
    if (peek(p) == '\n') {
        p->pos++;
        p->line++;
    }
}

static int rest_is_blank(parser *p)
{
    skip_spaces(p);
    return at_eol(p) || peek(p) == '#';
}

/* Moves to the first character of the next line with content; returns its indentation or -1 at
 * the end. Comment lines, blank lines, directives and document markers are skipped. */
static int next_content(parser *p)
{
    for (;;) {
        if (p->pos >= p->n)
            return -1;
        size_t start = p->pos;
        skip_spaces(p);
        int c = peek(p);
        if (c < 0)
            return -1;
        size_t col = p->pos - start;
        if (c == '\n' || c == '\r' || c == '#' || (col == 0 && c == '%') ||
            (col == 0 && c == '-' && peek_at(p, 1) == '-' && peek_at(p, 2) == '-') ||
            (col == 0 && c == '.' && peek_at(p, 1) == '.' && peek_at(p, 2) == '.')) {
            next_line(p);
            continue;
        }
        p->pos = start;
        return col > 4096 ? 4096 : (int)col;
    }
}

static enh_yml_node *parse_block(parser *p, int min_indent);

/* A value after "key:" or "- " on the same line: tag, then flow, quoted or plain scalar; a tag
 * alone continues with a block on the next lines. */
static enh_yml_node *parse_inline(parser *p, int indent)
{
    char *tag = NULL;
    if (peek(p) == '!') {
        size_t s = p->pos;
        while (!at_eol(p) && peek(p) != ' ' && peek(p) != '\t')
            p->pos++;
        if (p->pos - s > 64) {
            yml_fail(p, ENH_EINVAL, "a tag longer than 64 characters");
            return NULL;
        }
        tag = malloc(p->pos - s + 1);
        if (!tag) {
            yml_fail(p, ENH_ENOMEM, "out of memory");
            return NULL;
        }
        memcpy(tag, p->b + s, p->pos - s);
        tag[p->pos - s] = 0;
        skip_spaces(p);
    }
    enh_yml_node *n;
    int c = peek(p);
    if (at_eol(p) || c == '#') {
        n = parse_block(p, indent + 1);
    } else if (c == '[' || c == '{' || c == '"' || c == '\'') {
        n = yml_parse_flow(p);
        if (n && !rest_is_blank(p)) {
            yml_free_node(n);
            n = NULL;
            yml_fail(p, ENH_EINVAL, "text after the end of a value");
        }
    } else {
        size_t s = p->pos;
        while (!at_eol(p) && !(peek(p) == '#' && (p->b[p->pos - 1] == ' ' || p->b[p->pos - 1] == '\t')))
            p->pos++;
        size_t len = p->pos - s;
        while (len && (p->b[s + len - 1] == ' ' || p->b[s + len - 1] == '\t'))
            len--;
        n = yml_scalar(p, s, len);
    }
    if (n && tag) {
        if (n->tag)
            free((void *)n->tag);
        n->tag = tag;
    } else
        free(tag);
    return n;
}

/* Is the text at pos a "key:" (colon followed by a blank or the end of the line)? */
static int key_here(const parser *p, size_t *colon)
{
    size_t i = p->pos;
    if (i < p->n && (p->b[i] == '[' || p->b[i] == '{' || p->b[i] == '"' || p->b[i] == '\'' || p->b[i] == '!' ||
                     p->b[i] == '-'))
        return 0;
    for (; i < p->n && p->b[i] != '\n' && p->b[i] != '\r'; i++)
        if (p->b[i] == ':' && (i + 1 >= p->n || p->b[i + 1] == ' ' || p->b[i + 1] == '\t' || p->b[i + 1] == '\n' ||
                               p->b[i + 1] == '\r')) {
            *colon = i;
            return 1;
        }
    return 0;
}

/* A block mapping whose keys sit at column col; the first key may start mid-line ("- key: v"). */
static enh_yml_node *parse_map(parser *p, int col)
{
    if (yml_enter(p))
        return NULL;
    enh_yml_node *m = yml_new_node(p, ENH_YML_MAP);
    if (!m)
        return NULL;
    int first = 1;
    for (;;) {
        if (!first) {
            int ind = next_content(p);
            if (ind < col)
                break;
            if (ind > col) {
                yml_fail(p, ENH_EINVAL, "unexpected indentation");
                goto bad;
            }
            p->pos += (size_t)ind;
        }
        first = 0;
        size_t colon;
        if (!key_here(p, &colon)) {
            if (peek(p) == '-')
                break; /* a sequence at the mapping's column ends the mapping */
            yml_fail(p, ENH_EINVAL, "expected 'key: value'");
            goto bad;
        }
        char *key = yml_copy_key(p, p->pos, colon - p->pos);
        if (!key)
            goto bad;
        p->pos = colon + 1;
        skip_spaces(p);
        enh_yml_node *v = parse_inline(p, col);
        if (!v) {
            free(key);
            goto bad;
        }
        if (yml_add_kid(p, m, key, v))
            goto bad;
    }
    p->depth--;
    return m;
bad:
    yml_free_node(m);
    return NULL;
}

static enh_yml_node *parse_seq(parser *p, int col)
{
    if (yml_enter(p))
        return NULL;
    enh_yml_node *s = yml_new_node(p, ENH_YML_SEQ);
    if (!s)
        return NULL;
    for (int first = 1;; first = 0) {
        if (!first) {
            int ind = next_content(p);
            if (ind != col) {
                if (ind > col) {
                    yml_fail(p, ENH_EINVAL, "unexpected indentation");
                    goto bad;
                }
                break;
            }
            p->pos += (size_t)ind;
        }
        if (peek(p) != '-' || !(peek_at(p, 1) == ' ' || peek_at(p, 1) == '\t' || peek_at(p, 1) == '\n' ||
                                peek_at(p, 1) == '\r' || peek_at(p, 1) < 0))
            break;
        size_t line_start = p->pos - (size_t)col;
        p->pos++;
        skip_spaces(p);
        enh_yml_node *item;
        size_t colon;
        if (at_eol(p) || peek(p) == '#')
            item = parse_block(p, col + 1);
        else if (key_here(p, &colon))
            item = parse_map(p, (int)(p->pos - line_start));
        else
            item = parse_inline(p, col);
        if (!item || yml_add_kid(p, s, NULL, item))
            goto bad;
    }
    p->depth--;
    return s;
bad:
    yml_free_node(s);
    return NULL;
}

/* The block node on the following lines, indented at least min_indent; an empty scalar if
 * none (the position is then left at the start of the line that is not part of it). Called with
 * the rest of the current line blank. */
static enh_yml_node *parse_block(parser *p, int min_indent)
{
    int ind = next_content(p);
    if (ind < min_indent) {
        enh_yml_node *n = yml_scalar(p, p->pos, 0);
        if (n)
            n->text = yml_empty_text, n->n = 0;
        return n;
    }
    p->pos += (size_t)ind;
    size_t colon;
    if (peek(p) == '-' && (peek_at(p, 1) == ' ' || peek_at(p, 1) == '\t' || peek_at(p, 1) == '\n' ||
                           peek_at(p, 1) == '\r' || peek_at(p, 1) < 0))
        return parse_seq(p, ind);
    if (key_here(p, &colon))
        return parse_map(p, ind);
    return parse_inline(p, ind);
}

/* NUL-terminates every scalar (see the file comment). */
static void finish(enh_yml_node *n)
{
    if (n->type == ENH_YML_SCALAR) {
        if (n->text != yml_empty_text)
            ((char *)n->text)[n->n] = 0;
        n->n = 0;
        return;
    }
    for (size_t i = 0; i < n->n; i++)
        finish(n->kids[i]);
}

enh_status enh_yml_parse(const char *data, size_t size, const char *name, enh_yml_doc **out, enh_error *err)
{
    *out = NULL;
    if (size > ENH_YML_MAX_BYTES)
        return enh_fail(err, ENH_ETOOBIG, "%s: %zu bytes, more than the %u MB a model file may have", name, size,
                        ENH_YML_MAX_BYTES >> 20);
    enh_yml_doc *d = calloc(1, sizeof *d);
    if (!d || !(d->buf = malloc(size + 1))) {
        free(d);
        return enh_fail(err, ENH_ENOMEM, "out of memory reading %s", name);
    }
    memcpy(d->buf, data, size);
    d->buf[size] = 0;
    d->size = size;
    snprintf(d->name, sizeof d->name, "%s", name);
    if (memchr(d->buf, 0, size)) {
        enh_yml_free(d);
        return enh_fail(err, ENH_EINVAL, "%s: binary data (a NUL byte); expected OpenCV FileStorage YAML", name);
    }
    parser p = {.b = d->buf, .n = size, .line = 1, .name = d->name, .err = err, .st = ENH_OK};
    int ind = next_content(&p);
    if (ind < 0) {
        enh_yml_free(d);
        return enh_fail(err, ENH_EINVAL, "%s: empty; expected OpenCV FileStorage YAML", name);
    }
    p.pos += (size_t)ind;
    size_t colon;
    if (!key_here(&p, &colon)) {
        yml_fail(&p, ENH_EINVAL, "expected a top-level 'key: value'");
    } else {
        d->root = parse_map(&p, ind);
        if (d->root && next_content(&p) >= 0)
            yml_fail(&p, ENH_EINVAL, "unexpected text after the document");
    }
    if (p.st != ENH_OK) {
        enh_yml_free(d);
        return p.st;
    }
    finish(d->root);
    *out = d;
    return ENH_OK;
}

void enh_yml_free(enh_yml_doc *d)
{
    if (!d)
        return;
    yml_free_node(d->root);
    free(d->buf);
    free(d);
}

const enh_yml_node *enh_yml_root(const enh_yml_doc *d) { return d ? d->root : NULL; }
const char *enh_yml_name(const enh_yml_doc *d) { return d ? d->name : ""; }
