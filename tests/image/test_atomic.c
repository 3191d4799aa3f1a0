/* test_atomic.c - output files are all-or-nothing: a failing or cancelled encode leaves
 * neither the destination nor a temporary file, and an existing destination survives a
 * failed overwrite untouched. A write the system refuses (here: a file size limit, EFBIG, as
 * a full disk gives ENOSPC) is ENH_EIO with the system's reason, in every output format. */
#include "check.h"
#include "img_util.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/error.h"
#include "image/image_encode.h"

static char g_dir[512];

static VipsImage *lazy_broken_image(void)
{
    /* a truncated JPEG opened lazily: the header is fine, the pixels fail mid-way */
    VipsImage *g = tu_gradient(400, 300);
    void *jpg = NULL;
    size_t len = 0;
    vips_jpegsave_buffer(g, &jpg, &len, NULL);
    g_object_unref(g);
    char path[1024];
    snprintf(path, sizeof path, "%s/src/broken.jpg", g_dir);
    tu_write(path, jpg, len / 2);
    g_free(jpg);
    return vips_image_new_from_file(path, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
}

typedef struct {
    atomic_int *cancel;
    int calls;
} cancel_ctx;

static void cancel_on_progress(void *user, double f)
{
    (void)f;
    cancel_ctx *c = user;
    c->calls++;
    atomic_store(c->cancel, 1);
}

int main(void)
{
    enh_error err = {0};
    CHECK(enh_image_init(&err) == ENH_OK);
    if (!tu_mkdtemp(g_dir, sizeof g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    char src_dir[1024], out_dir[1024], path[1200];
    snprintf(src_dir, sizeof src_dir, "%s/src", g_dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", g_dir);
    mkdir(src_dir, 0755);
    mkdir(out_dir, 0755);
    snprintf(path, sizeof path, "%s/result.png", out_dir);

    enh_save_opts o;
    enh_save_opts_init(&o);
    o.format = ENH_FORMAT_PNG;

    /* 1. the pixels fail half-way: no file, no temporary */
    VipsImage *broken = lazy_broken_image();
    CHECK(broken != NULL);
    if (broken) {
        enh_status st = enh_image_save_file(broken, path, &o, &err);
        CHECK_MSG(st != ENH_OK, "saving a broken image succeeded");
        CHECK_MSG(tu_count_entries(out_dir) == 0, "%d files left after a failed encode", tu_count_entries(out_dir));
    }

    /* 2. a good save leaves exactly the destination */
    VipsImage *good = tu_gradient(64, 48);
    CHECK(enh_image_save_file(good, path, &o, &err) == ENH_OK);
    CHECK(tu_count_entries(out_dir) == 1);
    long long size_before = tu_file_size(path);
    CHECK(size_before > 0);

    /* 3. a failed overwrite keeps the old file intact */
    if (broken) {
        CHECK(enh_image_save_file(broken, path, &o, &err) != ENH_OK);
        CHECK(tu_count_entries(out_dir) == 1);
        CHECK(tu_file_size(path) == size_before);
        VipsImage *still = vips_image_new_from_file(path, NULL);
        CHECK(still != NULL);
        if (still) {
            CHECK(tu_diff(good, still, NULL) == 0);
            g_object_unref(still);
        }
        g_object_unref(broken);
    }

    /* 4. an option error is caught before any file is created */
    o.format = ENH_FORMAT_JPEG;
    o.bit_depth = 16;
    snprintf(path, sizeof path, "%s/deep.jpg", out_dir);
    CHECK(enh_image_save_file(good, path, &o, &err) == ENH_EINVAL);
    CHECK(tu_count_entries(out_dir) == 1);
    o.bit_depth = 0;

    /* 5. cancelled while encoding (progress callback raises the flag) */
    atomic_int cancel = 0;
    cancel_ctx cc = {&cancel, 0};
    VipsImage *big = NULL, *xyz = NULL;
    vips_xyz(&xyz, 2000, 2000, NULL);
    vips_cast(xyz, &big, VIPS_FORMAT_UCHAR, NULL);
    o.format = ENH_FORMAT_PNG;
    o.cancel = &cancel;
    o.progress = cancel_on_progress;
    o.progress_user = &cc;
    snprintf(path, sizeof path, "%s/big.png", out_dir);
    enh_status st = enh_image_save_file(big, path, &o, &err);
    CHECK_MSG(st == ENH_ECANCELLED, "cancel gave %s (%s), %d progress calls", enh_status_name(st), err.msg, cc.calls);
    CHECK_MSG(tu_count_entries(out_dir) == 1, "%d files after a cancelled encode", tu_count_entries(out_dir));
    /* the same to memory */
    atomic_store(&cancel, 0);
    void *buf = NULL;
    size_t len = 0;
    st = enh_image_save_buffer(big, &o, &buf, &len, &err);
    CHECK(st == ENH_ECANCELLED && buf == NULL);
    g_object_unref(xyz);
    g_object_unref(big);

    /* 6. a missing directory is an I/O error and creates nothing */
    o.cancel = NULL;
    o.progress = NULL;
    snprintf(path, sizeof path, "%s/no/such/dir/x.png", g_dir);
    CHECK(enh_image_save_file(good, path, &o, &err) == ENH_EIO);

    /* 7. the system refuses the write: ENH_EIO by its errno, whatever the encoder's words */
    VipsImage *noisy = NULL, *nz = NULL;
    vips_gaussnoise(&nz, 600, 400, "sigma", 60.0, NULL);
    vips_cast(nz, &noisy, VIPS_FORMAT_UCHAR, NULL);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 20000; /* bytes: the noise needs far more in any format */
    signal(SIGXFSZ, SIG_IGN);
    static const enh_format fmts[] = {ENH_FORMAT_JPEG, ENH_FORMAT_PNG, ENH_FORMAT_WEBP, ENH_FORMAT_TIFF};
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        enh_save_opts_init(&o);
        o.format = fmts[k];
        o.quality = 95;
        snprintf(path, sizeof path, "%s/limited.%d", out_dir, (int)k);
        CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
        st = enh_image_save_file(noisy, path, &o, &err);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK_MSG(st == ENH_EIO && strstr(err.msg, "too large"), "format %d: %s (%s)", (int)fmts[k],
                  enh_status_name(st), err.msg);
        CHECK_MSG(tu_count_entries(out_dir) == 1, "%d files after a refused write", tu_count_entries(out_dir));
    }
    /* and without the limit the same saves work (the target reads and seeks too: TIFF) */
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        enh_save_opts_init(&o);
        o.format = fmts[k];
        snprintf(path, sizeof path, "%s/unlimited.%d", out_dir, (int)k);
        CHECK_MSG(enh_image_save_file(noisy, path, &o, &err) == ENH_OK, "format %d: %s", (int)fmts[k], err.msg);
        VipsImage *back = vips_image_new_from_file(path, NULL);
        CHECK(back && vips_image_get_width(back) == 600 && vips_image_get_height(back) == 400);
        if (back)
            g_object_unref(back);
    }
    g_object_unref(nz);
    g_object_unref(noisy);
    g_object_unref(good);

    tu_rmdir(g_dir);
    CHECK_MAIN_END();
}
