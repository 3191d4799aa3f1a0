/* keras_weights.c - the weightsManifest of a TF.js layers model: each group's shards read
 * (plain or .min.js-wrapped, tfjs_container.h) and concatenated, every weight placed at its
 * offset in manifest order, decoded on request by name (keras_internal.h).
 *
 * Dequantisation follows tfjs-core's decodeWeight: scale and min are doubles from the JSON and
 * the value is float32((double)q * scale + min); float32 arithmetic gives other values for
 * almost every nsfwjs tensor (peer README). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/keras_internal.h"
#include "nn/tfjs_container.h"

#define MAX_WEIGHTS 100000
#define MAX_GROUP_BYTES ((size_t)2 << 30)

void keras_weights_free(keras_weights *kw)
{
    for (int i = 0; i < kw->ngroups; i++)
        free(kw->groups[i]);
    free(kw->groups);
    free(kw->w);
    memset(kw, 0, sizeof *kw);
}

static enh_status read_group(const char *dir, json_t *paths, unsigned char **buf, size_t *len, const char *file,
                             size_t gi, enh_error *err)
{
    unsigned char *b = NULL;
    size_t n = 0;
    if (!json_is_array(paths) || json_array_size(paths) == 0 || json_array_size(paths) > 4096)
        return enh_fail(err, ENH_EINVAL, "%s: weightsManifest group %zu needs a list of 1..4096 shard paths", file, gi);
    for (size_t i = 0; i < json_array_size(paths); i++) {
        const char *p = json_string_value(json_array_get(paths, i));
        if (!p) {
            free(b);
            return enh_fail(err, ENH_EINVAL, "%s: weightsManifest group %zu: path %zu is not a string", file, gi, i);
        }
        unsigned char *s;
        size_t sl;
        enh_status st = enh_tfjs_read_shard(dir, p, &s, &sl, err);
        if (st != ENH_OK) {
            free(b);
            return enh_error_prefix(err, "%s", file);
        }
        if (n + sl > MAX_GROUP_BYTES) {
            free(s);
            free(b);
            return enh_fail(err, ENH_ETOOBIG, "%s: weight group %zu is larger than %zu bytes", file, gi, MAX_GROUP_BYTES);
        }
        unsigned char *nb = realloc(b, n + sl + 1);
        if (!nb) {
            free(s);
            free(b);
            return enh_fail(err, ENH_ENOMEM, "out of memory reading the weights of %s", file);
        }
        b = nb;
        memcpy(b + n, s, sl);
        n += sl;
        free(s);
    }
    *buf = b;
    *len = n;
    return ENH_OK;
}

static enh_status parse_weight(json_t *jw, keras_weight *w, const char *file, enh_error *err)
{
    json_t *shape = json_object_get(jw, "shape"), *q = json_object_get(jw, "quantization");
    const char *dt = json_string_value(json_object_get(jw, "dtype"));
    w->name = json_string_value(json_object_get(jw, "name"));
    if (!w->name || !json_is_array(shape) || json_array_size(shape) > KERAS_MAX_RANK)
        return enh_fail(err, ENH_EINVAL, "%s: weight '%s' needs a name and a shape of rank <= %d", file,
                        w->name ? w->name : "?", KERAS_MAX_RANK);
    if (!dt || strcmp(dt, "float32"))
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: weight '%s' has dtype '%s' (only float32 is supported)", file,
                        w->name, dt ? dt : "?");
    w->rank = (int)json_array_size(shape);
    w->count = 1;
    for (int i = 0; i < w->rank; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        json_int_t v = json_integer_value(d);
        if (!json_is_integer(d) || v < 1 || v > (1 << 24) || w->count > ((size_t)1 << 31) / (size_t)v)
            return enh_fail(err, ENH_EINVAL, "%s: weight '%s' has a bad shape (dimensions 1..2^24, 2^31 values)", file,
                            w->name);
        w->shape[i] = (int)v;
        w->count *= (size_t)v;
    }
    w->qbytes = 0;
    if (q) {
        const char *qd = json_string_value(json_object_get(q, "dtype"));
        json_t *js = json_object_get(q, "scale"), *jm = json_object_get(q, "min");
        w->qbytes = qd && !strcmp(qd, "uint8") ? 1 : qd && !strcmp(qd, "uint16") ? 2 : -1;
        if (w->qbytes < 0)
            return enh_fail(err, ENH_EUNSUPPORTED, "%s: weight '%s': quantization '%s' is not supported (uint8, uint16)",
                            file, w->name, qd ? qd : "?");
        if (!json_is_number(js) || !json_is_number(jm))
            return enh_fail(err, ENH_EINVAL, "%s: quantised weight '%s' needs a numeric scale and min", file, w->name);
        w->scale = json_number_value(js);
        w->min = json_number_value(jm);
    }
    return ENH_OK;
}

enh_status keras_weights_load(json_t *manifest, const char *dir, keras_weights *kw, const char *file,
                              enh_error *err)
{
    memset(kw, 0, sizeof *kw);
    if (!json_is_array(manifest) || json_array_size(manifest) > 4096)
        return enh_fail(err, ENH_EINVAL, "%s: no weightsManifest array", file);
    size_t total = 0, ng = json_array_size(manifest);
    for (size_t gi = 0; gi < ng; gi++)
        total += json_array_size(json_object_get(json_array_get(manifest, gi), "weights"));
    if (total > MAX_WEIGHTS)
        return enh_fail(err, ENH_EINVAL, "%s: more than %d weights", file, MAX_WEIGHTS);
    kw->w = calloc(total ? total : 1, sizeof *kw->w);
    kw->groups = calloc(ng ? ng : 1, sizeof *kw->groups);
    if (!kw->w || !kw->groups) {
        keras_weights_free(kw);
        return enh_fail(err, ENH_ENOMEM, "out of memory");
    }
    enh_status st = ENH_OK;
    for (size_t gi = 0; gi < ng && st == ENH_OK; gi++) {
        json_t *grp = json_array_get(manifest, gi), *ws = json_object_get(grp, "weights");
        size_t len = 0, off = 0;
        if (!json_is_array(ws)) {
            st = enh_fail(err, ENH_EINVAL, "%s: weightsManifest group %zu has no weights list", file, gi);
            break;
        }
        if ((st = read_group(dir, json_object_get(grp, "paths"), &kw->groups[gi], &len, file, gi, err)) != ENH_OK)
            break;
        kw->ngroups++;
        for (size_t wi = 0; wi < json_array_size(ws) && st == ENH_OK; wi++) {
            keras_weight *w = &kw->w[kw->n];
            if ((st = parse_weight(json_array_get(ws, wi), w, file, err)) != ENH_OK)
                break;
            size_t bytes = w->count * (size_t)(w->qbytes ? w->qbytes : 4);
            if (bytes > len - off) {
                st = enh_fail(err, ENH_EINVAL,
                              "%s: the weight shards of group %zu are too short: weight '%s' needs %zu bytes at offset "
                              "%zu, the shards hold %zu (truncated? re-fetch the model)", file, gi, w->name, bytes, off,
                              len);
                break;
            }
            w->data = kw->groups[gi] + off;
            off += bytes;
            kw->n++;
        }
    }
    if (st != ENH_OK)
        keras_weights_free(kw);
    return st;
}

static int name_matches(const char *full, const char *layer, const char *wname)
{
    size_t fl = strlen(full), ll = strlen(layer), wl = strlen(wname);
    if (fl < ll + 1 + wl || memcmp(full + fl - wl, wname, wl) || full[fl - wl - 1] != '/' ||
        memcmp(full + fl - wl - 1 - ll, layer, ll))
        return 0;
    return fl == ll + 1 + wl || full[fl - wl - 2 - ll] == '/';
}

/* w checked against the expected shape and decoded; `who` names the layer in messages. */
static enh_status decode(const keras_weight *w, const char *who, int rank, int *shape, float **out, enh_error *err)
{
    int ok = w->rank == rank;
    for (int i = 0; ok && i < rank; i++)
        ok = shape[i] < 0 || shape[i] == w->shape[i];
    if (!ok) {
        char want[64] = "", got[64] = "";
        for (int i = 0; i < rank; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", i ? "," : "", shape[i]);
        for (int i = 0; i < w->rank; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", i ? "," : "", w->shape[i]);
        return enh_fail(err, ENH_EINVAL, "layer '%s': weight '%s' has shape [%s], the layer needs [%s] (-1: any)",
                        who, w->name, got, want);
    }
    for (int i = 0; i < rank; i++)
        shape[i] = w->shape[i];
    float *v = enh_alloc((w->count ? w->count : 1) * sizeof *v);
    if (!v)
        return enh_fail(err, ENH_ENOMEM, "out of memory for weight '%s'", w->name);
    const unsigned char *s = w->data;
    if (w->qbytes == 1)
        for (size_t i = 0; i < w->count; i++)
            v[i] = (float)((double)s[i] * w->scale + w->min);
    else if (w->qbytes == 2)
        for (size_t i = 0; i < w->count; i++)
            v[i] = (float)((double)(uint16_t)(s[2 * i] | s[2 * i + 1] << 8) * w->scale + w->min);
    else
        memcpy(v, s, w->count * sizeof *v); /* little-endian float32, as TF.js writes them */
    *out = v;
    return ENH_OK;
}

enh_status keras_weight_get(const keras_weights *kw, const char *layer, const char *wname, int rank,
                            int *shape, float **out, enh_error *err)
{
    *out = NULL;
    for (int i = 0; i < kw->n; i++)
        if (name_matches(kw->w[i].name, layer, wname))
            return decode(&kw->w[i], layer, rank, shape, out, err);
    return enh_fail(err, ENH_EINVAL, "layer '%s': weight '%s/%s' is not in the weightsManifest", layer, layer, wname);
}

enh_status keras_weight_named(const keras_weights *kw, const char *name, const char *who, int rank, int *shape,
                              float **out, enh_error *err)
{
    *out = NULL;
    for (int i = 0; i < kw->n; i++)
        if (!strcmp(kw->w[i].name, name))
            return decode(&kw->w[i], who, rank, shape, out, err);
    return enh_fail(err, ENH_EINVAL, "node '%s': weight '%.200s' is not in the weightsManifest", who, name);
}
