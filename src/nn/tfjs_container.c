/* tfjs_container.c - plain or `.min.js`-wrapped TF.js model files (see tfjs_container.h).
 * The wrapper is browserify's: `...{1:[function(e,a,n){a.exports=VALUE},{}]},{},[1])(1)});`.
 * The first `.exports=` followed by `{` or `"` starts VALUE (the UMD prelude before it only has
 * `module.exports=e()`), and VALUE must be followed by `}` or `;`: anything else is refused
 * rather than guessed at. */
#include "nn/tfjs_container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"

#define MAX_DEPTH 64

typedef struct {
    const char *s;
    size_t n, i;
    const char *what;
    enh_error *err;
    enh_status st;
} jsp;

static json_t *fail_at(jsp *p, const char *why)
{
    if (p->st == ENH_OK)
        p->st = enh_fail(p->err, ENH_EINVAL, "%s: %s at byte %zu", p->what, why, p->i);
    return NULL;
}

static json_t *fail_oom(jsp *p)
{
    if (p->st == ENH_OK)
        p->st = enh_fail(p->err, ENH_ENOMEM, "%s: out of memory at byte %zu", p->what, p->i);
    return NULL;
}

static void skip_ws(jsp *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int is_ident(int c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || (!first && c >= '0' && c <= '9');
}

static int hexv(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A quoted string (either quote) into a new buffer; \uXXXX as UTF-8 (no surrogate pairs). */
static char *parse_string(jsp *p, size_t *outlen)
{
    char q = p->s[p->i++];
    size_t start = p->i, cap = 16, k = 0;
    char *b = malloc(cap);
    if (!b) {
        p->st = enh_fail(p->err, ENH_ENOMEM, "out of memory");
        return NULL;
    }
    for (;;) {
        if (p->i >= p->n) {
            p->i = start;
            free(b);
            fail_at(p, "unterminated string");
            return NULL;
        }
        unsigned char c = (unsigned char)p->s[p->i++];
        if (c == (unsigned char)q)
            break;
        unsigned cp = c;
        int raw = c != '\\'; /* a byte of the text as it is, not a code point to encode */
        if (c == '\\') {
            if (p->i >= p->n)
                continue; /* reported as unterminated next round */
            char e = p->s[p->i++];
            switch (e) {
            case 'n': cp = '\n'; break;
            case 't': cp = '\t'; break;
            case 'r': cp = '\r'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'u': {
                cp = 0;
                for (int d = 0; d < 4; d++) {
                    int v = p->i < p->n ? hexv((unsigned char)p->s[p->i]) : -1;
                    if (v < 0) {
                        free(b);
                        fail_at(p, "bad \\u escape");
                        return NULL;
                    }
                    cp = cp * 16 + (unsigned)v;
                    p->i++;
                }
                if (cp == 0 || (cp >= 0xd800 && cp < 0xe000)) {
                    free(b);
                    fail_at(p, "\\u0000 or a surrogate in a string");
                    return NULL;
                }
                break;
            }
            default:
                /* JavaScript's "\\x" is x: a byte of a UTF-8 sequence is kept as it is rather
                 * than encoded again as a code point, and a control character is refused below
                 * as an unescaped one is (a NUL taken this way came back from the JSON as
                 * "\\u0000", which no JSON reader of ours takes: found by fuzz_container) */
                cp = (unsigned char)e;
                raw = 1;
                break;
            }
        }
        if (raw && cp < 0x20) {
            p->i--;
            free(b);
            fail_at(p, "control character in a string");
            return NULL;
        }
        if (k + 4 >= cap) {
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                p->st = enh_fail(p->err, ENH_ENOMEM, "out of memory");
                return NULL;
            }
            b = nb;
        }
        if (cp < 0x80 || raw) {
            b[k++] = (char)cp;
        } else if (cp < 0x800) {
            b[k++] = (char)(0xc0 | cp >> 6);
            b[k++] = (char)(0x80 | (cp & 63));
        } else {
            b[k++] = (char)(0xe0 | cp >> 12);
            b[k++] = (char)(0x80 | ((cp >> 6) & 63));
            b[k++] = (char)(0x80 | (cp & 63));
        }
    }
    b[k] = 0;
    *outlen = k;
    return b;
}

static json_t *parse_value(jsp *p, int depth);

static json_t *parse_number(jsp *p)
{
    size_t j = p->i;
    int real = 0, digits = 0;
    if (j < p->n && (p->s[j] == '-' || p->s[j] == '+'))
        j++;
    while (j < p->n) {
        char c = p->s[j];
        if (c >= '0' && c <= '9')
            digits++;
        else if (c == '.' || c == 'e' || c == 'E')
            real = 1;
        else if (!((c == '-' || c == '+') && (p->s[j - 1] == 'e' || p->s[j - 1] == 'E')))
            break;
        j++;
    }
    if (!digits || j - p->i > 64)
        return fail_at(p, "bad number");
    char buf[80];
    memcpy(buf, p->s + p->i, j - p->i);
    buf[j - p->i] = 0;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (*end || errno == ERANGE)
        return fail_at(p, "bad number");
    p->i = j;
    json_t *v = !real && d >= -9.0e15 && d <= 9.0e15 ? json_integer((json_int_t)d) : json_real(d);
    return v ? v : fail_oom(p);
}

static json_t *parse_container(jsp *p, int depth, int obj)
{
    json_t *v = obj ? json_object() : json_array();
    if (!v) {
        p->st = enh_fail(p->err, ENH_ENOMEM, "out of memory");
        return NULL;
    }
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
        p->i++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        size_t kl = 0;
        if (obj) {
            skip_ws(p);
            if (p->i < p->n && (p->s[p->i] == '"' || p->s[p->i] == '\'')) {
                key = parse_string(p, &kl);
            } else if (p->i < p->n && (is_ident((unsigned char)p->s[p->i], 1) ||
                                       (p->s[p->i] >= '0' && p->s[p->i] <= '9'))) {
                size_t j = p->i;
                while (j < p->n && is_ident((unsigned char)p->s[j], 0))
                    j++;
                if ((key = malloc(j - p->i + 1))) {
                    memcpy(key, p->s + p->i, j - p->i);
                    key[j - p->i] = 0;
                    kl = j - p->i;
                } else
                    p->st = enh_fail(p->err, ENH_ENOMEM, "out of memory");
                p->i = j;
            } else
                fail_at(p, "expected a property name");
            skip_ws(p);
            if (key && (p->i >= p->n || p->s[p->i] != ':')) {
                free(key);
                key = NULL;
                fail_at(p, "expected ':'");
            }
            if (!key) {
                json_decref(v);
                return NULL;
            }
            p->i++;
            if (strlen(key) != kl) {
                free(key);
                json_decref(v);
                return fail_at(p, "NUL in a property name");
            }
        }
        json_t *e = parse_value(p, depth + 1);
        if (!e) {
            free(key);
            json_decref(v);
            return NULL;
        }
        int rc;
        if (obj) {
            /* nocheck: the key's bytes are taken as they are, like string values (json_stringn_nocheck),
             * so -1 is out of memory only */
            rc = json_object_get(v, key) ? -2 : json_object_set_new_nocheck(v, key, e);
            if (rc == -2)
                json_decref(e);
        } else
            rc = json_array_append_new(v, e);
        free(key);
        if (rc) {
            json_decref(v);
            return rc == -2 ? fail_at(p, "duplicate property name") : fail_oom(p);
        }
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
            p->i++;
            return v;
        }
        json_decref(v);
        return fail_at(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static json_t *parse_value(jsp *p, int depth)
{
    if (depth > MAX_DEPTH)
        return fail_at(p, "nesting deeper than 64 levels");
    skip_ws(p);
    if (p->i >= p->n)
        return fail_at(p, "unexpected end of text");
    char c = p->s[p->i];
    if (c == '{' || c == '[')
        return parse_container(p, depth, c == '{');
    if (c == '"' || c == '\'') {
        size_t l;
        char *s = parse_string(p, &l);
        if (!s)
            return NULL;
        json_t *v = json_stringn_nocheck(s, l);
        free(s);
        return v ? v : fail_oom(p);
    }
    if (c == '!' && p->i + 1 < p->n && (p->s[p->i + 1] == '0' || p->s[p->i + 1] == '1')) {
        p->i += 2;
        return json_boolean(p->s[p->i - 1] == '0'); /* !0 is true */
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(words[k]);
        if (p->n - p->i >= l && !memcmp(p->s + p->i, words[k], l) &&
            (p->i + l == p->n || !is_ident((unsigned char)p->s[p->i + l], 0))) {
            p->i += l;
            return k == 0 ? json_true() : k == 1 ? json_false() : json_null();
        }
    }
    if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'))
        return parse_number(p);
    return fail_at(p, "unexpected character");
}

enh_status enh_js_value_parse(const char *text, size_t len, size_t *pos, json_t **out, const char *what,
                              enh_error *err)
{
    jsp p = {text, len, *pos, what, err, ENH_OK};
    *out = parse_value(&p, 0);
    if (!*out)
        return p.st != ENH_OK ? p.st : enh_fail(err, ENH_EINVAL, "%s: cannot parse", what);
    *pos = p.i;
    return ENH_OK;
}

/* Offset of VALUE inside a wrapper, or (size_t)-1 when the text has none. */
static size_t wrapped_value(const char *s, size_t n)
{
    static const char key[] = ".exports=";
    const size_t kl = sizeof key - 1;
    for (size_t i = 0; i + kl < n; i++)
        if (s[i] == '.' && !memcmp(s + i, key, kl) && (s[i + kl] == '{' || s[i + kl] == '"'))
            return i + kl;
    return (size_t)-1;
}

/* VALUE of path: the whole text when it starts with '{' (plain JSON), else the wrapper's. */
static enh_status read_value(const char *path, json_t **out, enh_error *err)
{
    char *text;
    size_t n;
    *out = NULL;
    enh_status st = enh_read_file(path, ENH_TFJS_CONTAINER_MAX_BYTES, &text, &n, err);
    if (st != ENH_OK)
        return st;
    size_t i = 0;
    while (i < n && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
        i++;
    int plain = i < n && text[i] == '{';
    if (!plain && (i = wrapped_value(text, n)) == (size_t)-1) {
        free(text);
        return enh_fail(err, ENH_EINVAL,
                        "%s: neither JSON nor a .min.js module wrapper with `.exports=` an object or a string", path);
    }
    st = enh_js_value_parse(text, n, &i, out, path, err);
    if (st == ENH_OK) {
        while (i < n && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
            i++;
        if (plain ? i != n : i >= n || (text[i] != '}' && text[i] != ';')) {
            json_decref(*out);
            *out = NULL;
            st = enh_fail(err, ENH_EINVAL, "%s: unexpected text after the %s at byte %zu", path,
                          plain ? "JSON document" : "exported value", i);
        }
    }
    free(text);
    return st;
}

enh_status enh_tfjs_read_json(const char *path, json_t **out, enh_error *err)
{
    enh_status st = read_value(path, out, err);
    if (st == ENH_OK && !json_is_object(*out)) {
        int str = json_is_string(*out);
        json_decref(*out);
        *out = NULL;
        return enh_fail(err, ENH_EINVAL, "%s: the model must be an object (model.json), not a %s", path,
                        str ? "string (a weight shard?)" : "value of another kind");
    }
    return st;
}

static int b64val(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+' ? 62 : c == '/' ? 63 : -1;
}

enh_status enh_base64_decode(const char *s, size_t n, unsigned char **out, size_t *out_len, const char *what,
                             enh_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (n % 4)
        return enh_fail(err, ENH_EINVAL, "%s: base64 text of %zu characters (not a multiple of 4): truncated?", what, n);
    size_t pad = n && s[n - 1] == '=' ? (n > 1 && s[n - 2] == '=' ? 2 : 1) : 0;
    unsigned char *b = malloc(n / 4 * 3 + 1);
    if (!b)
        return enh_fail(err, ENH_ENOMEM, "out of memory decoding %s", what);
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        unsigned acc = 0;
        for (int j = 0; j < 4; j++) {
            int v = b64val((unsigned char)s[i + j]);
            if (v < 0 && !(s[i + j] == '=' && i + j >= n - pad)) {
                free(b);
                return enh_fail(err, ENH_EINVAL, "%s: character %zu of the base64 text is not base64", what, i + j);
            }
            acc = acc << 6 | (unsigned)(v < 0 ? 0 : v);
        }
        b[k++] = (unsigned char)(acc >> 16);
        b[k++] = (unsigned char)(acc >> 8);
        b[k++] = (unsigned char)acc;
    }
    *out = b;
    *out_len = k - pad;
    return ENH_OK;
}

enh_status enh_tfjs_read_shard(const char *dir, const char *name, unsigned char **out, size_t *out_len,
                               enh_error *err)
{
    char path[4352];
    *out = NULL;
    *out_len = 0;
    if (!name[0] || strstr(name, "..") || strchr(name, '/'))
        return enh_fail(err, ENH_EINVAL, "weight shard name '%.200s' is not a file name beside the model", name);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path - 8)
        return enh_fail(err, ENH_EINVAL, "weight shard path too long");
    if (enh_is_file(path))
        return enh_read_file(path, ENH_TFJS_CONTAINER_MAX_BYTES, (char **)out, out_len, err);
    strcat(path, ".min.js");
    if (!enh_is_file(path))
        return enh_fail(err, ENH_ENOTFOUND, "weight shard %s/%s (or %s) is missing (re-fetch the model)", dir, name,
                        path);
    json_t *v;
    enh_status st = read_value(path, &v, err);
    if (st != ENH_OK)
        return st;
    if (!json_is_string(v)) {
        json_decref(v);
        return enh_fail(err, ENH_EINVAL, "%s: a weight shard wrapper must export a base64 string", path);
    }
    st = enh_base64_decode(json_string_value(v), json_string_length(v), out, out_len, path, err);
    json_decref(v);
    return st;
}
