#!/usr/bin/python3
"""Restoration networks (MAXIM) against the classical filters, on centre crops.

  ai.py [--bin PATH] [--work DIR] [--crop N] [--sets photos,kodak] [--limit N] [--threads N] SUITE...

Suites (each degradation made by ../shared/tools/degrade.py, all in linear light, seeded by the
image's index so every run sees the same pixels):
  noise   --sensor-noise 0.012,0.0004 --jpeg 92 (a phone at high ISO): input, --denoise auto, --denoise ai
  motion  --motion L,A with L = 5 + 3i mod 11 (5..15 px) and A = 37i mod 180 degrees: input,
          --deblur auto, --deblur ai
  defocus --defocus 2: input, --deblur auto, --deblur ai
  dark    --dark 0.25: input, --auto-exposure, --model maxim-retouching, --model maxim-enhancement;
          also the mean L* against the original
  gauss15, gauss25  Gaussian noise sigma 15 / 25 on the sRGB values (--sets cbsd68: CBSD68):
          input, --denoise auto, --denoise ai
  jpeg    --jpeg 20 on the crop: input, --decompress auto, --model maxim-denoising
Images: a centre crop of --crop px (default 256; MAXIM costs ~2.4 M multiply-adds per pixel) of the
eight development photos (../shared/photos) and Kodak24. Scores: PSNR over R, G, B and SSIM on Y
(metrics.py), mean over images; time = wall time of one `enhance` process per image (model load
included: ~0.3 s), at --threads. Results are appended to WORK/results.jsonl as they come (a run that
is cut short keeps what it measured); `--report` prints the tables from that file.
"""
import argparse, glob, json, os, subprocess, sys, time
import numpy as np
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
TOOLS = os.path.join(SHARED, 'tools')
sys.path.insert(0, TOOLS)
import metrics as M  # noqa: E402

SUITES = {
    'noise': [('input', None), ('filter', ['--denoise', 'auto']), ('ai', ['--denoise', 'ai'])],
    'motion': [('input', None), ('filter', ['--deblur=auto']), ('ai', ['--deblur=ai'])],
    'defocus': [('input', None), ('filter', ['--deblur=auto']), ('ai', ['--deblur=ai'])],
    'dark': [('input', None), ('filter', ['--auto-exposure']), ('retouching', ['--model', 'maxim-retouching']),
             ('enhancement', ['--model', 'maxim-enhancement'])],
    'gauss15': [('input', None), ('filter', ['--denoise', 'auto']), ('ai', ['--denoise', 'ai'])],
    'gauss25': [('input', None), ('filter', ['--denoise', 'auto']), ('ai', ['--denoise', 'ai'])],
    'jpeg': [('input', None), ('filter', ['--decompress', 'auto']), ('ai', ['--model', 'maxim-denoising'])],
}


def degrade_args(suite, i):
    if suite == 'noise':
        return ['--sensor-noise', '0.012,0.0004', '--jpeg', '92', '--seed', str(i)], '.jpg'
    if suite == 'motion':
        return ['--motion', '%d,%d' % (5 + (3 * i) % 11, (37 * i) % 180)], '.png'
    if suite == 'defocus':
        return ['--defocus', '2'], '.png'
    if suite == 'dark':
        return ['--dark', '0.25'], '.png'
    if suite == 'jpeg':
        return ['--jpeg', '20'], '.jpg'
    if suite in ('gauss15', 'gauss25'):
        return ['--noise', suite[5:], '--seed', str(i)], '.png'
    raise SystemExit('unknown suite ' + suite)


def images(o):
    out = []
    for s in o.sets.split(','):
        if s == 'photos':
            out += sorted(glob.glob(os.path.join(SHARED, 'photos', '*.jpg')))
        elif s == 'kodak':
            out += sorted(glob.glob(os.path.join(SHARED, 'benchdata', 'Kodak24', '*.png')))
        elif s == 'cbsd68':
            out += sorted(glob.glob(os.path.join(SHARED, 'benchdata', 'CBSD68', '*.png')))
    return out[:o.limit] if o.limit else out


