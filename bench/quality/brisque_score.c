/* brisque_score.c - our BRISQUE (src/enhance/brisque.h) on image files, the counterpart of
 * brisque_peer.cpp for bench/quality/brisque.py (built, never run by CTest).
 *
 *   brisque_score [--model M.yml] [--range R.yml] [--features] IMAGE...
 *
 * One line per image: path, score (%.6f), CPU milliseconds of the score (process CPU time; the
 * image is decoded into memory first, as the peer's imread), and with --features the 36
 * features. Images are not rotated by their EXIF orientation (neither does the peer).
 * ENHANCE_KERNELS=ref (or portable) runs the reference blur instead of the AVX2 one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vips/vips.h>

#include "enhance/brisque.h"
#include "nn/cpu.h"
#include "nn/nn_options.h"

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (VIPS_INIT(argv[0]))
        return 2;
    vips_concurrency_set(1);
    const char *kern = getenv("ENHANCE_KERNELS");
    if (kern) {
        enh_nn_options o = *enh_nn_options_default();
        if (enh_isa_parse(kern, &o.kernels)) {
            fprintf(stderr, "brisque_score: ENHANCE_KERNELS=%s: expected ref, portable, avx2, avx512 or auto\n", kern);
            return 1;
        }
        enh_nn_options_set_default(&o);
    }
    const char *model = NULL, *range = NULL;
    int features = 0, first = 1;
    for (; first < argc && !strncmp(argv[first], "--", 2); first++) {
        if (!strcmp(argv[first], "--model") && first + 1 < argc)
            model = argv[++first];
        else if (!strcmp(argv[first], "--range") && first + 1 < argc)
            range = argv[++first];
        else if (!strcmp(argv[first], "--features"))
            features = 1;
        else {
            fprintf(stderr, "usage: brisque_score [--model M.yml] [--range R.yml] [--features] IMAGE...\n");
            return 1;
        }
    }
    enh_error err = {0};
    enh_brisque *b = NULL;
    if (enh_brisque_load(model, range, &b, &err)) {
        fprintf(stderr, "brisque_score: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    for (int i = first; i < argc; i++) {
        VipsImage *f = vips_image_new_from_file(argv[i], NULL), *m = f ? vips_image_copy_memory(f) : NULL;
        if (f)
            g_object_unref(f);
        if (!m) {
            fprintf(stderr, "brisque_score: cannot read %s: %s\n", argv[i], vips_error_buffer());
            vips_error_clear();
            rc = 1;
            continue;
        }
        double score = 0, t0 = cpu_ms();
        enh_status st = enh_brisque_score(b, m, &score, &err);
        double t1 = cpu_ms();
        if (st) {
            fprintf(stderr, "brisque_score: %s: %s\n", argv[i], err.msg);
            printf("%s\tnan\t%.3f", argv[i], t1 - t0);
            rc = 1;
        } else
            printf("%s\t%.6f\t%.3f", argv[i], score, t1 - t0);
        if (features) {
            float fv[ENH_BRISQUE_FEATURES];
            if (enh_brisque_features(m, fv, &err) == ENH_OK)
                for (int j = 0; j < ENH_BRISQUE_FEATURES; j++)
                    printf("%c%.9g", j ? ' ' : '\t', fv[j]);
        }
        printf("\n");
        g_object_unref(m);
    }
    enh_brisque_free(b);
    vips_shutdown();
    return rc;
}
