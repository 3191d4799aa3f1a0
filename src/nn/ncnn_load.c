/* ncnn_load.c - ncnn .param/.bin parser producing the graph IR (see ncnn.h); the layer
 * translators are in ncnn_layers.c, the parameter and weight readers both use in ncnn_read.c.
 * Defensive by design: every count, size and index read from the files is checked before
 * use; errors name the layer and the byte offset (in the .param or the .bin). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/mem.h"
#include "nn/ncnn.h"
#include "nn/ncnn_internal.h"

#define NCNN_MAGIC 7767517
#define MAX_LAYERS 100000
#define MAX_BLOBS 1000000
#define MAX_TOKENS 4096

/* ---- blob name -> tensor id map (open addressing) ---- */
typedef struct {
    char **keys;
    int *vals;
    size_t cap, used;
} blobmap;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int map_find(const blobmap *m, const char *k)
{
    if (!m->cap)
        return -1;
    for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return -1;
        if (!strcmp(m->keys[i], k))
            return m->vals[i];
    }
}

static int map_put(blobmap *m, const char *k, int v) /* 0 ok, -1 oom */
{
    if ((m->used + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 256;
        char **nk = calloc(ncap, sizeof *nk);
        int *nv = calloc(ncap, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t j = hash_str(m->keys[i]) & (ncap - 1);
            while (nk[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
    }
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], k)) {
            m->vals[i] = v;
            return 0;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = strdup(k);
    if (!m->keys[i])
        return -1;
    m->vals[i] = v;
    m->used++;
    return 0;
}

static void map_free(blobmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
}

/* ---- numbers ---- */
static int parse_int(const char *s, int *v)
{
    if (!*s)
        return -1;
    errno = 0;
    char *end;
    long x = strtol(s, &end, 10);
    if (*end || errno || x < INT32_MIN || x > INT32_MAX)
        return -1;
    *v = (int)x;
    return 0;
}

static int parse_value(const char *s, ncnn_value *v)
{
    int is_float = strpbrk(s, ".eE") != NULL;
    if (is_float) {
        errno = 0;
        char *end;
        float f = strtof(s, &end);
        if (!*s || *end || errno == EINVAL || !isfinite(f))
            return -1;
        v->f = f;
        v->i = f >= (float)INT32_MIN && f <= (float)INT32_MAX ? (int)f : 0;
    } else {
        if (parse_int(s, &v->i))
            return -1;
        v->f = (float)v->i;
    }
    return 0;
}

/* Parses "k=v" tokens into pd. Returns 0 or sets err. */
static enh_status parse_params(char **tok, int ntok, ncnn_params *pd, const char *where,
                               enh_error *err)
{
    memset(pd, 0, sizeof *pd);
    for (int t = 0; t < ntok; t++) {
        char *eq = strchr(tok[t], '=');
        if (!eq)
            return enh_fail(err, ENH_EINVAL, "%s: parameter '%.40s' is not key=value", where, tok[t]);
        *eq = '\0';
        int key;
        if (parse_int(tok[t], &key))
            return enh_fail(err, ENH_EINVAL, "%s: bad parameter key '%.40s'", where, tok[t]);
        const char *val = eq + 1;
        int is_array = key <= -23300;
        int id = is_array ? -(key + 23300) : key;
        if (id < 0 || id >= NCNN_MAX_PARAMS)
            return enh_fail(err, ENH_EINVAL, "%s: parameter id %d out of range 0..%d", where, id,
                            NCNN_MAX_PARAMS - 1);
        if (pd->set[id])
            return enh_fail(err, ENH_EINVAL, "%s: parameter %d given twice", where, id);
        if (!is_array) {
            if (parse_value(val, &pd->v[id]))
                return enh_fail(err, ENH_EINVAL, "%s: parameter %d has a bad value '%.40s'", where, id, val);
            pd->set[id] = 1;
            continue;
        }
        /* array: count,v1,v2,... */
        char buf[64];
        const char *p = val;
        int count = -1, got = 0;
        while (1) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (len == 0 || len >= sizeof buf)
                return enh_fail(err, ENH_EINVAL, "%s: array parameter %d is malformed", where, id);
            memcpy(buf, p, len);
            buf[len] = '\0';
            if (count < 0) {
                if (parse_int(buf, &count) || count < 0 || count > NCNN_MAX_ARRAY)
                    return enh_fail(err, ENH_EINVAL, "%s: array parameter %d has a bad count '%s'", where, id, buf);
            } else {
                if (got >= count)
                    return enh_fail(err, ENH_EINVAL, "%s: array parameter %d has more than %d values", where, id, count);
                if (parse_value(buf, &pd->arr[id][got]))
                    return enh_fail(err, ENH_EINVAL, "%s: array parameter %d has a bad value '%s'", where, id, buf);
                got++;
            }
            if (!c)
                break;
            p = c + 1;
        }
        if (got != count)
            return enh_fail(err, ENH_EINVAL, "%s: array parameter %d declares %d values but has %d", where, id, count, got);
        pd->arrn[id] = count;
        pd->set[id] = 2;
    }
    return ENH_OK;
}

/* ---- the .param text ---- */
typedef struct {
    const char *text;
    size_t len, pos;
    char *line;        /* current line, NUL-terminated copy */
    size_t line_cap, line_off;
} linereader;

/* Next non-empty line; 0 ok, 1 eof, -1 oom. */
static int next_line(linereader *lr)
{
    while (lr->pos < lr->len) {
        size_t start = lr->pos, end = start;
        while (end < lr->len && lr->text[end] != '\n')
            end++;
        lr->pos = end < lr->len ? end + 1 : end;
        size_t n = end - start;
        while (n && (lr->text[start + n - 1] == '\r' || lr->text[start + n - 1] == ' ' ||
                     lr->text[start + n - 1] == '\t'))
            n--;
        size_t s = 0;
        while (s < n && (lr->text[start + s] == ' ' || lr->text[start + s] == '\t'))
            s++;
        if (s == n)
            continue;
        if (n + 1 > lr->line_cap) {
            char *nl = realloc(lr->line, n + 1);
            if (!nl)
                return -1;
            lr->line = nl;
            lr->line_cap = n + 1;
        }
        memcpy(lr->line, lr->text + start, n);
        lr->line[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (lr->line[i] == '\0' || lr->line[i] == '\t')
                lr->line[i] = lr->line[i] == '\t' ? ' ' : '\x01'; /* embedded NUL: keep it visible */
        lr->line_off = start;
        return 0;
    }
    return 1;
}

static int tokenize(char *s, char **tok, int max)
{
    int n = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        if (n == max)
            return -1;
        tok[n++] = s;
        while (*s && *s != ' ')
            s++;
        if (*s)
            *s++ = '\0';
    }
    return n;
}

enh_status enh_ncnn_parse(const char *param, size_t param_len, const unsigned char *bin,
                          size_t bin_len, const char *param_name, const char *bin_name,
                          enh_graph **out, enh_error *err)
{
    *out = NULL;
    linereader lr = {.text = param, .len = param_len};
    ncnn_bin br = {.data = bin, .len = bin_len, .name = bin_name ? bin_name : "model.bin"};
    const char *pname = param_name ? param_name : "model.param";
    blobmap blobs = {0};
    enh_graph *g = enh_graph_new();
    char **tok = malloc(MAX_TOKENS * sizeof *tok);
    ncnn_params *pd = malloc(sizeof *pd);
    enh_status st = ENH_OK;
    int layer_count = 0, blob_count = 0, distinct = 0, r;
    if (!g || !tok || !pd) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory loading %s", pname);
        goto done;
    }
    int magic;
    if ((r = next_line(&lr)) != 0 || parse_int(lr.line, &magic) || magic != NCNN_MAGIC) {
        st = r < 0 ? enh_fail(err, ENH_ENOMEM, "out of memory")
                   : enh_fail(err, ENH_EINVAL, "%s: not an ncnn .param file (line 1 must be the magic 7767517)", pname);
        goto done;
    }
    if ((r = next_line(&lr)) != 0 || tokenize(lr.line, tok, 3) != 2 || parse_int(tok[0], &layer_count) ||
        parse_int(tok[1], &blob_count) || layer_count <= 0 || layer_count > MAX_LAYERS || blob_count <= 0 ||
        blob_count > MAX_BLOBS) {
        st = enh_fail(err, ENH_EINVAL, "%s: line 2 must be 'layer_count blob_count' (1..%d, 1..%d)", pname,
                      MAX_LAYERS, MAX_BLOBS);
        goto done;
    }
    for (int li = 0; li < layer_count; li++) {
        r = next_line(&lr);
        if (r < 0) {
            st = enh_fail(err, ENH_ENOMEM, "out of memory");
            goto done;
        }
        if (r > 0) {
            st = enh_fail(err, ENH_EINVAL, "%s: declares %d layers but ends after %d (byte offset %zu)", pname,
                          layer_count, li, param_len);
            goto done;
        }
        size_t off = lr.line_off;
        int ntok = tokenize(lr.line, tok, MAX_TOKENS);
        char where[160];
        snprintf(where, sizeof where, "%s: layer %d (byte offset %zu)", pname, li, off);
        int nin, nout;
        if (ntok < 4 || parse_int(tok[2], &nin) || parse_int(tok[3], &nout) || nin < 0 || nout < 0 ||
            nin > ENH_GRAPH_MAX_INPUTS || nout > ENH_GRAPH_MAX_INPUTS || 4 + nin + nout > ntok) {
            st = enh_fail(err, ENH_EINVAL, "%s: expected 'type name n_in n_out inputs... outputs... k=v...'", where);
            goto done;
        }
        snprintf(where, sizeof where, "%s: layer '%.60s' (byte offset %zu)", pname, tok[1], off);
        char **ins = tok + 4, **outs = tok + 4 + nin;
        if ((st = parse_params(tok + 4 + nin + nout, ntok - 4 - nin - nout, pd, where, err)) != ENH_OK)
            goto done;
        int in_ids[ENH_GRAPH_MAX_INPUTS];
        for (int k = 0; k < nin; k++) {
            in_ids[k] = map_find(&blobs, ins[k]);
            if (in_ids[k] < 0) {
                st = enh_fail(err, ENH_EINVAL, "%s: input blob '%.60s' is not produced by an earlier layer", where, ins[k]);
                goto done;
            }
        }
        for (int k = 0; k < nout; k++) {
            if (map_find(&blobs, outs[k]) >= 0) {
                st = enh_fail(err, ENH_EINVAL, "%s: output blob '%.60s' is already produced by another layer", where, outs[k]);
                goto done;
            }
        }
        const char *type = tok[0];
        if (!strcmp(type, "Split") || !strcmp(type, "Noop") || !strcmp(type, "Dropout")) {
            if (nin != 1 || nout < 1) {
                st = enh_fail(err, ENH_EINVAL, "%s: %s needs 1 input and at least 1 output", where, type);
                goto done;
            }
            for (int k = 0; k < nout; k++, distinct++)
                if (map_put(&blobs, outs[k], in_ids[0])) {
                    st = enh_fail(err, ENH_ENOMEM, "out of memory");
                    goto done;
                }
            continue;
        }
        if (nout != 1) {
            st = enh_fail(err, ENH_EUNSUPPORTED, "%s: layers with %d outputs are not supported", where, nout);
            goto done;
        }
        ncnn_layer L = {.type = type, .name = tok[1], .where = where, .nin = nin, .in = in_ids,
                        .pd = pd, .bin = &br};
        int tensor = g->ntensors;
        if ((st = ncnn_build_layer(g, &L, tensor, err)) != ENH_OK)
            goto done;
        g->ntensors++;
        distinct++;
        if (map_put(&blobs, outs[0], tensor)) {
            st = enh_fail(err, ENH_ENOMEM, "out of memory");
            goto done;
        }
    }
    if ((r = next_line(&lr)) == 0) {
        st = enh_fail(err, ENH_EINVAL, "%s: unexpected text after the %d declared layers (byte offset %zu)", pname,
                      layer_count, lr.line_off);
        goto done;
    }
    if (distinct != blob_count) {
        st = enh_fail(err, ENH_EINVAL, "%s: declares %d blobs but the layers produce %d", pname, blob_count, distinct);
        goto done;
    }
    if (br.off != br.len) {
        st = enh_fail(err, ENH_EINVAL, "%s: %zu bytes at byte offset %zu are not used by any layer "
                      "(the .bin does not match the .param)", br.name, br.len - br.off, br.off);
        goto done;
    }
    /* output: the last produced tensor nobody reads */
    char *read = calloc((size_t)g->ntensors + 1, 1);
    if (!read) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < g->nnodes; i++)
        for (int k = 0; k < g->nodes[i].nin; k++)
            read[g->nodes[i].in[k]] = 1;
    for (int i = g->nnodes - 1; i >= 0 && g->output < 0; i--)
        if (!read[g->nodes[i].out])
            g->output = g->nodes[i].out;
    free(read);
    if (g->output < 0) {
        st = enh_fail(err, ENH_EINVAL, "%s: the graph has no output (every blob is consumed)", pname);
        goto done;
    }
    st = enh_graph_validate(g, err);
done:
    if (st != ENH_OK) {
        enh_graph_free(g);
        g = NULL;
    }
    *out = g;
    map_free(&blobs);
    free(lr.line);
    free(tok);
    free(pd);
    return st;
}

enh_status enh_ncnn_load_files(const char *param_path, const char *bin_path, enh_graph **out,
                               enh_error *err)
{
    *out = NULL;
    char *param = NULL, *bin = NULL;
    size_t plen = 0, blen = 0;
    enh_status st = enh_read_file(param_path, 16u << 20, &param, &plen, err);
    if (st == ENH_OK)
        st = enh_read_file(bin_path, (size_t)2 << 30, &bin, &blen, err);
    if (st == ENH_OK)
        st = enh_ncnn_parse(param, plen, (const unsigned char *)bin, blen, param_path, bin_path, out, err);
    free(param);
    free(bin);
    return st;
}
