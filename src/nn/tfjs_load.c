/* tfjs_load.c - reads a TF.js graph model (model.json + weight shards, tfjs-converter's
 * "graph-model" format) into a tf_graph (tf_graph.h).
 *
 * model.json: modelTopology.node[] = {name, op, input[], attr{}} (a GraphDef in JSON; attr
 * strings are base64), weightsManifest[] = {paths[], weights[{name, shape, dtype,
 * quantization?}]}: each group's shards, concatenated, hold its weights in order. Weights are
 * the values of the Const nodes of the same name. Quantised weights (uint8/uint16 with
 * scale+min, or float16) are dequantised to float32 here, once.
 * Every malformed input is an error naming the file and the node or weight. */
#include "nn/tfjs_load.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/json_mem.h"
#include "core/mem.h"
#include "nn/tf_pack.h"
#include "nn/tfjs_attrs.h"

#define MAX_NODES 2000000
#define MAX_WEIGHT_BYTES ((size_t)4 << 30)

/* ---- name -> node index (open addressing) */
typedef struct {
    int *slot;
    size_t cap;
} name_map;

static size_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)h;
}

static int map_find(const name_map *m, const tf_node *nodes, const char *s, size_t n)
{
    for (size_t i = hash_str(s, n) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        int k = m->slot[i];
        if (k < 0)
            return -1;
        if (strlen(nodes[k].name) == n && !memcmp(nodes[k].name, s, n))
            return k;
    }
}

static int map_build(name_map *m, const tf_node *nodes, int n)
{
    m->cap = 16;
    while (m->cap < (size_t)n * 2)
        m->cap <<= 1;
    m->slot = malloc(m->cap * sizeof *m->slot);
    if (!m->slot)
        return -1;
    memset(m->slot, 0xff, m->cap * sizeof *m->slot);
    for (int k = 0; k < n; k++) {
        size_t len = strlen(nodes[k].name);
        if (map_find(m, nodes, nodes[k].name, len) >= 0)
            return k + 1; /* duplicate name: caller reports node k */
        size_t i = hash_str(nodes[k].name, len) & (m->cap - 1);
        while (m->slot[i] >= 0)
            i = (i + 1) & (m->cap - 1);
        m->slot[i] = k;
    }
    return 0;
}

/* ---- weights */
static int elem_bytes(const char *qdt, tf_dtype dt)
{
    if (qdt)
        return !strcmp(qdt, "uint8") ? 1 : !strcmp(qdt, "uint16") || !strcmp(qdt, "float16") ? 2 : -1;
    (void)dt;
    return 4;
}

static float half_to_float(uint16_t h)
{
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, f;
    if (e == 0) {
        if (!m)
            f = s;
        else { /* subnormal: renormalise */
            int k = -1;
            do {
                k++;
                m <<= 1;
            } while (!(m & 1024));
            f = s | ((uint32_t)(127 - 15 - k) << 23) | ((m & 1023) << 13);
        }
    } else if (e == 31)
        f = s | 0x7f800000u | (m << 13);
    else
        f = s | ((e + 127 - 15) << 23) | (m << 13);
    float out;
    memcpy(&out, &f, 4);
    return out;
}

static enh_status read_group(const char *dir, json_t *paths, unsigned char **buf, size_t *len, const char *file,
                             enh_error *err)
{
    size_t cap = 0, n = 0;
    unsigned char *b = NULL;
    for (size_t i = 0; i < json_array_size(paths); i++) {
        const char *p = json_string_value(json_array_get(paths, i));
        if (!p || strstr(p, "..") || p[0] == '/') {
            free(b);
            return enh_fail(err, ENH_EINVAL, "%s: weightsManifest path %zu is not a file name beside model.json", file,
                            i);
        }
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, p) >= sizeof path) {
            free(b);
            return enh_fail(err, ENH_EINVAL, "%s: weight shard path too long", file);
        }
        FILE *f = fopen(path, "rb");
        if (!f) {
            free(b);
            return enh_fail(err, ENH_ENOTFOUND, "%s: weight shard %s is missing (re-fetch the model)", file, path);
        }
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        if (sz < 0 || n + (size_t)sz > MAX_WEIGHT_BYTES) {
            fclose(f);
            free(b);
            return enh_fail(err, ENH_ETOOBIG, "%s: weight shards are larger than %zu bytes", file, MAX_WEIGHT_BYTES);
        }
        if (n + (size_t)sz > cap) {
            cap = (n + (size_t)sz) * 3 / 2 + 1;
            unsigned char *nb = realloc(b, cap);
            if (!nb) {
                fclose(f);
                free(b);
                return enh_fail(err, ENH_ENOMEM, "out of memory reading %s", path);
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, (size_t)sz, f);
        fclose(f);
        if (got != (size_t)sz) {
            free(b);
            return enh_fail(err, ENH_EIO, "%s: could not read weight shard %s", file, path);
        }
        n += got;
    }
    *buf = b;
    *len = n;
    return ENH_OK;
}

