/* test_brisque_blur.c - BRISQUE's 7-tap Gaussian: the AVX2+FMA filters give the reference's bits
 * (brisque_blur.h) on random rows of every width from 1 to 80 and a long one, for whole rows and
 * sub-ranges; skipped (77) on CPUs without AVX2/FMA. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../xorshift.h"
#include "enhance/brisque_blur.h"
#include "nn/cpu.h"

int main(void)
{
    const enh_cpu_features *f = enh_cpu_get();
    if (!f->avx2 || !f->fma) {
        printf("SKIP: no AVX2/FMA on this CPU\n");
        return 77;
    }
    uint64_t rng = 12345;
    const float k[ENH_BRISQUE_TAPS] = {1.256020088e-02f, 7.882796228e-02f, 2.372960746e-01f, 3.426315188e-01f,
                                       2.372960746e-01f, 7.882796228e-02f, 1.256020088e-02f};
    enum { MAXW = 1003 };
    float *rows = malloc(sizeof(float) * 7 * MAXW), *a = malloc(sizeof(float) * MAXW), *b = malloc(sizeof(float) * MAXW);
    for (int w = 1; w <= MAXW; w = w < 80 ? w + 1 : MAXW + (w == MAXW)) {
        for (int i = 0; i < 7 * w; i++) /* grey values as BRISQUE sees them, some flat runs */
            rows[i] = (i / 5) % 3 ? (float)(int)(xorshift_unit(&rng) * 256) / 255.0f : 0.5f;
        const float *r[7];
        for (int j = 0; j < 7; j++)
            r[j] = rows + (size_t)j * w;
        int ranges[3][2] = {{0, w}, {w / 3, w - w / 4}, {w / 2, w / 2 + 1 <= w ? w / 2 + 1 : w}};
        for (int q = 0; q < 3; q++) {
            int x0 = ranges[q][0], x1 = ranges[q][1];
            memset(a, 0, sizeof(float) * w);
            memset(b, 0, sizeof(float) * w);
            enh_brisque_row_ref(rows, w, k, a, x0, x1);
            enh_brisque_row_avx2(rows, w, k, b, x0, x1);
            CHECK_MSG(!memcmp(a, b, sizeof(float) * w), "row w=%d [%d,%d)", w, x0, x1);
            memset(a, 0, sizeof(float) * w);
            memset(b, 0, sizeof(float) * w);
            enh_brisque_col_ref(r, k, a, x0, x1);
            enh_brisque_col_avx2(r, k, b, x0, x1);
            CHECK_MSG(!memcmp(a, b, sizeof(float) * w), "col w=%d [%d,%d)", w, x0, x1);
        }
        if (w == MAXW)
            break;
    }
    free(rows), free(a), free(b);
    CHECK_MAIN_END();
}
