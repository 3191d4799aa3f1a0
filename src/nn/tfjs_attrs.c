/* tfjs_attrs.c - a model.json node's attributes (a GraphDef's attr map in JSON: {"i": "3"},
 * {"b": true}, {"s": base64}, {"list": {"i": [...]}}, {"type": "DT_FLOAT"}) into a tf_node's
 * fields, checked for the ranges the planner relies on. */
#include "nn/tfjs_attrs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int b64v(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

/* Decodes base64 into out (NUL-terminated, truncated to size-1); -1 when malformed. */
static int b64_decode(const char *s, char *out, size_t size)
{
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64v((unsigned char)*s);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k + 1 < size)
                out[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[k] = 0;
    return 0;
}

json_t *tfjs_attr(json_t *node, const char *key)
{
    return json_object_get(json_object_get(node, "attr"), key);
}

static long attr_int(json_t *node, const char *key, long dflt)
{
    json_t *a = json_object_get(tfjs_attr(node, key), "i");
    if (json_is_string(a))
        return strtol(json_string_value(a), NULL, 10);
    if (json_is_integer(a))
        return (long)json_integer_value(a);
    return dflt;
}

static int attr_bool(json_t *node, const char *key)
{
    return json_is_true(json_object_get(tfjs_attr(node, key), "b"));
}

static int attr_str(json_t *node, const char *key, char *out, size_t size)
{
    json_t *a = json_object_get(tfjs_attr(node, key), "s");
    out[0] = 0;
    if (!json_is_string(a))
        return 0;
    return b64_decode(json_string_value(a), out, size) == 0 ? 1 : -1;
}

/* list.i of an attr into v[max]; returns the count, -1 when longer than max. */
static int attr_ints(json_t *node, const char *key, int *v, int max)
{
    json_t *l = json_object_get(json_object_get(tfjs_attr(node, key), "list"), "i");
    if (!json_is_array(l))
        return 0;
    int n = (int)json_array_size(l);
    if (n > max)
        return -1;
    for (int i = 0; i < n; i++) {
        json_t *e = json_array_get(l, (size_t)i);
        v[i] = json_is_string(e) ? (int)strtol(json_string_value(e), NULL, 10) : (int)json_integer_value(e);
    }
    return n;
}

int tfjs_parse_dtype_name(const char *s, tf_dtype *dt)
{
    if (!s)
        return -1;
    if (!strcmp(s, "DT_FLOAT") || !strcmp(s, "float32"))
        *dt = TF_F32;
    else if (!strcmp(s, "DT_INT32") || !strcmp(s, "int32"))
        *dt = TF_I32;
    else if (!strcmp(s, "DT_BOOL") || !strcmp(s, "bool"))
        *dt = TF_BOOL;
    else
        return -1;
    return 0;
}

static int attr_type(json_t *node, const char *key, tf_dtype *dt)
{
    json_t *t = json_object_get(tfjs_attr(node, key), "type");
    if (!t)
        return 0;
    return tfjs_parse_dtype_name(json_string_value(t), dt) == 0 ? 1 : -1;
}

enh_status tfjs_parse_attrs(json_t *jn, tf_node *n, const char *file, enh_error *err)
{
    char s[64];
    tf_dtype dt;
    const char *key = n->op == TFOP_CAST ? "DstT" : n->op == TFOP_SHAPE ? "out_type"
                      : n->op == TFOP_RANGE ? "Tidx" : n->op == TFOP_CONST || n->op == TFOP_PLACEHOLDER ? "dtype" : "T";
    n->dtype = TF_F32;
    int r = attr_type(jn, key, &dt);
    if (r < 0)
        return enh_fail(err, ENH_EUNSUPPORTED, "%s: node '%s' (%s): data type of attr %s is not float32, int32 or bool",
                        file, n->name, tf_op_name(n->op), key);
    if (r > 0)
        n->dtype = dt;
    if (n->op == TFOP_SHAPE && r == 0)
        n->dtype = TF_I32;
    for (int i = 0; i < 4; i++)
        n->strides[i] = n->dilations[i] = 1;
    if (n->op == TFOP_CONV2D || n->op == TFOP_DECONV2D) {
        if (attr_ints(jn, "strides", n->strides, 4) < 0 || attr_ints(jn, "dilations", n->dilations, 4) < 0)
            return enh_fail(err, ENH_EINVAL, "%s: node '%s': strides/dilations must have 4 entries", file, n->name);
        if (attr_str(jn, "padding", s, sizeof s) < 0)
            return enh_fail(err, ENH_EINVAL, "%s: node '%s': bad padding attr", file, n->name);
        if (!strcmp(s, "SAME"))
            n->padding = TF_PAD_SAME;
        else if (!strcmp(s, "VALID"))
            n->padding = TF_PAD_VALID;
        else if (!strcmp(s, "EXPLICIT")) {
            n->padding = TF_PAD_EXPLICIT;
            if (attr_ints(jn, "explicit_paddings", n->explicit_pad, 8) != 8)
                return enh_fail(err, ENH_EINVAL, "%s: node '%s': EXPLICIT padding needs 8 explicit_paddings",
                                file, n->name);
            for (int i = 0; i < 8; i++) /* bounded: the output size adds two of them in int */
                if (n->explicit_pad[i] < 0 || n->explicit_pad[i] > 65536)
                    return enh_fail(err, ENH_EINVAL, "%s: node '%s': explicit_paddings must be 0..65536", file,
                                    n->name);
        } else
            return enh_fail(err, ENH_EUNSUPPORTED, "%s: node '%s': padding '%s' is not SAME, VALID or EXPLICIT", file,
                            n->name, s);
        if (attr_str(jn, "data_format", s, sizeof s) > 0 && strcmp(s, "NHWC"))
            return enh_fail(err, ENH_EUNSUPPORTED, "%s: node '%s': data_format %s (only NHWC is supported)", file,
                            n->name, s);
        for (int i = 0; i < 4; i++)
            if (n->strides[i] < 1 || n->strides[i] > 64 || n->dilations[i] < 1 || n->dilations[i] > 64)
                return enh_fail(err, ENH_EINVAL, "%s: node '%s': strides and dilations must be 1..64", file, n->name);
        if (n->strides[0] != 1 || n->strides[3] != 1 || n->dilations[0] != 1 || n->dilations[3] != 1)
            return enh_fail(err, ENH_EUNSUPPORTED, "%s: node '%s': stride/dilation over batch or channels", file,
                            n->name);
    }
    n->axis = (int)attr_int(jn, "axis", 0);
    n->keep_dims = attr_bool(jn, "keep_dims");
    n->begin_mask = (int)attr_int(jn, "begin_mask", 0);
    n->end_mask = (int)attr_int(jn, "end_mask", 0);
    n->ellipsis_mask = (int)attr_int(jn, "ellipsis_mask", 0);
    n->new_axis_mask = (int)attr_int(jn, "new_axis_mask", 0);
    n->shrink_axis_mask = (int)attr_int(jn, "shrink_axis_mask", 0);
    n->batch_dims = (int)attr_int(jn, "batch_dims", 0);
    n->nsqueeze = attr_ints(jn, "squeeze_dims", n->squeeze, TF_MAXRANK);
    if (n->nsqueeze < 0)
        return enh_fail(err, ENH_EINVAL, "%s: node '%s': too many squeeze_dims", file, n->name);
    if (n->op == TFOP_EINSUM && attr_str(jn, "equation", n->equation, sizeof n->equation) <= 0)
        return enh_fail(err, ENH_EINVAL, "%s: node '%s': Einsum without a readable equation", file, n->name);
    return ENH_OK;
}
