/* fuzz_container.c - the `.min.js` containers of TF.js models (src/nn/tfjs_container.c: the
 * browserify wrapper located by text, the JSON-superset value reader, strict base64). The first
 * byte of the input picks the entry point, the rest is its text:
 *   0: enh_js_value_parse; a value that parses is printed as JSON and must parse back equal
 *   1: enh_tfjs_read_json on a file holding the text (plain JSON or a wrapped object literal)
 *   2: enh_tfjs_read_shard on NAME.min.js holding the text (no raw NAME beside it)
 *   3: enh_base64_decode, checked against a plain decoder
 * Seeds: an object literal with every form the reader takes (unquoted keys, !0/!1, .5, escapes,
 * nesting), a wrapped model.json and a wrapped shard in the nsfwjs layout (written here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "nn/tfjs_container.h"

static int b64v(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
         : c == '+' ? 62 : c == '/' ? 63 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *t = malloc(n ? n : 1); /* exact size: a read past the end is caught */
    memcpy(t, s, n);
    enh_error e;
    enh_error_clear(&e);
    enh_status st;
    const char *dir = fuzz_tmpdir();
    char path[256];
    switch (data[0] % 4) {
    case 0: {
        size_t pos = 0;
        json_t *v = NULL;
        st = enh_js_value_parse(t, n, &pos, &v, "fuzz", &e);
        fuzz_check_status("enh_js_value_parse", st, &e);
        if (st == ENH_OK) {
            fuzz_accepted++;
            if (!v || pos > n)
                fuzz_fail("parsed: value %p, end %zu of %zu", (void *)v, pos, n);
            char *j = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            size_t p2 = 0;
            json_t *v2 = NULL;
            enh_error_clear(&e);
            if (j && (enh_js_value_parse(j, strlen(j), &p2, &v2, "again", &e) != ENH_OK || !json_equal(v, v2)))
                fuzz_fail("its JSON does not parse back to the same value ('%s'): %s", e.msg, j);
            free(j);
            json_decref(v2);
        }
        json_decref(v);
        break;
    }
    case 1: {
        snprintf(path, sizeof path, "%s/model.min.js", dir);
        fuzz_write_file(path, t, n);
        json_t *v = NULL;
        st = enh_tfjs_read_json(path, &v, &e);
        fuzz_check_status("enh_tfjs_read_json", st, &e);
        fuzz_accepted += st == ENH_OK;
        json_decref(v);
        break;
    }
    case 2: {
        snprintf(path, sizeof path, "%s/shard.bin.min.js", dir);
        fuzz_write_file(path, t, n);
        unsigned char *b = NULL;
        size_t bl = 0;
        st = enh_tfjs_read_shard(dir, "shard.bin", &b, &bl, &e);
        fuzz_check_status("enh_tfjs_read_shard", st, &e);
        fuzz_accepted += st == ENH_OK;
        free(b);
        break;
    }
    default: {
        unsigned char *b = NULL;
        size_t bl = 0;
        st = enh_base64_decode(t, n, &b, &bl, "fuzz", &e);
        fuzz_check_status("enh_base64_decode", st, &e);
        if (st == ENH_OK) { /* what a strict decoder accepts, a plain one decodes the same */
            fuzz_accepted++;
            size_t k = 0, o = 0;
            unsigned acc = 0;
            int bits = 0;
            for (; k < n && t[k] != '='; k++) {
                int v = b64v((unsigned char)t[k]);
                if (v < 0)
                    fuzz_fail("base64 accepted a byte 0x%02x outside the alphabet", (unsigned char)t[k]);
                acc = acc << 6 | (unsigned)v, bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    if (o >= bl || b[o] != (unsigned char)(acc >> bits))
                        fuzz_fail("base64 decoded byte %zu differs", o);
                    o++;
                }
            }
            if (o != bl || n % 4)
                fuzz_fail("base64: %zu bytes decoded, %zu expected (text of %zu)", bl, o, n);
        }
        free(b);
        break;
    }
    }
    free(t);
    return 0;
}

static void emit1(fuzz_emit_fn emit, void *ctx, const char *name, int mode, const char *text)
{
    size_t n = strlen(text);
    char *d = malloc(n + 1);
    d[0] = (char)mode;
    memcpy(d + 1, text, n);
    emit(ctx, name, d, n + 1);
    free(d);
}

#define WRAP_HEAD "!function(e){\"object\"==typeof exports?module.exports=e():this.m=e()}(function(){return " \
                  "function r(a,n,i){return a[1][0].call(null,null,{exports:{}})}({1:[function(e,a,n){a.exports="
#define WRAP_TAIL "},{}]},{},[1])(1)});"

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    emit1(emit, ctx, "value.js", 0,
          "{format:\"layers-model\",a:[1,-2.5,.5,1e3,-0,!0,!1,null,true,false],\"q\":\"x\\u00e9\\n\\\"\","
          "$b_1:{c:[[],{}],d:\"\"},e:-.25E-2}");
    emit1(emit, ctx, "model.min.js", 1,
          WRAP_HEAD "{format:\"layers-model\",generatedBy:\"keras v2.4.0\",convertedBy:\"TensorFlow.js Converter v2.0.1\","
          "modelTopology:{keras_version:\"2.4.0\",backend:\"tensorflow\",model_config:{class_name:\"Functional\","
          "config:{name:\"m\",layers:[{class_name:\"InputLayer\",config:{batch_input_shape:[null,4,4,3],dtype:\"float32\","
          "sparse:!1,ragged:!1,name:\"in\"},name:\"in\",inbound_nodes:[]}],input_layers:[[\"in\",0,0]],"
          "output_layers:[[\"in\",0,0]]}}},weightsManifest:[{paths:[\"group1-shard1of1\"],weights:[{name:\"w\","
          "shape:[2],dtype:\"float32\"}]}]}" WRAP_TAIL);
    emit1(emit, ctx, "model.json", 1, "{\"format\": \"layers-model\", \"weightsManifest\": []}");
    emit1(emit, ctx, "shard.min.js", 2, WRAP_HEAD "\"AACAPwAAAEA=\"" WRAP_TAIL);
    emit1(emit, ctx, "b64.txt", 3, "AACAPwAAAEAAAEBA/+8=");
}
