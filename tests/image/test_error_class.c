/* test_error_class.c - hostile files get the right error class: decode memory bounded by
 * bands x sample size x pixels (not pixels alone), a truncated TIFF is "truncated or
 * damaged" (not "not a recognised image"), an output past JPEG's/WebP's size limits is
 * ENH_EUNSUPPORTED naming the limit (not "internal"), and running out of memory while
 * decoding is ENH_ENOMEM (not "damaged file"). */
#include "check.h"
#include "img_util.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "image/image_decode.h"
#include "image/image_encode.h"
#include "image/image_probe.h"

static char g_dir[512];

/* A w x h TIFF of `bands` bands of `fmt` samples (deflate: all-zero data is tiny). */
static void *tiff_of(int w, int h, int bands, VipsBandFormat fmt, size_t *len)
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

static enh_status decode_with_cap(const void *data, size_t len, unsigned long long cap, enh_error *err)
{
    VipsImage *img = NULL;
    enh_status st = enh_image_decode_buffer(data, len, cap, &img, NULL, err);
    if (img)
        g_object_unref(img);
    return st;
}

static void test_decode_budget(void)
{
    enh_error err = {0};
    size_t len = 0;
    /* 100x100 under a 10,000-pixel cap: the budget is 80,000 bytes (4 bands of 16 bits) */
    /* 200 bands: over the budget, and a layout nothing processes: refused as the layout (no
     * cap would help), before decoding; at any cap */
    void *many = tiff_of(100, 100, 200, VIPS_FORMAT_UCHAR, &len); /* 2 MB decoded */
    CHECK(decode_with_cap(many, len, 10000, &err) == ENH_EUNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "200 bands") && !strstr(err.msg, "--max-pixels"), "message: %s", err.msg);
    enh_image_info info;
    CHECK(enh_image_probe_buffer(many, len, 10000, &info, &err) == ENH_EUNSUPPORTED); /* before decoding */
    CHECK(enh_image_probe_buffer(many, len, 0, &info, &err) == ENH_OK && info.bands == 200); /* `info`: no cap */
    CHECK(decode_with_cap(many, len, 250000, &err) == ENH_EUNSUPPORTED);
    g_free(many);

    void *flt = tiff_of(100, 100, 4, VIPS_FORMAT_FLOAT, &len); /* 160 KB decoded */
    CHECK(decode_with_cap(flt, len, 10000, &err) == ENH_ETOOBIG);
    CHECK_MSG(strstr(err.msg, "float") && strstr(err.msg, "--max-pixels 20000"), "message: %s", err.msg);
    CHECK_MSG(decode_with_cap(flt, len, 20000, &err) == ENH_OK, "%s", err.msg); /* the suggested cap works */
    g_free(flt);

    void *rgba16 = tiff_of(100, 100, 4, VIPS_FORMAT_USHORT, &len); /* exactly the budget */
    CHECK_MSG(decode_with_cap(rgba16, len, 10000, &err) == ENH_OK, "%s", err.msg);
    g_free(rgba16);
    void *rgb8 = tiff_of(100, 100, 3, VIPS_FORMAT_UCHAR, &len);
    CHECK_MSG(decode_with_cap(rgb8, len, 10000, &err) == ENH_OK, "%s", err.msg);
    CHECK(decode_with_cap(rgb8, len, 9999, &err) == ENH_ETOOBIG); /* the pixel cap itself */
    g_free(rgb8);
}

static void test_truncated_tiff(void)
{
    VipsImage *g = tu_gradient(200, 150);
    void *tif = NULL;
    size_t len = 0;
    CHECK(vips_tiffsave_buffer(g, &tif, &len, NULL) == 0);
    g_object_unref(g);
    size_t cuts[] = {8, 100, len * 6 / 10, len - 10};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        enh_error err = {0};
        enh_status st = decode_with_cap(tif, cuts[i], 0, &err);
        CHECK_MSG(st == ENH_EINVAL, "cut at %zu: %s (%s)", cuts[i], enh_status_name(st), err.msg);
        CHECK_MSG(strstr(err.msg, "truncated or damaged") || strstr(err.msg, "damaged"), "cut at %zu: %s", cuts[i],
                  err.msg);
        CHECK_MSG(!strstr(err.msg, "not a recognised image"), "cut at %zu: %s", cuts[i], err.msg);
    }
    enh_error err = {0};
    CHECK(decode_with_cap(tif, len, 0, &err) == ENH_OK); /* control */
    g_free(tif);
}

