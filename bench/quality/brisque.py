#!/usr/bin/python3
"""BRISQUE benchmark: our C implementation (src/enhance/brisque.c) against OpenCV's
cv::quality::QualityBRISQUE, and how the score tracks distortion strength.

  brisque.py [--bin B] [--work W] parity        # ours vs OpenCV on every image, and the time per MP
  brisque.py [--bin B] [--work W] correlation   # Spearman of score vs strength, per image
  brisque.py [--work W] peer IMAGE...           # OpenCV's scores (the peer, built on first use)

B: our brisque_score (default build/release/bench/quality/brisque_score; cmake builds it with the
tree). W: where the peer binary and the distorted images go (default .cache/brisque). The peer
(bench/quality/brisque_peer.cpp) needs OpenCV's contrib headers:
  apt-get install --no-install-recommends libopencv-contrib-dev libopencv-dev opencv-data
Run with /usr/bin/python3 (numpy, PIL). Images: ../shared/photos and ../shared/benchdata.

parity: photos, LIVE1, CBSD68, Kodak24, 15 synthetic images with flat areas (made here) and
the distorted images made by `correlation` (when present): per set the largest relative difference |ours - cv| / cv (images OpenCV scores below 1
are counted by their absolute difference instead, printed apart), how many images have all 36
features identical, and the CPU time per megapixel of each side (process CPU time of the score
alone, decode excluded, one thread each; read the load average printed with it).

correlation: JPEG quality 90..10 on LIVE1, Gaussian noise sigma 5..50 on CBSD68 (seed 0) and
Gaussian blur sigma 0.5..5 on Kodak24, all made with ../shared/tools/degrade.py. For each image
the Spearman rank correlation between the distortion strength (100 - q, sigma) and our score over
the levels (ties get average ranks); then the mean, median and minimum over the images, and how
many reach 0.9.
"""
import argparse
import importlib.util
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared')
BENCH = os.path.join(SHARED, 'benchdata')
JPEG_Q = [90, 80, 70, 60, 50, 40, 30, 20, 10]
NOISE = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
BLUR = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0]


def listdir(d, ext=('.png', '.jpg', '.bmp')):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.lower().endswith(ext))


def peer_bin(work):
    src = os.path.join(ROOT, 'bench', 'quality', 'brisque_peer.cpp')
    out = os.path.join(work, 'brisque_peer')
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    try:
        flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'opencv4'], check=True,
                               capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        sys.exit('brisque.py: OpenCV not found by pkg-config; install it with\n'
                 '  apt-get install --no-install-recommends libopencv-contrib-dev libopencv-dev opencv-data')
    os.makedirs(work, exist_ok=True)
    r = subprocess.run(['g++', '-O2', '-o', out, src] + flags, capture_output=True, text=True)
    if r.returncode:
        sys.exit('brisque.py: cannot build the peer (needs libopencv-contrib-dev):\n' + r.stderr[-2000:])
    return out


def run_tool(cmd, images, features=True):
    """{path: (score, cpu_ms, features)} from brisque_score or brisque_peer, in batches."""
    res = {}
    for i in range(0, len(images), 200):
        batch = images[i:i + 200]
        r = subprocess.run(cmd + (['--features'] if features else []) + batch, capture_output=True, text=True)
        for line in r.stdout.splitlines():
            parts = line.split('\t')
            feats = np.array([float(v) for v in parts[3].split()], np.float32) if len(parts) > 3 else None
            res[parts[0]] = (float(parts[1]), float(parts[2]), feats)
        if r.returncode:
            sys.stderr.write(r.stderr[-2000:])
    return res


def megapixels(path):
    from PIL import Image
    with Image.open(path) as im:
        return im.size[0] * im.size[1] / 1e6


