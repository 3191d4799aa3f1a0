/* test_hostile.c - inputs that must be refused cleanly: an image header claiming
 * 100000x100000 pixels (refused before any big allocation: peak RSS stays small),
 * truncated JPEG/PNG, zero-byte file, text named .jpg, blocked formats (SVG, PPM, FITS,
 * matrix, PDF, libvips native), missing files and directories. */
#include "check.h"
#include "img_util.h"

#include <stdint.h>

#include "core/error.h"
#include "core/mem.h"
#include "image/image_decode.h"
#include "image/image_probe.h"

static char g_dir[512];

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static size_t put_chunk(unsigned char *out, const char *type, const unsigned char *data, uint32_t len)
{
    out[0] = (unsigned char)(len >> 24);
    out[1] = (unsigned char)(len >> 16);
    out[2] = (unsigned char)(len >> 8);
    out[3] = (unsigned char)len;
    memcpy(out + 4, type, 4);
    if (len)
        memcpy(out + 8, data, len);
    uint32_t crc = crc32_of(out + 4, 4 + len);
    out[8 + len] = (unsigned char)(crc >> 24);
    out[9 + len] = (unsigned char)(crc >> 16);
    out[10 + len] = (unsigned char)(crc >> 8);
    out[11 + len] = (unsigned char)crc;
    return 12 + len;
}

/* A PNG whose (valid, CRC-correct) IHDR claims w x h RGB pixels, with a tiny IDAT. */
static size_t huge_png(unsigned char *buf, uint32_t w, uint32_t h)
{
    size_t n = 0;
    memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
    n += 8;
    unsigned char ihdr[13] = {(unsigned char)(w >> 24), (unsigned char)(w >> 16), (unsigned char)(w >> 8),
                              (unsigned char)w,         (unsigned char)(h >> 24), (unsigned char)(h >> 16),
                              (unsigned char)(h >> 8),  (unsigned char)h,         8, 2, 0, 0, 0};
    n += put_chunk(buf + n, "IHDR", ihdr, 13);
    static const unsigned char idat[] = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
    n += put_chunk(buf + n, "IDAT", idat, sizeof idat);
    n += put_chunk(buf + n, "IEND", NULL, 0);
    return n;
}

static void test_huge_header(void)
{
    unsigned char png[128];
    size_t n = huge_png(png, 100000, 100000);
    char path[1024];
    snprintf(path, sizeof path, "%s/huge.png", g_dir);
    CHECK(tu_write(path, png, n) == 0);
    enh_error err = {0};
    enh_image_info info;

    /* `info` (no cap) may describe it: header only */
    CHECK_MSG(enh_image_probe_file(path, 0, &info, &err) == ENH_OK, "%s", err.msg);
    CHECK(info.width == 100000 && info.height == 100000);

    VipsImage *img = NULL;
    enh_status st = enh_image_decode_file(path, ENH_IMAGE_DEFAULT_MAX_PIXELS, &img, NULL, &err);
    CHECK(st == ENH_ETOOBIG);
    CHECK(img == NULL);
    CHECK_MSG(strstr(err.msg, "100000x100000") && strstr(err.msg, "50.0 megapixels") &&
                  strstr(err.msg, "--max-pixels"),
              "message: %s", err.msg);
    st = enh_image_decode_buffer(png, n, ENH_IMAGE_DEFAULT_MAX_PIXELS, &img, NULL, &err);
    CHECK(st == ENH_ETOOBIG);

    /* a tighter cap, exact boundary */
    n = huge_png(png, 100, 100);
    CHECK(enh_image_probe_buffer(png, n, 9999, &info, &err) == ENH_ETOOBIG);
    CHECK(enh_image_probe_buffer(png, n, 10000, &info, &err) == ENH_OK);

    size_t peak = enh_peak_rss_bytes();
    CHECK_MSG(peak > 0 && peak < 200u * 1024 * 1024, "peak RSS %zu MB", peak >> 20);
    printf("peak RSS after the 100000x100000 header: %zu MB\n", peak >> 20);
}

static void expect_refused(const char *name, const void *data, size_t len, enh_status want, const char *needle)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    CHECK(tu_write(path, data, len) == 0);
    enh_error err = {0};
    VipsImage *img = NULL;
    enh_status st = enh_image_decode_file(path, ENH_IMAGE_DEFAULT_MAX_PIXELS, &img, NULL, &err);
    CHECK_MSG(st == want, "%s: status %s (%s)", name, enh_status_name(st), err.msg);
    CHECK(img == NULL);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", name, err.msg, needle);
    CHECK_MSG(strstr(err.msg, name) != NULL, "%s: message '%s' does not name the file", name, err.msg);
    if (img)
        g_object_unref(img);
    /* the same from memory */
    if (len) {
        st = enh_image_decode_buffer(data, len, ENH_IMAGE_DEFAULT_MAX_PIXELS, &img, NULL, &err);
        CHECK_MSG(st == want, "%s (buffer): status %s (%s)", name, enh_status_name(st), err.msg);
        if (img)
            g_object_unref(img);
    }
}

