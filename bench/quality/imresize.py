#!/usr/bin/python3
"""A numpy port of MATLAB's imresize(A, scale, 'bicubic') (antialiasing on), for the SR benchmark.

  imresize.py IN.png OUT.png SCALE      e.g. 0.25 to make a x4 LR image the MATLAB way
  imresize.py --check SET5_DIR LR_DIR   reproduce Set5_LR_bicubic/X{2,3,4} bit-exactly

What MATLAB does (imresize.m, contributions/cubic), mirrored here:
- output size ceil(in * scale); output pixel u (1-based) samples input x = u/scale + 0.5*(1 - 1/scale)
- kernel: Keys cubic convolution with a = -0.5; when reducing (scale < 1) it is stretched,
  h(t) = scale * k(scale * t), and its width becomes 4/scale (antialiasing)
- taps: left = floor(x - width/2), ceil(width) + 2 of them, weights h(x - j) normalised to sum 1
- borders: out-of-range indices mirrored symmetrically (0 -> 1, -1 -> 2, n+1 -> n; 1-based)
- one dimension at a time, the smaller scale first (equal scales: rows/height first); for uint8
  input every pass rounds half away from zero and clamps to 0..255 (uint8 between the passes).
Pure function of its inputs; no state.
"""
import math, sys
import numpy as np


def cubic(t):
    t = np.abs(t)
    t2, t3 = t * t, t * t * t
    return ((1.5 * t3 - 2.5 * t2 + 1) * (t <= 1) +
            (-0.5 * t3 + 2.5 * t2 - 4 * t + 2) * ((t > 1) & (t <= 2)))


def contributions(in_len, out_len, scale):
    """(indices, weights): out_len x taps, 0-based indices into the input."""
    width = 4.0
    if scale < 1:
        kernel = lambda t: scale * cubic(scale * t)
        width = width / scale
    else:
        kernel = cubic
    u = np.arange(1, out_len + 1, dtype=np.float64)
    x = u / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(x - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]        # 1-based
    w = kernel(x[:, None] - idx)
    w = w / w.sum(axis=1, keepdims=True)
    aux = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])  # symmetric mirror
    idx = aux[np.mod(idx.astype(np.int64) - 1, len(aux))]
    return idx, w


def resize_axis(a, axis, out_len, scale, is_uint8):
    idx, w = contributions(a.shape[axis], out_len, scale)
    a = np.moveaxis(a.astype(np.float64), axis, 0)
    out = np.einsum('ot,ot...->o...', w, a[idx])
    out = np.moveaxis(out, 0, axis)
    if is_uint8:  # MATLAB: round half away from zero, saturate
        out = np.clip(np.sign(out) * np.floor(np.abs(out) + 0.5), 0, 255)
    return out


def imresize(a, scale):
    """a: HxW or HxWxC array (uint8 rounds between passes, float stays float); scale > 0."""
    is_uint8 = a.dtype == np.uint8
    out = a
    for axis in (0, 1):  # equal scales: height first (MATLAB sorts the scales, stable)
        out = resize_axis(out, axis, int(math.ceil(a.shape[axis] * scale)), scale, is_uint8)
    return out.astype(np.uint8) if is_uint8 else out


def modcrop(a, s):
    h, w = a.shape[:2]
    return a[:h - h % s, :w - w % s]


def _check(hr_dir, lr_dir):
    import glob, os
    from PIL import Image
    bad = 0
    for s in (2, 3, 4):
        for f in sorted(glob.glob(os.path.join(hr_dir, '*.png'))):
            name = os.path.splitext(os.path.basename(f))[0]
            hr = modcrop(np.asarray(Image.open(f).convert('RGB')), s)
            ref = np.asarray(Image.open(os.path.join(lr_dir, 'X%d' % s, '%sx%d.png' % (name, s))).convert('RGB'))
            lr = imresize(hr, 1.0 / s)
            n = int(np.count_nonzero(lr.astype(int) != ref)) if lr.shape == ref.shape else -1
            bad += n != 0
            print('x%d %-10s %s' % (s, name, 'bit-exact' if n == 0 else '%d values differ' % n))
    return bad


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--check':
        sys.exit(1 if _check(sys.argv[2], sys.argv[3]) else 0)
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    from PIL import Image
    im = Image.open(sys.argv[1])
    a = np.asarray(im if im.mode == 'L' else im.convert('RGB'))
    Image.fromarray(imresize(a, float(sys.argv[3]))).save(sys.argv[2])