static enh_status load_weights(json_t *manifest, const char *dir, tf_graph *g, const name_map *map,
                               const char *file, enh_error *err)
{
    if (!json_is_array(manifest))
        return enh_fail(err, ENH_EINVAL, "%s: no weightsManifest array", file);
    for (size_t gi = 0; gi < json_array_size(manifest); gi++) {
        json_t *grp = json_array_get(manifest, gi), *ws = json_object_get(grp, "weights");
        unsigned char *buf = NULL;
        size_t len = 0, off = 0;
        enh_status st = read_group(dir, json_object_get(grp, "paths"), &buf, &len, file, err);
        if (st != ENH_OK)
            return st;
        for (size_t wi = 0; wi < json_array_size(ws); wi++) {
            json_t *w = json_array_get(ws, wi), *q = json_object_get(w, "quantization");
            const char *name = json_string_value(json_object_get(w, "name"));
            tf_dtype dt;
            const char *qdt = q ? json_string_value(json_object_get(q, "dtype")) : NULL;
            json_t *shape = json_object_get(w, "shape");
            if (!name || tfjs_parse_dtype_name(json_string_value(json_object_get(w, "dtype")), &dt) < 0 ||
                !json_is_array(shape) || json_array_size(shape) > TF_MAXRANK) {
                free(buf);
                return enh_fail(err, ENH_EUNSUPPORTED,
                                "%s: weight %zu of group %zu ('%s'): needs a name, a shape of rank <= %d and dtype "
                                "float32/int32/bool", file, wi, gi, name ? name : "?", TF_MAXRANK);
            }
            tf_shape s = {.rank = (int)json_array_size(shape)};
            size_t count = 1;
            for (int i = 0; i < s.rank; i++) {
                json_int_t d = json_integer_value(json_array_get(shape, (size_t)i));
                if (d < 0 || d > (1 << 30) || (d && count > MAX_WEIGHT_BYTES / (size_t)d)) {
                    free(buf);
                    return enh_fail(err, ENH_EINVAL, "%s: weight '%s' has a bad shape", file, name);
                }
                s.d[i] = (int)d;
                count *= (size_t)d;
            }
            int eb = elem_bytes(qdt, dt);
            if (eb < 0 || (q && dt != TF_F32) || (dt == TF_BOOL && !q && 0)) {
                free(buf);
                return enh_fail(err, ENH_EUNSUPPORTED, "%s: weight '%s': quantization dtype '%s' is not supported", file,
                                name, qdt ? qdt : "?");
            }
            if (dt == TF_BOOL)
                eb = 1; /* tfjs stores bool weights as one byte each */
            if (count * (size_t)eb > len - off) {
                free(buf);
                return enh_fail(err, ENH_EINVAL,
                                "%s: weight shards of group %zu are too short: weight '%s' needs %zu bytes at offset "
                                "%zu, the shards hold %zu (re-fetch the model)", file, gi, name, count * (size_t)eb,
                                off, len);
            }
            int k = map_find(map, g->nodes, name, strlen(name));
            if (k < 0 || g->nodes[k].op != TFOP_CONST) {
                off += count * (size_t)eb; /* a weight no node uses (tfjs-converter keeps some) */
                continue;
            }
            tf_node *n = &g->nodes[k];
            float *v = enh_alloc(count ? count * 4 : 4);
            if (!v) {
                free(buf);
                return enh_fail(err, ENH_ENOMEM, "out of memory for weight '%s' (%zu values)", name, count);
            }
            const unsigned char *src = buf + off;
            if (qdt && !strcmp(qdt, "float16")) {
                for (size_t i = 0; i < count; i++)
                    v[i] = half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
            } else if (qdt) {
                json_t *js = json_object_get(q, "scale"), *jm = json_object_get(q, "min");
                if (!json_is_number(js) || !json_is_number(jm)) {
                    enh_free(v);
                    free(buf);
                    return enh_fail(err, ENH_EINVAL, "%s: quantised weight '%s' needs scale and min", file, name);
                }
                float sc = (float)json_number_value(js), mn = (float)json_number_value(jm);
                for (size_t i = 0; i < count; i++) {
                    unsigned qv = eb == 1 ? src[i] : (unsigned)(src[2 * i] | src[2 * i + 1] << 8);
                    v[i] = (float)qv * sc + mn;
                }
            } else if (dt == TF_BOOL) {
                int32_t *iv = (int32_t *)v;
                for (size_t i = 0; i < count; i++)
                    iv[i] = src[i] != 0;
            } else
                memcpy(v, src, count * 4);
            off += count * (size_t)eb;
            enh_free(n->value.data);
            n->value = (tf_tensor){.dt = dt, .s = s, .data = v};
            if (dt == TF_F32)
                g->weight_bytes += count * 4;
        }
        free(buf);
    }
    return ENH_OK;
}

