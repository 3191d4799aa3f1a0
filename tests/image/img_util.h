/* img_util.h - fixtures and comparisons shared by the tests/image executables. */
#ifndef ENH_TESTS_IMG_UTIL_H
#define ENH_TESTS_IMG_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "image/image_init.h"

/* A fresh directory under $TMPDIR (or /tmp) removed by tu_rmdir at the end. */
static inline char *tu_mkdtemp(char *buf, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, n, "%s/enh-img-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(buf);
}

static inline void tu_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        int w = snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (w < 0 || (size_t)w >= sizeof p)
            continue;
        if (unlink(p) != 0)
            tu_rmdir(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Number of entries in dir (except . and ..). */
static inline int tu_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* An asymmetric upright test picture: four flat quadrants split at (w/3, h/4), each
 * a different colour, so every flip/rotation gives a different image. bands 1..4. */
static inline VipsImage *tu_quadrants(int w, int h, int bands)
{
    static const unsigned char col[4][4] = {
        {200, 40, 40, 255}, {40, 180, 60, 255}, {50, 60, 210, 128}, {230, 220, 70, 0}};
    unsigned char *buf = g_malloc((size_t)w * h * bands);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int q = (x >= w / 3) + 2 * (y >= h / 4);
            for (int b = 0; b < bands; b++) {
                unsigned char v = bands <= 2 && b == 0 ? (unsigned char)(40 + 50 * q) : col[q][b];
                if (bands == 2 && b == 1)
                    v = col[q][3];
                buf[((size_t)y * w + x) * bands + b] = v;
            }
        }
    VipsImage *img = vips_image_new_from_memory_copy(buf, (size_t)w * h * bands, w, h, bands, VIPS_FORMAT_UCHAR);
    g_free(buf);
    VipsImage *t = NULL;
    vips_copy(img, &t, "interpretation", bands <= 2 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(img);
    return t;
}

/* A smooth photo-like test picture (gradients + a disc), 8-bit sRGB, 3 bands. */
static inline VipsImage *tu_gradient(int w, int h)
{
    unsigned char *buf = g_malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = buf + ((size_t)y * w + x) * 3;
            double dx = x - w * 0.6, dy = y - h * 0.4;
            int disc = dx * dx + dy * dy < (h * 0.25) * (h * 0.25);
            p[0] = (unsigned char)(disc ? 220 : 30 + 180.0 * x / w);
            p[1] = (unsigned char)(disc ? 120 : 40 + 150.0 * y / h);
            p[2] = (unsigned char)(disc ? 60 : 90 + 60.0 * (x + y) / (w + h));
        }
    VipsImage *img = vips_image_new_from_memory_copy(buf, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR);
    g_free(buf);
    VipsImage *t = NULL;
    vips_copy(img, &t, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(img);
    return t;
}

/* Mean and max absolute difference over all bands; -1 when the sizes/bands differ. */
static inline double tu_diff(VipsImage *a, VipsImage *b, double *maxdiff)
{
    if (maxdiff)
        *maxdiff = -1;
    if (vips_image_get_width(a) != vips_image_get_width(b) || vips_image_get_height(a) != vips_image_get_height(b) ||
        vips_image_get_bands(a) != vips_image_get_bands(b))
        return -1;
    VipsImage *d = NULL, *ad = NULL;
    double mean = -1, mx = -1;
    if (!vips_subtract(a, b, &d, NULL) && !vips_abs(d, &ad, NULL)) {
        vips_avg(ad, &mean, NULL);
        vips_max(ad, &mx, NULL);
    }
    if (d)
        g_object_unref(d);
    if (ad)
        g_object_unref(ad);
    if (maxdiff)
        *maxdiff = mx;
    return mean;
}

/* Pixel value of band b at (x, y). */
static inline double tu_pixel(VipsImage *img, int x, int y, int b)
{
    double *v = NULL;
    int n = 0;
    double r = -1;
    if (!vips_getpoint(img, &v, &n, x, y, NULL) && b < n)
        r = v[b];
    g_free(v);
    return r;
}

static inline long long tu_file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long long n = ftell(f);
    fclose(f);
    return n;
}

static inline int tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    fclose(f);
    return w == len ? 0 : -1;
}

#endif
