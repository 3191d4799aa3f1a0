/* test_ops_json.c - strict parsing, error messages naming the key, round trip, schema. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "enhance/ops.h"

static enh_status parse(const char *s, enh_ops *o, enh_error *e)
{
    enh_error_clear(e);
    return enh_ops_from_json(s, strlen(s), o, e);
}

static void expect_fail(const char *json, const char *needle)
{
    enh_ops o;
    enh_error e;
    enh_status st = parse(json, &o, &e);
    CHECK_MSG(st == ENH_EINVAL, "%s should fail, got %d", json, st);
    CHECK_MSG(strstr(e.msg, needle) != NULL, "message for %s is '%s', expected it to name '%s'", json, e.msg, needle);
}

static void test_full_document(void)
{
    enh_ops o;
    enh_error e;
    const char *doc = "{\"restorations\":{\"upscale\":\"photo\",\"scale\":2,\"decompress\":\"moderate\","
                      "\"denoise\":\"auto\",\"deblur\":30,\"sharpen\":\"off\"},"
                      "\"adjustments\":{\"auto_color\":true,\"auto_exposure\":true,\"hdr\":40,\"exposure\":-20,"
                      "\"contrast\":10,\"saturation\":5,\"sharpness\":-3,"
                      "\"white_balance\":{\"temperature\":12,\"tint\":-7}},"
                      "\"resizing\":{\"width\":\"50%\",\"height\":300,\"fit\":\"canvas\",\"gravity\":\"smart\","
                      "\"padding\":4,\"background\":\"#ff8000\"},"
                      "\"output\":{\"format\":\"webp\",\"quality\":85,\"metadata\":\"keep\",\"bit_depth\":16,"
                      "\"lossless\":true},\"auto\":true}";
    CHECK_MSG(parse(doc, &o, &e) == ENH_OK, "%s", e.msg);
    CHECK(o.upscale == ENH_UPSCALE_PHOTO && o.scale == 2.0);
    CHECK(o.decompress == 50 && o.denoise == ENH_AUTO && o.deblur == 30 && o.sharpen == ENH_OFF);
    CHECK(o.auto_color && o.auto_exposure && o.hdr == 40 && o.exposure == -20 && o.contrast == 10);
    CHECK(o.saturation == 5 && o.sharpness == -3 && o.temperature == 12 && o.tint == -7);
    CHECK(o.width_pct == 50.0 && o.width == 0 && o.height == 300 && o.fit == ENH_FIT_PAD);
    CHECK(o.gravity == ENH_GRAVITY_SMART && o.padding == 4);
    CHECK(o.background[0] == 255 && o.background[1] == 128 && o.background[2] == 0 && o.background[3] == 255);
    CHECK(o.format == ENH_FORMAT_WEBP && o.quality == 85 && o.keep_metadata && o.bit_depth == 16 && o.lossless);
    CHECK(o.auto_mode == 1);

    /* round trip: canonical JSON parses back to the same value */
    char *s = enh_ops_to_json(&o);
    CHECK(s != NULL);
    enh_ops o2;
    CHECK_MSG(parse(s, &o2, &e) == ENH_OK, "%s: %s", s, e.msg);
    CHECK_MSG(memcmp(&o, &o2, sizeof o) == 0, "round trip differs: %s", s);
    free(s);

    enh_ops d, d2;
    enh_ops_init(&d);
    s = enh_ops_to_json(&d);
    CHECK(parse(s, &d2, &e) == ENH_OK && memcmp(&d, &d2, sizeof d) == 0);
    free(s);
    CHECK(parse("{}", &d2, &e) == ENH_OK && memcmp(&d, &d2, sizeof d) == 0);
}

