/* test_hostile_layout.c - images whose layout nothing processes get a 422 naming the layout and
 * a way to convert it, before any pixel is decoded; accepted layouts still work. Every file is
 * made here with libvips: a 5-band TIFF, float grey (1 and 2 bands), complex samples, 32-bit
 * integers, 200 bands (the 997 MB file at a tenth of the side); and the decode budget's
 * 413 for 4 bands of float over it (the 968 MB file, with the cap scaled down).
 * Runs test_hostile_layout SERVER_CMD... */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <vips/vips.h>

#include "../check.h"
#include "../serve/serve_test.h"

static void *tiff(int w, int h, int bands, VipsBandFormat fmt, size_t *len)
{
    VipsImage *b = NULL, *c = NULL;
    void *buf = NULL;
    CHECK(vips_black(&b, w, h, "bands", bands, NULL) == 0);
    CHECK(vips_cast(b, &c, fmt, NULL) == 0);
    CHECK(vips_tiffsave_buffer(c, &buf, len, "compression", VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE, NULL) == 0);
    g_object_unref(c);
    g_object_unref(b);
    return buf;
}

static void expect(const test_server *s, int w, int h, int bands, VipsBandFormat fmt, long code, const char *type,
                   const char *part)
{
    size_t len = 0;
    void *t = tiff(w, h, bands, fmt, &len);
    const char *hdr[] = {"Content-Type: image/tiff", NULL};
    http_resp r;
    http_do("POST", url(s, "/v1/enhance?format=png"), t, len, hdr, 30, &r);
    const char *name = vips_enum_nick(VIPS_TYPE_BAND_FORMAT, fmt);
    if (code == 200)
        CHECK_MSG(r.status == 200, "%dx%d, %d bands of %s: %ld %.300s", w, h, bands, name, r.status,
                  r.body ? r.body : "");
    else
        CHECK_MSG(error_is(&r, code, type, part), "%dx%d, %d bands of %s: want %ld %s '%s'", w, h, bands, name, code,
                  type, part);
    if (code == 422)
        CHECK_MSG(r.body && strstr(r.body, "convert it first") && strstr(r.body, "vips "), "no suggestion: %.300s",
                  r.body ? r.body : "");
    http_resp_free(&r);
    g_free(t);
}

int main(int argc, char **argv)
{
    int rc = serve_test_setup(argc, argv);
    if (rc)
        return rc;
    char models[96];
    snprintf(models, sizeof models, "%s/models", g_tmp);
    CHECK(mkdir(models, 0700) == 0);
    setenv("ENHANCE_MODELS_DIR", models, 1);
    test_server s;
    /* a cap a hundredth of the default: the files at a tenth of the side */
    const char *args[] = {"--log-level", "warn", "--max-pixels", "500000", NULL};
    if (test_server_start(&s, g_cmd, args) != 0 || test_server_wait_ready(&s, 30) != 0) {
        CHECK_MSG(0, "the server did not start");
    } else {
        expect(&s, 64, 64, 5, VIPS_FORMAT_UCHAR, 422, "unprocessable", "5 bands of uchar");
        expect(&s, 64, 64, 5, VIPS_FORMAT_USHORT, 422, "unprocessable", "5 bands of ushort");
        expect(&s, 64, 64, 2, VIPS_FORMAT_FLOAT, 422, "unprocessable", "2 bands of float");
        expect(&s, 64, 64, 1, VIPS_FORMAT_FLOAT, 422, "unprocessable", "float grey");
        expect(&s, 64, 64, 1, VIPS_FORMAT_INT, 422, "unprocessable", "32-bit integer");
        expect(&s, 64, 64, 3, VIPS_FORMAT_UINT, 422, "unprocessable", "32-bit integer");
        expect(&s, 64, 64, 3, VIPS_FORMAT_COMPLEX, 422, "unprocessable", "complex");
        expect(&s, 200, 200, 200, VIPS_FORMAT_UCHAR, 422, "unprocessable", "200 bands");
        expect(&s, 700, 700, 4, VIPS_FORMAT_FLOAT, 413, "too_large", "4 bands of float");
        /* what can be processed still is */
        expect(&s, 64, 64, 3, VIPS_FORMAT_FLOAT, 200, NULL, NULL);
        expect(&s, 64, 64, 4, VIPS_FORMAT_USHORT, 200, NULL, NULL);
        expect(&s, 64, 64, 2, VIPS_FORMAT_UCHAR, 200, NULL, NULL);
        expect(&s, 64, 64, 1, VIPS_FORMAT_SHORT, 200, NULL, NULL);
        CHECK(test_server_wait_exit(&s, SIGTERM, 20) == 0);
    }
    serve_test_teardown();
    CHECK_MAIN_END();
}