# ---- distorted images ----
def degrade_module():
    spec = importlib.util.spec_from_file_location('degrade', os.path.join(SHARED, 'tools', 'degrade.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def degrade(mod, src, dst, args):
    if os.path.exists(dst):
        return
    tmp = dst + '.tmp' + os.path.splitext(dst)[1]  # same extension: degrade.py picks the format by it
    argv = sys.argv
    sys.argv = ['degrade.py', src, tmp] + args
    try:
        mod.main()
    finally:
        sys.argv = argv
    os.replace(tmp, dst)


def distortions(work):
    """{kind: (strengths, {image: [path per level]})}, generating what is missing."""
    mod = degrade_module()
    out = {}
    specs = [('jpeg', 'LIVE1', [100 - q for q in JPEG_Q], lambda q: ['--jpeg', str(100 - q)], '.jpg'),
             ('noise', 'CBSD68', NOISE, lambda s: ['--noise', str(s), '--seed', '0'], '.png'),
             ('blur', 'Kodak24', BLUR, lambda s: ['--blur', str(s)], '.png')]
    for kind, dset, levels, argf, ext in specs:
        d = os.path.join(work, kind)
        os.makedirs(d, exist_ok=True)
        per = {}
        for src in listdir(os.path.join(BENCH, dset)):
            name = os.path.splitext(os.path.basename(src))[0]
            paths = []
            for lv in levels:
                dst = os.path.join(d, '%s_%s%s' % (name, lv, ext))
                degrade(mod, src, dst, argf(lv))
                paths.append(dst)
            per[name] = paths
        out[kind] = (levels, per)
    return out


def flat_images(work):
    """Synthetic images with flat, clipped and two-level areas at odd widths (where OpenCV's NaN
    handling and its vector/scalar boundaries matter), and three without any local contrast."""
    from PIL import Image
    d = os.path.join(work, 'flat')
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(1)
    photo = np.asarray(Image.open(os.path.join(SHARED, 'photos', 'dune.jpg')).convert('RGB'))
    out = []
    for i, (w, h) in enumerate([(64, 48), (333, 257), (517, 389), (1001, 67), (9, 9), (16, 300)]):
        a = np.full((h, w, 3), 128, np.uint8)
        yy, xx = np.mgrid[0:h, 0:w]
        a[:, :w // 2] = rng.normal(128, 20, (h, w // 2, 3)).clip(0, 255).astype(np.uint8)
        band = yy > h * 2 // 3
        a[band] = (xx[band, None] * 255 // max(w - 1, 1)).astype(np.uint8)
        a[:h // 4, w * 3 // 4:] = 255
        b = photo[:h, :w].copy()
        b[h // 3:h // 2] = 0
        for name, img in (('flat%d.png' % i, a), ('part%d.png' % i, b)):
            Image.fromarray(img).save(os.path.join(d, name))
            out.append(os.path.join(d, name))
    step = np.zeros((64, 64, 3), np.uint8)
    step[:, 32:] = 200
    for name, img in (('const.png', np.full((64, 64, 3), 128, np.uint8)), ('white.png', np.full((64, 64, 3), 255, np.uint8)),
                      ('step.png', step)):
        Image.fromarray(img).save(os.path.join(d, name))
        out.append(os.path.join(d, name))
    return out


def spearman(x, y):
    def rank(v):
        v = np.asarray(v, float)
        order = np.argsort(v, kind='mergesort')
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=float)
        for val in np.unique(v):  # ties: average rank
            m = v == val
            r[m] = r[m].mean()
        return r
    rx, ry = rank(x), rank(y)
    rx -= rx.mean()
    ry -= ry.mean()
    den = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / den) if den > 0 else float('nan')


def cmd_correlation(a):
    dist = distortions(a.work)
    print('load average: %.2f %.2f %.2f' % os.getloadavg())
    print('| distortion | images x levels | levels | Spearman mean | median | min | images >= 0.9 |')
    print('|---|---|---|---|---|---|---|')
    for kind, (levels, per) in dist.items():
        allp = [p for ps in per.values() for p in ps]
        ours = run_tool([a.bin], allp, features=False)
        rhos = []
        for name, ps in per.items():
            rhos.append(spearman(levels, [ours[p][0] for p in ps]))
            if a.verbose:
                print(kind, name, '%.3f' % rhos[-1], ' '.join('%.1f' % ours[p][0] for p in ps))
        rh = np.array(rhos)
        print('| %s | %d x %d | %s | %.3f | %.3f | %.3f | %d/%d |' % (
            kind, len(per), len(levels), ','.join(str(v) for v in levels), np.nanmean(rh), np.nanmedian(rh),
            np.nanmin(rh), int((rh >= 0.9).sum()), len(rh)))


def cmd_parity(a):
    peer = peer_bin(a.work)
    sets = [('photos', listdir(os.path.join(SHARED, 'photos'))), ('LIVE1', listdir(os.path.join(BENCH, 'LIVE1'))),
            ('CBSD68', listdir(os.path.join(BENCH, 'CBSD68'))), ('Kodak24', listdir(os.path.join(BENCH, 'Kodak24')))]
    sets.append(('flat', flat_images(a.work)))
    for kind in ('jpeg', 'noise', 'blur'):
        d = os.path.join(a.work, kind)
        if os.path.isdir(d):
            sets.append((kind, [p for p in listdir(d) if '.tmp' not in p]))
    print('load average: %.2f %.2f %.2f' % os.getloadavg())
    print('| set | images | max rel. diff (cv >= 1) | mean rel. diff | max abs. diff (cv < 1) | features identical |'
          ' ms/MP ours | ms/MP OpenCV |')
    print('|---|---|---|---|---|---|---|---|')
    worst, tot = (0, None), [0, 0, 0]
    for name, imgs in sets:
        ours = run_tool([a.bin], imgs)
        cv = run_tool([peer], imgs)
        rel, small, same, t_o, t_c, mp = [], [], 0, 0.0, 0.0, 0.0
        for p in imgs:
            if p not in ours or p not in cv:
                print('missing result for', p)
                continue
            so, sc = ours[p][0], cv[p][0]
            if sc >= 1:
                r = abs(so - sc) / sc
                rel.append(r)
                if r > worst[0]:
                    worst = (r, '%s: ours %.6f OpenCV %.6f' % (p, so, sc))
            else:
                small.append(abs(so - sc))
            fo, fc = ours[p][2], cv[p][2]
            same += fo is not None and fc is not None and np.array_equal(fo, fc, equal_nan=True)
            m = megapixels(p)
            t_o += ours[p][1]
            t_c += cv[p][1]
            mp += m
        tot[0] += t_o
        tot[1] += t_c
        tot[2] += mp
        print('| %s | %d | %.2e | %.2e | %s | %d/%d | %.0f | %.0f |' % (
            name, len(imgs), max(rel) if rel else 0, np.mean(rel) if rel else 0,
            '%.4f (%d images)' % (max(small), len(small)) if small else '-', same, len(imgs), t_o / mp, t_c / mp))
    print('worst relative difference: %.2e (%s)' % worst)
    print('all: %.1f MP, ours %.0f ms/MP, OpenCV %.0f ms/MP, ratio %.2f' % (tot[2], tot[0] / tot[2], tot[1] / tot[2],
                                                                          tot[0] / tot[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bin', default=os.path.join(ROOT, 'build', 'release', 'bench', 'quality', 'brisque_score'))
    ap.add_argument('--work', default=os.path.join(ROOT, '.cache', 'brisque'))
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('cmd', choices=['parity', 'correlation', 'peer'])
    ap.add_argument('images', nargs='*')
    a = ap.parse_args()
    a.work = os.path.abspath(a.work)
    if a.cmd == 'peer':
        os.execv(peer_bin(a.work), [peer_bin(a.work)] + a.images)
    if not os.path.exists(a.bin):
        sys.exit('brisque.py: %s not found; build it (cmake --build build/release --target brisque_score) or '
                 'give --bin' % a.bin)
    {'parity': cmd_parity, 'correlation': cmd_correlation}[a.cmd](a)


if __name__ == '__main__':
    main()