def crop(src, dst, n):
    if not os.path.exists(dst):
        im = Image.open(src).convert('RGB')
        w, h = im.size
        x, y = (w - n) // 2, (h - n) // 2
        im.crop((x, y, x + n, y + n)).save(dst)
    return dst


def mean_l(path):
    a = M.load(path) / 255
    lin = np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126729, 0.7151522, 0.0721750])
    f = np.where(y > 216 / 24389, np.cbrt(y), (24389 / 27 * y + 16) / 116)
    return float(np.mean(116 * f - 16))


def score(ref, test):
    a, b = M.load(ref), M.load(test)
    return M.psnr(a, b), M.ssim(M.to_y(a), M.to_y(b))


def run(o):
    os.makedirs(o.work, exist_ok=True)
    done = set()
    res_path = os.path.join(o.work, 'results.jsonl')
    if os.path.exists(res_path):
        for line in open(res_path):
            r = json.loads(line)
            done.add((r['suite'], r['image'], r['method']))
    with open(res_path, 'a') as res:
        for suite in o.suites:
            for i, src in enumerate(images(o)):
                name = os.path.splitext(os.path.basename(src))[0]
                clean = crop(src, os.path.join(o.work, '%s_%d.png' % (name, o.crop)), o.crop)
                args, ext = degrade_args(suite, i)
                bad = os.path.join(o.work, '%s_%s%s' % (name, suite, ext))
                if not os.path.exists(bad):
                    subprocess.run(['/usr/bin/python3', os.path.join(TOOLS, 'degrade.py'), clean, bad, *args],
                                   check=True, capture_output=True)
                for method, flags in SUITES[suite]:
                    if (suite, name, method) in done:
                        continue
                    out, secs = bad, 0.0
                    if flags:
                        out = os.path.join(o.work, '%s_%s_%s.png' % (name, suite, method))
                        t0 = time.time()
                        subprocess.run([o.bin, bad, '-o', out, '-j', str(o.threads), *flags], check=True,
                                       capture_output=True)
                        secs = time.time() - t0
                    p, s = score(clean, out)
                    r = {'suite': suite, 'image': name, 'method': method, 'psnr': p, 'ssim': s, 'seconds': secs,
                         'crop': o.crop, 'degrade': args}
                    if suite == 'dark':
                        r['dl'] = mean_l(out) - mean_l(clean)
                    res.write(json.dumps(r) + '\n')
                    res.flush()
                    print(suite, name, method, '%.2f %.4f %.1fs' % (p, s, secs), flush=True)


def report(o):
    rows = {}
    for line in open(os.path.join(o.work, 'results.jsonl')):
        r = json.loads(line)
        rows.setdefault((r['suite'], r['method']), []).append(r)
    for (suite, method), rs0 in sorted(rows.items()):
      # the images every method of the suite has (a run cut short leaves a method one image behind)
      common = set.intersection(*[{r['image'] for r in v} for (s2, _), v in rows.items() if s2 == suite])
      photos = {os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(SHARED, 'photos', '*.jpg'))}
      for part, keep in (('all', lambda i: True), ('photos', lambda i: i in photos),
                         ('kodak', lambda i: i.startswith('kodim'))):
        rs = [r for r in rs0 if r['image'] in common and keep(r['image'])]
        n = len(rs)
        if not n:
            continue
        line = '%-8s %-12s %-6s n=%2d  PSNR %.2f  SSIM %.4f  %.1f s/image' % (
            suite, method, part, n, sum(r['psnr'] for r in rs) / n, sum(r['ssim'] for r in rs) / n,
            sum(r['seconds'] for r in rs) / n)
        if suite == 'dark':
            line += '  dL* %+.1f' % (sum(r['dl'] for r in rs) / n)
        print(line)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--bin', default=os.path.join(ROOT, 'build', 'release', 'enhance'))
    p.add_argument('--work', default=os.path.join(ROOT, '.cache', 'aibench'))
    p.add_argument('--crop', type=int, default=256)
    p.add_argument('--sets', default='photos,kodak')
    p.add_argument('--limit', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--report', action='store_true')
    p.add_argument('suites', nargs='*')
    o = p.parse_args()
    if o.report:
        report(o)
    else:
        run(o)


if __name__ == '__main__':
    main()
