#!/usr/bin/python3
"""Quality benchmark for restorations, adjustments and auto mode.

  run.py [--bin PATH] [--work DIR] [--limit N] SUITE...

Suites:
  assess    one synthetic degradation per photo (shared/photos + the first Kodak24 images): blur
            sigma 1.5/3, JPEG q 10/30, noise sigma 10/30, exposure x0.2/0.4, colour casts with gains
            in 0.75..1.3; prints how often the dominant degradation is named correctly (target 90%)
  clean     auto mode on the clean originals: SSIM (Y) against the input (target >= 0.98)
  cast      auto_color on casts: mean |a*|,|b*| error against the original, before/after (target: cut 70%)
  exposure  auto_exposure on x0.25: mean L* against the original, SSIM before/after
  jpeg      LIVE1 Y channel at q 10/20/30/40 (DnCNN-3 protocol) ours vs JPEG vs AR-CNN/DnCNN-3
  denoise   CBSD68 (all 68) sigma 15/25, RGB PSNR on the whole image: ours vs the noisy input vs published CBM3D
  sr        Set5/Set14/B100 x2/x3/x4 from LR made with MATLAB imresize (imresize.py, bit-exact on
            Set5_LR_bicubic): upscale=resample with --kernel cubic must match the published bicubic
            PSNRs within 0.05 dB (Y BT.601 rounded, grey images as their own Y, shave = scale);
            --sr-methods resample,photo,quality prints the AI upscalers beside (quality: Set5/Set14
            only; x4 only unless --sr-all-scales: x2/x3 = model x4, then reduced with --kernel)
Uses ../shared/tools/degrade.py and metrics.py (Debian /usr/bin/python3 with numpy + PIL). Images and
results go under --work (default .cache/quality); nothing is written into the repository.
"""
import argparse, glob, io, json, math, os, subprocess, sys, time
import numpy as np
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
if not os.path.isdir(SHARED):
    SHARED = '/work/shared'
TOOLS = os.path.join(SHARED, 'tools')
sys.path.insert(0, TOOLS)
import metrics as M  # noqa: E402  (PSNR/SSIM exactly as the papers)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imresize as IR  # noqa: E402  (MATLAB imresize bicubic, numpy port)

def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

def degrade(src, dst, *args):
    if not os.path.exists(dst):
        sh(['/usr/bin/python3', os.path.join(TOOLS, 'degrade.py'), src, dst, *map(str, args)])
    return dst

def srgb_to_linear(s): return np.where(s <= 0.04045, s / 12.92, ((s + 0.055) / 1.055) ** 2.4)

def lab(path):
    a = np.asarray(Image.open(path).convert('RGB')).astype(np.float64) / 255
    l = srgb_to_linear(a)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
    xyz = l @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)

def y_ssim(a, b):
    ya, yb = M.to_y(M.load(a)), M.to_y(M.load(b))
    return M.psnr(ya, yb), M.ssim(ya, yb)