/* "name", "name:0" -> node index; "^name" (control) -> -2; anything else -1. */
static int input_ref(const name_map *map, const tf_node *nodes, const char *s)
{
    size_t n = 0;
    int k = tf_input_name(s, &n);
    return k < 0 ? k : map_find(map, nodes, s, n);
}

static int node_by_tensor_name(const name_map *map, const tf_node *nodes, json_t *sig, const char *which)
{
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(sig, which), key, v) {
        const char *nm = json_string_value(json_object_get(v, "name"));
        if (nm)
            return input_ref(map, nodes, nm);
    }
    return -1;
}

enh_status enh_tfjs_load_graph(const char *model_json, tf_graph **out, enh_error *err)
{
    *out = NULL;
    /* read whole, then parse from memory: json_load_file reads a character at a time (1 s of a
     * 3 s load for an 18 MB model.json) */
    json_error_t je;
    FILE *fp = fopen(model_json, "rb");
    if (!fp)
        return enh_fail(err, ENH_ENOTFOUND, "%s: cannot open the model (fetch it with `enhance models fetch`)",
                        model_json);
    fseek(fp, 0, SEEK_END);
    long fsz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    if (fsz <= 0 || fsz >= (1L << 30)) {
        fclose(fp);
        return enh_fail(err, fsz >= (1L << 30) ? ENH_ETOOBIG : ENH_EINVAL, "%s: cannot read the file (empty, over 1 GB "
                        "or not a file)", model_json);
    }
    char *text = malloc((size_t)fsz);
    if (!text) {
        fclose(fp);
        return enh_fail(err, ENH_ENOMEM, "out of memory reading %s (%ld bytes)", model_json, fsz);
    }
    if (fread(text, 1, (size_t)fsz, fp) != (size_t)fsz) {
        fclose(fp);
        free(text);
        return enh_fail(err, ENH_EIO, "%s: cannot read the file (I/O error)", model_json);
    }
    fclose(fp);
    json_t *root;
    enh_status pst = enh_json_parse(text, (size_t)fsz, JSON_REJECT_DUPLICATES, model_json, &root, &je, err);
    free(text);
    if (pst)
        return pst;
    if (!root)
        return enh_fail(err, ENH_EINVAL, "%s: %s (line %d)", model_json, je.text, je.line);
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *nodes = json_object_get(json_object_get(root, "modelTopology"), "node");
    if (fmt && strcmp(fmt, "graph-model")) {
        enh_fail(err, ENH_EUNSUPPORTED, "%s: format '%s' is not a TF.js graph model ('graph-model')", model_json, fmt);
        json_decref(root); /* after the message: fmt lives in root */
        return ENH_EUNSUPPORTED;
    }
    if (!json_is_array(nodes) || json_array_size(nodes) == 0 || json_array_size(nodes) > MAX_NODES) {
        json_decref(root);
        return enh_fail(err, ENH_EINVAL, "%s: modelTopology.node must be an array of 1..%d nodes", model_json,
                        MAX_NODES);
    }
    tf_graph *g = calloc(1, sizeof *g);
    int n = (int)json_array_size(nodes);
    enh_status st = ENH_OK;
    name_map map = {0};
    if (!g || !(g->nodes = calloc((size_t)n, sizeof *g->nodes))) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory for %d nodes", n);
        goto done;
    }
    g->n = n;
    g->input = g->output = -1;
    if (!(g->packs = tf_pack_cache_new())) {
        st = enh_fail(err, ENH_ENOMEM, "out of memory");
        goto done;
    }
    g->in_channels = -1;
    for (int i = 0; i < n && st == ENH_OK; i++) {
        json_t *jn = json_array_get(nodes, (size_t)i);
        const char *name = json_string_value(json_object_get(jn, "name"));
        const char *op = json_string_value(json_object_get(jn, "op"));
        if (!name || !op || !*name) {
            st = enh_fail(err, ENH_EINVAL, "%s: node %d has no name or op", model_json, i);
            break;
        }
        int k = tf_op_from_name(op);
        g->nodes[i].name = strdup(name);
        if (!g->nodes[i].name) {
            st = enh_fail(err, ENH_ENOMEM, "out of memory");
            break;
        }
        if (k < 0) {
            st = enh_fail(err, ENH_EUNSUPPORTED, "%s: node '%s' uses op '%s', which this runtime does not have",
                          model_json, name, op);
            break;
        }
        g->nodes[i].op = (tf_opk)k;
        st = tfjs_parse_attrs(jn, &g->nodes[i], model_json, err);
    }
    if (st != ENH_OK)
        goto done;
    int dup = map_build(&map, g->nodes, n);
    if (dup) {
        st = dup < 0 ? enh_fail(err, ENH_ENOMEM, "out of memory")
                     : enh_fail(err, ENH_EINVAL, "%s: two nodes are named '%s'", model_json, g->nodes[dup - 1].name);
        goto done;
    }
    for (int i = 0; i < n && st == ENH_OK; i++) {
        json_t *ins = json_object_get(json_array_get(nodes, (size_t)i), "input");
        tf_node *nd = &g->nodes[i];
        size_t m = json_array_size(ins);
        nd->in = calloc(m ? m : 1, sizeof *nd->in);
        if (!nd->in) {
            st = enh_fail(err, ENH_ENOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < m; j++) {
            const char *s = json_string_value(json_array_get(ins, j));
            int r = s ? input_ref(&map, g->nodes, s) : -1;
            if (r == -2)
                continue;
            if (r < 0) {
                st = enh_fail(err, ENH_EINVAL, "%s: node '%s': input '%s' names no node (or an output other than :0)",
                              model_json, nd->name, s ? s : "?");
                break;
            }
            nd->in[nd->nin++] = r;
        }
        if (nd->op == TFOP_PLACEHOLDER) {
            if (g->input >= 0) {
                st = enh_fail(err, ENH_EUNSUPPORTED, "%s: more than one input (Placeholder) - '%s' and '%s'",
                              model_json, g->nodes[g->input].name, nd->name);
                break;
            }
            g->input = i;
            json_t *dims = json_object_get(json_object_get(tfjs_attr(json_array_get(nodes, (size_t)i), "shape"), "shape"),
                                           "dim");
            size_t nd_ = json_array_size(dims);
            if (nd_) {
                json_t *sz = json_object_get(json_array_get(dims, nd_ - 1), "size");
                g->in_channels = json_is_string(sz) ? atoi(json_string_value(sz)) : (int)json_integer_value(sz);
            }
        }
    }
    if (st != ENH_OK)
        goto done;
    json_t *sig = json_object_get(root, "signature");
    g->output = node_by_tensor_name(&map, g->nodes, sig, "outputs");
    if (g->output < 0) {
        for (int i = n - 1; i >= 0; i--)
            if (g->nodes[i].op == TFOP_IDENTITY) {
                g->output = i;
                break;
            }
    }
    if (g->input < 0 || g->output < 0) {
        st = enh_fail(err, ENH_EINVAL, "%s: the model needs one Placeholder input and a signature output", model_json);
        goto done;
    }
    char dir[4096];
    enh_path_dir(model_json, dir, sizeof dir);
    st = load_weights(json_object_get(root, "weightsManifest"), dir, g, &map, model_json, err);
    for (int i = 0; i < n && st == ENH_OK; i++)
        if (g->nodes[i].op == TFOP_CONST && !g->nodes[i].value.data)
            st = enh_fail(err, ENH_EINVAL, "%s: Const node '%s' has no value in the weightsManifest", model_json,
                          g->nodes[i].name);
done:
    free(map.slot);
    json_decref(root);
    if (st != ENH_OK) {
        tf_graph_free(g);
        return st;
    }
    *out = g;
    return ENH_OK;
}
