/* ncnn.h - ncnn model format (.param text + .bin weights) -> graph IR.
 *
 * Supported layers: Input, Split, Noop, Convolution, ConvolutionDepthWise, Deconvolution,
 * DeconvolutionDepthWise, PReLU, ReLU, Clip, Sigmoid, PixelShuffle, Interp, BinaryOp,
 * Eltwise, Concat, Crop, Pooling, InnerProduct. Weight blobs: fp16 (tag 0x01306B47),
 * fp32 (tag 0 or 0x0002C056); bias / PReLU slopes raw fp32. Every byte of the .bin must be
 * consumed. Any malformed, truncated or inconsistent input gives ENH_EINVAL (or
 * ENH_EUNSUPPORTED) with a message naming the layer and the byte offset; the parser never
 * reads out of bounds (it is fuzz-tested).
 * Thread-safety: pure functions. Ownership: *out is a new graph the caller frees.
 */
#ifndef ENH_NN_NCNN_H
#define ENH_NN_NCNN_H

#include <stddef.h>

#include "core/error.h"
#include "nn/graph.h"

/* Parses an in-memory model. param need not be NUL-terminated. Names are used in messages. */
enh_status enh_ncnn_parse(const char *param, size_t param_len, const unsigned char *bin,
                          size_t bin_len, const char *param_name, const char *bin_name,
                          enh_graph **out, enh_error *err);

/* Reads and parses a .param/.bin pair (size limits: 16 MiB param, 2 GiB bin). */
enh_status enh_ncnn_load_files(const char *param_path, const char *bin_path, enh_graph **out,
                               enh_error *err);

#endif