class Bench:
    def __init__(self, o):
        self.bin = o.bin
        self.work = o.work
        self.limit = o.limit
        self.sr_sets, self.sr_methods, self.sr_kernel = o.sr_sets, o.sr_methods, o.kernel
        self.sr_all_scales = o.sr_all_scales
        self.reuse = o.reuse
        os.makedirs(self.work, exist_ok=True)

    def path(self, *p):
        d = os.path.join(self.work, *p[:-1])
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, p[-1])

    def photos(self):
        return sorted(glob.glob(os.path.join(SHARED, 'photos', '*.jpg')))

    def kodak(self, n):
        return sorted(glob.glob(os.path.join(SHARED, 'benchdata', 'Kodak24', '*.png')))[:n]

    def clean_png(self, src):
        """Clean originals as PNG (photos are JPEG files; degrade.py reads them directly)."""
        dst = self.path('clean', os.path.splitext(os.path.basename(src))[0] + '.png')
        if not os.path.exists(dst):
            Image.open(src).convert('RGB').save(dst)
        return dst

    def assess(self, files):
        out = sh([self.bin, 'assess', *files]).stdout
        return [json.loads(l) for l in out.splitlines() if l.strip()]

    def run(self, src, dst, ops):
        r = subprocess.run([self.bin, 'run', src, dst, json.dumps(ops)], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError('%s: %s' % (src, r.stderr.strip()))
        return r.stderr

    # ---- suites ----
    CASES = [('blur', ['--blur', 1.5]), ('blur', ['--blur', 3]), ('jpeg', ['--jpeg', 10]), ('jpeg', ['--jpeg', 30]),
             ('noise', ['--noise', 10]), ('noise', ['--noise', 30]), ('underexposed', ['--dark', 0.2]),
             ('underexposed', ['--dark', 0.4]), ('colour_cast', ['--cast', '1.3,1.0,0.75']),
             ('colour_cast', ['--cast', '0.75,1.0,1.3']), ('colour_cast', ['--cast', '1.0,1.3,1.0']),
             ('colour_cast', ['--cast', '1.3,0.75,1.3'])]

    def sources(self):
        src = self.photos() + self.kodak(8)
        return src[:self.limit] if self.limit else src

    def suite_assess(self):
        rows, files = [], []
        for src in self.sources():
            name = os.path.splitext(os.path.basename(src))[0]
            for i, (want, args) in enumerate(self.CASES):
                dst = degrade(src, self.path('degraded', '%s_%d.png' % (name, i)), *args)
                files.append(dst)
                rows.append((name, want, ' '.join(map(str, args))))
        res = self.assess(files)
        per = {}
        for (name, want, args), r in zip(rows, res):
            ok = r['dominant'] == want
            per.setdefault(want, [0, 0])
            per[want][0] += ok
            per[want][1] += 1
            if not ok:
                print('  miss %-14s %-20s -> %-13s blur %.3f q %d noise %.1f ev %.2f cast %.1f' %
                      (name, args, r['dominant'], r['blur'], r['jpeg_quality'], r['noise'], r['ev'], r['cast_chroma']))
        good = sum(v[0] for v in per.values()); total = sum(v[1] for v in per.values())
        print('assess: dominant degradation named correctly in %d/%d = %.1f%% (target 90%%)' % (good, total, 100.0 * good / total))
        for k, v in per.items():
            print('  %-13s %d/%d' % (k, v[0], v[1]))
        clean = self.assess([self.clean_png(s) for s in self.sources()])
        nc = sum(r['dominant'] == 'none' for r in clean)
        print('  clean originals named "none": %d/%d (%s)' % (nc, len(clean), ', '.join(
            '%s=%s' % (os.path.basename(r['file'])[:-4], r['dominant']) for r in clean if r['dominant'] != 'none')))

    def suite_clean(self):
        worst = 1.0
        for src in self.sources():
            c = self.clean_png(src)
            out = self.path('clean_auto', os.path.basename(c))
            self.run(c, out, {'auto': True})
            p, s = y_ssim(c, out)
            worst = min(worst, s)
            print('  %-16s auto vs input: PSNR %6.2f dB SSIM %.4f' % (os.path.basename(c), p, s))
        print('clean: worst SSIM %.4f (target >= 0.98) -> %s' % (worst, 'PASS' if worst >= 0.98 else 'FAIL'))

    def suite_cast(self):
        before, after = [], []
        for src in self.sources():
            c = self.clean_png(src)
            ref = lab(c)
            name = os.path.splitext(os.path.basename(c))[0]
            for i, g in enumerate(['1.3,1.0,0.75', '0.75,1.0,1.3', '1.0,1.3,1.0', '1.3,0.75,1.3']):
                d = degrade(src, self.path('cast', '%s_%d.png' % (name, i)), '--cast', g)
                o = self.path('cast_out', '%s_%d.png' % (name, i))
                self.run(d, o, {'adjustments': {'auto_color': True}})
                e0 = np.mean(np.abs(lab(d)[..., 1:] - ref[..., 1:]))
                e1 = np.mean(np.abs(lab(o)[..., 1:] - ref[..., 1:]))
                before.append(e0); after.append(e1)
                print('  %-10s gains %-13s |a*b*| error %.2f -> %.2f' % (name, g, e0, e1))
        cut = 1 - np.mean(after) / np.mean(before)
        print('cast: mean |a*|,|b*| error %.2f -> %.2f, cut %.0f%% (target 70%%)' % (np.mean(before), np.mean(after), 100 * cut))

    def suite_exposure(self):
        for src in self.sources():
            c = self.clean_png(src)
            name = os.path.splitext(os.path.basename(c))[0]
            d = degrade(src, self.path('dark', name + '.png'), '--dark', 0.25)
            o = self.path('dark_out', name + '.png')
            self.run(d, o, {'adjustments': {'auto_exposure': True}})
            l0, ld, lo = lab(c)[..., 0].mean(), lab(d)[..., 0].mean(), lab(o)[..., 0].mean()
            s0, s1 = y_ssim(c, d)[1], y_ssim(c, o)[1]
            print('  %-14s mean L* orig %.1f dark %.1f ours %.1f (%+.0f%%)  SSIM %.3f -> %.3f %s' %
                  (name, l0, ld, lo, 100 * (lo - l0) / l0, s0, s1,
                   'ok' if abs(lo - l0) <= 0.1 * l0 and s1 > s0 else 'MISS'))

    def suite_jpeg(self):
        pub = {10: (27.77, 28.96, 29.19), 20: (30.07, 31.29, 31.59), 30: (31.41, 32.67, 32.98), 40: (32.35, 33.63, 33.96)}
        files = sorted(glob.glob(os.path.join(SHARED, 'benchdata', 'LIVE1', '*.png')))
        if self.limit:
            files = files[:self.limit]
        print('jpeg (LIVE1 Y, %d images): q  JPEG-in PSNR/SSIM   ours PSNR/SSIM   published JPEG / AR-CNN / DnCNN-3' % len(files))
        for q in (10, 20, 30, 40):
            pin, sin, pout, sout = [], [], [], []
            for f in files:
                name = os.path.splitext(os.path.basename(f))[0]
                ref = self.path('live1', name + '_y.png')
                if not os.path.exists(ref):
                    y = np.round(M.to_y(M.load(f))).clip(0, 255).astype(np.uint8)
                    Image.fromarray(y).save(ref)
                j = self.path('live1', '%s_q%d.png' % (name, q))
                if not os.path.exists(j):
                    buf = io.BytesIO(); Image.open(ref).save(buf, 'JPEG', quality=q); buf.seek(0)
                    Image.open(buf).save(j)
                o = self.path('live1_out', '%s_q%d.png' % (name, q))
                self.run(j, o, {'restorations': {'decompress': 'auto'}})
                a = np.asarray(Image.open(ref)).astype(np.float64)
                for img, P, S in ((j, pin, sin), (o, pout, sout)):
                    b = np.asarray(Image.open(img).convert('L')).astype(np.float64)
                    P.append(M.psnr(a, b)); S.append(M.ssim(a, b))
            print('  q%-3d %6.2f / %.4f   %6.2f / %.4f   %.2f / %.2f / %.2f  %s' %
                  (q, np.mean(pin), np.mean(sin), np.mean(pout), np.mean(sout), *pub[q],
                   'improves' if np.mean(pout) > np.mean(pin) else 'NO GAIN'))

    def suite_denoise(self):
        """CBSD68, AWGN sigma 15/25, RGB PSNR over the whole image (no crop), mean over images: the
        DnCNN/FFDNet protocol in SOURCES.md, except that our input is an image file, so the noisy
        image is clipped to 0..255 and quantised to 8 bits (the papers feed unclipped floats)."""
        pub = {15: 33.52, 25: 30.71}
        files = sorted(glob.glob(os.path.join(SHARED, 'benchdata', 'CBSD68', '*.png')))
        if self.limit:
            files = files[:self.limit]
        print('denoise (CBSD68 RGB PSNR, whole image, %d images; noise numpy default_rng(0) per image, noisy input '
              'clipped + quantised to 8 bits; ours = restorations.denoise auto):' % len(files), flush=True)
        for s in (15, 25):
            pin, pout, secs = [], [], []
            for f in files:
                name = os.path.splitext(os.path.basename(f))[0]
                n = degrade(f, self.path('cbsd68', '%s_s%d.png' % (name, s)), '--noise', s, '--seed', 0)
                o = self.path('cbsd68_out', '%s_s%d.png' % (name, s))
                t0 = time.time()
                if not (self.reuse and os.path.exists(o)):
                    self.run(n, o, {'restorations': {'denoise': 'auto'}})
                secs.append(time.time() - t0)
                a = M.load(f)
                pin.append(M.psnr(a, M.load(n))); pout.append(M.psnr(a, M.load(o)))
            print('  sigma %d: noisy %.2f dB  ours %.2f dB (%+.2f over the input, %+.2f vs CBM3D)  published CBM3D '
                  '%.2f dB  [%.2f s/image incl. process start]' % (s, np.mean(pin), np.mean(pout),
                  np.mean(pout) - np.mean(pin), np.mean(pout) - pub[s], pub[s], np.mean(secs)), flush=True)

    # ---- sr: Set5/Set14/B100 x2/x3/x4 from MATLAB-made LR images ----
    SR_PUB = {'Set5': (33.66, 30.39, 28.42), 'Set14': (30.24, 27.55, 26.00), 'B100': (29.56, 27.21, 25.96)}
    SR_METHODS = {  # name -> (upscaler, sets (None = all), scales)
        'resample': ('resample', None, (2, 3, 4)),
        'photo': ('photo', None, (4,)),
        'quality': ('quality', ('Set5', 'Set14'), (4,)),
    }

    @staticmethod
    def sr_doc(upscaler, s, kernel):
        r = {'upscale': upscaler, 'scale': s}
        if kernel:
            r['resample_kernel'] = kernel
        return {'restorations': r}

    def sr_hr(self, f, s):
        """HR cropped to a multiple of s; grey images stay 2-D (their value is Y, MATLAB convention)."""
        im = Image.open(f)
        a = np.asarray(im if im.mode == 'L' else im.convert('RGB'))
        return IR.modcrop(a, s)

    @staticmethod
    def sr_y(a):
        """MATLAB rgb2ycbcr on uint8: BT.601 studio-range Y, rounded; a grey image is its own Y."""
        a = np.asarray(a, dtype=np.float64)
        return a if a.ndim == 2 else np.round(M.to_y(a))

    def sr_score(self, hr, out, s):
        a, b = self.sr_y(hr)[s:-s, s:-s], self.sr_y(out)[s:-s, s:-s]
        return M.psnr(a, b), M.ssim(a, b)

    def suite_sr(self):
        sets = [x for x in (self.sr_sets or 'Set5,Set14,B100').split(',')]
        methods = (self.sr_methods or 'resample').split(',')
        print('sr (Y BT.601 rounded, grey images as their own Y, shave = scale; LR = numpy port of MATLAB '
              'imresize bicubic, checked bit-exact on Set5_LR_bicubic)')
        print('  %-6s %-2s %-17s %-17s %s' % ('set', 'x', 'published bicubic', 'numpy bicubic', '  '.join(
            '%-24s' % m for m in methods)))
        fails = 0
        for name in sets:
            files = sorted(glob.glob(os.path.join(SHARED, 'benchdata', name, '*.png')))
            if self.limit:
                files = files[:self.limit]
            for si, s in enumerate((2, 3, 4)):
                ref, res = [], {m: [] for m in methods}
                secs = {m: 0.0 for m in methods}
                for f in files:
                    stem = os.path.splitext(os.path.basename(f))[0]
                    hr = self.sr_hr(f, s)
                    lr_path = self.path('sr', name, 'x%d' % s, stem + '_lr.png')
                    if not os.path.exists(lr_path):
                        Image.fromarray(IR.imresize(hr, 1.0 / s)).save(lr_path)
                    lr = np.asarray(Image.open(lr_path))
                    ref.append(self.sr_score(hr, IR.imresize(lr, s), s))
                    for m in methods:
                        up, only_sets, scales = self.SR_METHODS[m]
                        if (only_sets and name not in only_sets) or s not in scales and not self.sr_all_scales:
                            continue
                        o = self.path('sr_out', '%s-%s' % (m, self.sr_kernel or 'default'), name, 'x%d' % s, stem + '.png')
                        t0 = time.time()
                        if not (self.reuse and os.path.exists(o)):
                            self.run(lr_path, o, self.sr_doc(up, s, self.sr_kernel))
                        secs[m] += time.time() - t0
                        out = np.asarray(Image.open(o))
                        if out.ndim == 3 and hr.ndim == 2:
                            out = out[..., 0]
                        if out.shape != hr.shape:
                            raise RuntimeError('%s %s: output %s, HR %s' % (m, stem, out.shape, hr.shape))
                        res[m].append(self.sr_score(hr, out, s))
                pub = self.SR_PUB[name][si]
                cells = []
                for m in methods:
                    if not res[m]:
                        cells.append('%-24s' % '-')
                        continue
                    p, q = np.mean([r[0] for r in res[m]]), np.mean([r[1] for r in res[m]])
                    tag = ''
                    if m == 'resample' and self.sr_kernel == 'cubic':
                        ok = abs(p - pub) <= 0.05
                        fails += not ok
                        tag = ' %+.2f %s' % (p - pub, 'ok' if ok else 'FAIL')
                    cells.append('%-24s' % ('%.2f/%.4f%s' % (p, q, tag)))
                print('  %-6s x%d %-17s %-17s %s' % (name, s, '%.2f' % pub, '%.2f/%.4f' % (
                    np.mean([r[0] for r in ref]), np.mean([r[1] for r in ref])), '  '.join(cells)), flush=True)
        if 'resample' in methods and self.sr_kernel == 'cubic':
            print('sr: resample (kernel cubic) within 0.05 dB of the published bicubic PSNR: %s' %
                  ('PASS' if not fails else 'FAIL (%d cells)' % fails))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('suites', nargs='+')
    ap.add_argument('--bin', default=os.path.join(ROOT, 'build', 'restore', 'bench', 'quality', 'enh_quality'))
    ap.add_argument('--work', default=os.path.join(ROOT, '.cache', 'quality'))
    ap.add_argument('--limit', type=int, default=0, help='use only the first N images of each set')
    ap.add_argument('--sr-sets', default='', help='sr: comma list of Set5,Set14,B100 (default all three)')
    ap.add_argument('--sr-methods', default='', help='sr: comma list of resample,photo,quality (default resample)')
    ap.add_argument('--sr-all-scales', action='store_true', help='sr: run the x4 AI models at x2/x3 too '
                    '(model x4, then reduced with the resample kernel)')
    ap.add_argument('--reuse', action='store_true', help='sr, denoise: keep outputs already under --work '
                    '(resume an interrupted run; do not use after changing the code)')
    ap.add_argument('--kernel', default='cubic', help='sr: resample kernel (cubic = MATLAB bicubic)')
    o = ap.parse_args()
    b = Bench(o)
    for s in o.suites:
        getattr(b, 'suite_' + s)()

if __name__ == '__main__':
    main()