static void test_damaged(void)
{
    VipsImage *g = tu_gradient(200, 150);
    void *jpg = NULL, *png = NULL;
    size_t jlen = 0, plen = 0;
    CHECK(vips_jpegsave_buffer(g, &jpg, &jlen, "Q", 90, NULL) == 0);
    CHECK(vips_pngsave_buffer(g, &png, &plen, NULL) == 0);
    expect_refused("truncated.jpg", jpg, jlen * 6 / 10, ENH_EINVAL, "truncated or damaged");
    expect_refused("truncated.png", png, plen * 6 / 10, ENH_EINVAL, "truncated or damaged");
    /* control: the whole files decode */
    enh_error err = {0};
    VipsImage *img = NULL;
    CHECK(enh_image_decode_buffer(jpg, jlen, 0, &img, NULL, &err) == ENH_OK);
    if (img)
        g_object_unref(img);
    g_free(jpg);
    g_free(png);
    g_object_unref(g);

    expect_refused("empty.jpg", "", 0, ENH_EINVAL, "empty");
    static const char text[] = "This is not a photo, just some text.\nSecond line.\n";
    expect_refused("notes.jpg", text, sizeof text - 1, ENH_EUNSUPPORTED, "text");
    static const unsigned char junk[] = {0x00, 0x13, 0x88, 0xfe, 0x01, 0x02, 0x77, 0x10, 0xaa, 0x55, 0x00, 0x99};
    expect_refused("junk.png", junk, sizeof junk, ENH_EUNSUPPORTED, "unsupported format");
}

static void test_blocked_formats(void)
{
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"20\">"
                              "<rect width=\"20\" height=\"20\" fill=\"red\"/></svg>\n";
    expect_refused("pic.svg", svg, sizeof svg - 1, ENH_EUNSUPPORTED, "SVG");
    static const char ppm[] = "P6\n2 2\n255\n\xff\0\0\0\xff\0\0\0\xff\xff\xff\xff";
    expect_refused("pic.ppm", ppm, sizeof ppm - 1, ENH_EUNSUPPORTED, "PPM");
    static const char mat[] = "2 2\n1 2\n3 4\n";
    expect_refused("pic.mat", mat, sizeof mat - 1, ENH_EUNSUPPORTED, "unsupported format");
    static const char pdf[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    expect_refused("doc.pdf", pdf, sizeof pdf - 1, ENH_EUNSUPPORTED, "PDF");
    char fits[2880];
    memset(fits, ' ', sizeof fits);
    const char *cards[] = {"SIMPLE  =                    T", "BITPIX  =                    8",
                           "NAXIS   =                    2", "NAXIS1  =                    2",
                           "NAXIS2  =                    2", "END"};
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++)
        memcpy(fits + 80 * i, cards[i], strlen(cards[i]));
    expect_refused("sky.fits", fits, sizeof fits, ENH_EUNSUPPORTED, "FITS");

    /* the block holds for direct libvips calls too (e.g. code that bypasses our probe) */
    char ppm_path[1024];
    snprintf(ppm_path, sizeof ppm_path, "%s/pic.ppm", g_dir);
    VipsImage *direct = vips_image_new_from_file(ppm_path, NULL);
    CHECK_MSG(direct == NULL, "libvips still loads PPM directly");
    if (direct)
        g_object_unref(direct);
    vips_error_clear();
    /* matrix files are trusted by libvips itself: only our loader block stops them */
    snprintf(ppm_path, sizeof ppm_path, "%s/pic.mat", g_dir);
    direct = vips_image_new_from_file(ppm_path, NULL);
    CHECK_MSG(direct == NULL, "libvips still loads matrix files directly");
    if (direct)
        g_object_unref(direct);
    vips_error_clear();
    VipsImage *direct_svg = vips_image_new_from_buffer(svg, sizeof svg - 1, "", NULL);
    CHECK_MSG(direct_svg == NULL, "libvips still loads SVG directly");
    if (direct_svg)
        g_object_unref(direct_svg);
    vips_error_clear();

    /* a libvips-native file (trusted by libvips itself, not by us) */
    VipsImage *g = tu_gradient(8, 8);
    char path[1024];
    snprintf(path, sizeof path, "%s/native.v", g_dir);
    CHECK(vips_image_write_to_file(g, path, NULL) == 0);
    enh_error err = {0};
    VipsImage *img = NULL;
    CHECK(enh_image_decode_file(path, 0, &img, NULL, &err) == ENH_EUNSUPPORTED);
    g_object_unref(g);
}

static void test_missing(void)
{
    enh_error err = {0};
    VipsImage *img = NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/does-not-exist.jpg", g_dir);
    CHECK(enh_image_decode_file(path, 0, &img, NULL, &err) == ENH_ENOTFOUND);
    CHECK(strstr(err.msg, "no such file") != NULL);
    CHECK(enh_image_decode_file(g_dir, 0, &img, NULL, &err) == ENH_EINVAL);
    CHECK(strstr(err.msg, "directory") != NULL);
    CHECK(enh_image_decode_buffer(NULL, 0, 0, &img, NULL, &err) == ENH_EINVAL);
    CHECK(img == NULL && strstr(err.msg, "empty") != NULL);
    enh_image_info info;
    CHECK(enh_image_probe_buffer("x", 0, 0, &info, &err) == ENH_EINVAL);
    CHECK(strstr(err.msg, "empty") != NULL);
}

int main(void)
{
    enh_error err = {0};
    CHECK(enh_image_init(&err) == ENH_OK);
    if (!tu_mkdtemp(g_dir, sizeof g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_huge_header(); /* first: the peak RSS check covers the process so far */
    test_damaged();
    test_blocked_formats();
    test_missing();
    tu_rmdir(g_dir);
    CHECK_MAIN_END();
}