static void test_errors(void)
{
    expect_fail("{\"restorations\":{\"denoyse\":10}}", "restorations.denoyse");
    expect_fail("{\"adjustmnts\":{}}", "adjustmnts");
    expect_fail("{\"adjustments\":{\"white_balance\":{\"temp\":3}}}", "adjustments.white_balance.temp");
    expect_fail("{\"restorations\":{\"denoise\":\"lots\"}}", "\"off\", \"auto\", \"ai\" or 0..100");
    expect_fail("{\"restorations\":{\"denoise\":101}}", "restorations.denoise");
    expect_fail("{\"restorations\":{\"decompress\":\"heavy\"}}", "moderate");
    expect_fail("{\"restorations\":{\"upscale\":\"x4\"}}", "\"photo\"");
    expect_fail("{\"adjustments\":{\"exposure\":150}}", "-100..100");
    expect_fail("{\"adjustments\":{\"contrast\":\"high\"}}", "adjustments.contrast");
    expect_fail("{\"adjustments\":{\"auto_color\":1}}", "true or false");
    expect_fail("{\"resizing\":{\"width\":\"50 percent\"}}", "resizing.width");
    expect_fail("{\"resizing\":{\"width\":\"900%\"}}", "800");
    expect_fail("{\"resizing\":{\"width\":-5}}", "resizing.width");
    expect_fail("{\"resizing\":{\"fit\":\"squash\"}}", "\"cover\"");
    expect_fail("{\"resizing\":{\"background\":\"red\"}}", "#rrggbb");
    expect_fail("{\"resizing\":{\"fit\":\"cover\",\"width\":10}}", "needs both");
    expect_fail("{\"output\":{\"bit_depth\":12}}", "8 or 16");
    expect_fail("{\"output\":{\"format\":\"bmp\"}}", "output.format");
    expect_fail("{\"auto\":\"yes\"}", "auto");
    expect_fail("[1,2]", "must be an object");
    expect_fail("{\"auto\":true", "does not parse");
    expect_fail("{\"auto\":true,\"auto\":false}", "does not parse");
    expect_fail("{\"restorations\":[]}", "restorations must be an object");
}

static void test_values(void)
{
    enh_ops o;
    enh_error e;
    CHECK(parse("{\"resizing\":{\"width\":\"640px\",\"height\":\"12.5%\"}}", &o, &e) == ENH_OK);
    CHECK(o.width == 640 && o.height_pct == 12.5);
    CHECK(parse("{\"resizing\":{\"background\":[10,20,30,40]}}", &o, &e) == ENH_OK);
    CHECK(o.background[0] == 10 && o.background[3] == 40);
    CHECK(parse("{\"resizing\":{\"background\":\"#abc\"}}", &o, &e) == ENH_OK);
    CHECK(o.background[0] == 0xaa && o.background[2] == 0xcc);
    CHECK(parse("{\"restorations\":{\"decompress\":\"strong\",\"denoise\":true,\"deblur\":false}}", &o, &e) == ENH_OK);
    CHECK(o.decompress == 100 && o.denoise == ENH_AUTO && o.deblur == ENH_OFF);
    CHECK(parse("{\"output\":{\"format\":\"jpg\",\"metadata\":false}}", &o, &e) == ENH_OK);
    CHECK(o.format == ENH_FORMAT_JPEG && o.keep_metadata == 0);
}

/* Every property in the schema is accepted by the parser, and the schema is valid JSON. */
static void test_schema(void)
{
    json_error_t je;
    json_t *s = json_loads(enh_ops_schema_json(), 0, &je);
    CHECK_MSG(s != NULL, "schema does not parse: %s at %d:%d", je.text, je.line, je.column);
    if (!s)
        return;
    CHECK(json_is_false(json_object_get(s, "additionalProperties")));
    json_t *props = json_object_get(s, "properties");
    const char *sec;
    json_t *sv;
    int n = 0;
    json_object_foreach(props, sec, sv) {
        json_t *sp = json_object_get(sv, "properties");
        if (!sp)
            continue;
        const char *k;
        json_t *kv;
        json_object_foreach(sp, k, kv) {
            /* a value the parser must accept: the default or a first valid one */
            const char *val = "\"off\"";
            json_t *def = json_object_get(kv, "default");
            char buf[512];
            char *dv = def ? json_dumps(def, JSON_ENCODE_ANY) : NULL;
            if (!strcmp(k, "white_balance"))
                val = "{}";
            else if (!strcmp(k, "model"))
                val = "\"x\"";
            else if (!strcmp(k, "scale"))
                val = "2";
            else if (!strcmp(k, "width") || !strcmp(k, "height"))
                val = "10";
            else if (!strcmp(k, "quality"))
                val = "80";
            else if (!strcmp(k, "background"))
                val = "\"#000\"";
            else if (dv)
                val = dv;
            snprintf(buf, sizeof buf, "{\"%s\":{\"%s\":%s}}", sec, k, val);
            enh_ops o;
            enh_error e;
            CHECK_MSG(parse(buf, &o, &e) == ENH_OK, "schema property %s rejected: %s", buf, e.msg);
            free(dv);
            n++;
        }
    }
    CHECK_MSG(n >= 25, "only %d properties in the schema", n);
    json_decref(s);
}

int main(void)
{
    test_full_document();
    test_errors();
    test_values();
    test_schema();
    CHECK_MAIN_END();
}