static void test_encoder_limits(void)
{
    enh_error err = {0};
    CHECK(enh_image_check_encodable(ENH_FORMAT_JPEG, 128, 65500, &err) == ENH_OK);
    CHECK(enh_image_check_encodable(ENH_FORMAT_JPEG, 128, 66000, &err) == ENH_EUNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "65500") && strstr(err.msg, "JPEG") && strstr(err.msg, "another format"), "%s",
              err.msg);
    CHECK(enh_image_check_encodable(ENH_FORMAT_PNG, 128, 66000, &err) == ENH_OK);
    CHECK(enh_image_check_encodable(ENH_FORMAT_WEBP, 16384, 8, &err) == ENH_EUNSUPPORTED);
    CHECK(strstr(err.msg, "16383") != NULL);

    /* through the encoder: refused before libvips runs (it would say "internal") */
    VipsImage *b = NULL;
    CHECK(vips_black(&b, 8, 16400, "bands", 3, NULL) == 0);
    VipsImage *u = NULL;
    CHECK(vips_cast(b, &u, VIPS_FORMAT_UCHAR, NULL) == 0);
    enh_save_opts o;
    enh_save_opts_init(&o);
    o.format = ENH_FORMAT_WEBP;
    void *data = NULL;
    size_t len = 0;
    CHECK(enh_image_save_buffer(u, &o, &data, &len, &err) == ENH_EUNSUPPORTED);
    CHECK(data == NULL && strstr(err.msg, "WebP") != NULL);
    o.format = ENH_FORMAT_PNG;
    CHECK_MSG(enh_image_save_buffer(u, &o, &data, &len, &err) == ENH_OK, "%s", err.msg);
    g_free(data);
    g_object_unref(u);
    g_object_unref(b);
}

/* Out of memory while decoding: a child process under an address-space limit decodes a PNG
 * whose pixels do not fit. Sanitizers reserve terabytes of address space, so not there. */
static void test_out_of_memory(void)
{
#if defined(__SANITIZE_ADDRESS__)
    printf("out-of-memory decode: skipped under AddressSanitizer\n");
#else
    VipsImage *b = NULL, *u = NULL;
    void *png = NULL;
    size_t len = 0;
    CHECK(vips_black(&b, 6000, 6000, "bands", 3, NULL) == 0);
    CHECK(vips_cast(b, &u, VIPS_FORMAT_UCHAR, NULL) == 0);
    CHECK(vips_pngsave_buffer(u, &png, &len, "compression", 1, NULL) == 0); /* 108 MB decoded */
    g_object_unref(u);
    g_object_unref(b);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long vm_kb = 0;
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "VmSize: %ld", &vm_kb) == 1)
                break;
        if (f)
            fclose(f);
        struct rlimit rl = {(rlim_t)(vm_kb + 48 * 1024) * 1024, (rlim_t)(vm_kb + 48 * 1024) * 1024};
        setrlimit(RLIMIT_AS, &rl);
        enh_error err = {0};
        enh_status st = decode_with_cap(png, len, 0, &err);
        printf("decode under a %ld MB address-space limit: %s (%s)\n", (vm_kb >> 10) + 48, enh_status_name(st),
               err.msg);
        fflush(stdout);
        _exit(st == ENH_ENOMEM ? 0 : 1);
    }
    int ws = 0;
    CHECK(waitpid(pid, &ws, 0) == pid);
    CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "the child did not report ENH_ENOMEM (status %d)", ws);
    g_free(png);
#endif
}

int main(void)
{
    enh_error err = {0};
    CHECK(enh_image_init(&err) == ENH_OK);
    if (!tu_mkdtemp(g_dir, sizeof g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_decode_budget();
    test_truncated_tiff();
    test_encoder_limits();
    test_out_of_memory();
    tu_rmdir(g_dir);
    CHECK_MAIN_END();
}
