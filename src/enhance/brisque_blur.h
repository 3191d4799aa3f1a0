/* brisque_blur.h - the 7-tap separable Gaussian of BRISQUE's MSCN field, in OpenCV's float
 * operation order (fused multiply-adds; see brisque_features.c): a portable reference (fmaf) and
 * an AVX2+FMA twin that gives the same bits (tests/enhance/test_brisque_blur.c compares them).
 *
 * Ownership: buffers are borrowed. Thread-safety: reentrant. Errors: none (w >= 1). */
#ifndef ENH_ENHANCE_BRISQUE_BLUR_H
#define ENH_ENHANCE_BRISQUE_BLUR_H

#define ENH_BRISQUE_TAPS 7

/* Outputs x0 <= x < x1 of a row of width w:
 * row: dst[x] = sum_j k[j] * src[clamp(x + j - 3, 0, w - 1)], a fused chain from 0 in j order;
 * col: dst[x] = r[3][x] k[3], then fused (r[3+j][x] + r[3-j][x]) k[3+j] for j = 1..3. */
typedef void (*enh_brisque_row_fn)(const float *src, int w, const float *k, float *dst, int x0, int x1);
typedef void (*enh_brisque_col_fn)(const float *const *r, const float *k, float *dst, int x0, int x1);

void enh_brisque_row_ref(const float *src, int w, const float *k, float *dst, int x0, int x1);
void enh_brisque_col_ref(const float *const *r, const float *k, float *dst, int x0, int x1);
void enh_brisque_row_avx2(const float *src, int w, const float *k, float *dst, int x0, int x1);
void enh_brisque_col_avx2(const float *const *r, const float *k, float *dst, int x0, int x1);

#endif
