/* tf_move_avx2.h - AVX2 helpers of the TF runtime's copy kernel. Thread-safe, pure.
 * tf_transpose8x8_avx2: dst[j * dstride + i] = src[i * sstride + j] for i, j < 8. */
#ifndef ENH_NN_TF_MOVE_AVX2_H
#define ENH_NN_TF_MOVE_AVX2_H

void tf_transpose8x8_avx2(const float *src, long sstride, float *dst, long dstride);

#endif
