#!/usr/bin/python3
"""Restoration networks (MAXIM) against the classical filters, on centre crops.

  ai.py [--bin PATH] [--work DIR] [--crop N] [--sets photos,kodak] [--limit N] [--threads N] SUITE...

Suites (each degradation made by ../shared/tools/degrade.py, all in linear light, seeded by the
image's index so every run sees the same pixels):
  noise   --sensor-noise 0.012,0.0004 --jpeg 92 (a phone at high ISO): input, --denoise auto, --denoise ai
  motion  --motion L,A with L = 5 + 3i mod 11 (5..15 px) and A = 37i mod 180 degrees: input,
          --deblur auto, --deblur ai
  defocusR --defocus R (e.g. defocus2, defocus4): input, --deblur auto, --deblur ai
  dark    --dark 0.25: input, --auto-exposure, --model maxim-retouching, --model maxim-enhancement;
          also the mean L* against the original
  gauss15, gauss25  Gaussian noise sigma 15 / 25 on the sRGB values (--sets cbsd68: CBSD68):
          input, --denoise auto, --denoise ai
  gaussjpeg  --noise 15 --jpeg 92 (Gaussian noise stored as a phone would store it);
  sensorpng  --sensor-noise 0.012,0.0004 stored as PNG (no JPEG): the two mixed cases of the noise-kind
          cue (assess.c): input, --denoise auto, --denoise ai
  clean   no degradation: auto against the clean image (SSIM >= 0.98 wanted: nothing to fix)
  jpeg    --jpeg 20 on the crop: input, --decompress auto, --model maxim-denoising
  jpegQ   (jpeg10 .. jpeg40) --jpeg Q: input, --decompress auto, --model maxim-denoising,
          --model maxim-deblurring
Every suite also runs `auto` (--auto): auto's plan is read first from `--auto --explain` with an
empty models folder (cheap: the filters only, and the explain output names the network auto would
have run); when the only thing auto changes is one network that the suite already ran as a method,
auto's output is that method's output (same network, same strength: 100) and is not run again,
otherwise auto runs for real with the models. The record says which (`auto_as`).
Images: a centre crop of --crop px (default 256; 0 = the whole image; MAXIM costs ~2.4 M
multiply-adds per pixel) of the eight development photos (../shared/photos), Kodak24, CBSD68 or
LIVE1 (--sets). Scores: PSNR over R, G, B and SSIM on Y (metrics.py), mean over images; time =
wall time of one `enhance` process per image (model load included: ~0.3 s), at --threads, and its
CPU time (user + sys); the load average is recorded with each result. Results are appended to
WORK/results.jsonl as they come (a run that is cut short keeps what it measured); `--report`
prints the tables from that file.
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
SUITES['gaussjpeg'] = SUITES['sensorpng'] = SUITES['noise']
SUITES['clean'] = [('input', None)]
for _r in (2, 3, 4, 6):
    SUITES['defocus%d' % _r] = SUITES['defocus']
for _q in (10, 20, 30, 40):
    SUITES['jpeg%d' % _q] = SUITES['jpeg'] + [('deblurring', ['--model', 'maxim-deblurring'])]
# what auto can turn on alone, and the method of each suite that ran the same thing
AUTO_AS = {'maxim-denoising': ('ai', 'denoise'), 'maxim-deblurring': ('ai', 'deblur')}
EMPTY_MODELS = os.path.join(ROOT, '.cache', 'aibench-nomodels')


def degrade_args(suite, i):
    if suite == 'noise':
        return ['--sensor-noise', '0.012,0.0004', '--jpeg', '92', '--seed', str(i)], '.jpg'
    if suite == 'motion':
        return ['--motion', '%d,%d' % (5 + (3 * i) % 11, (37 * i) % 180)], '.png'
    if suite == 'clean':
        return [], '.png'
    if suite == 'gaussjpeg':
        return ['--noise', '15', '--jpeg', '92', '--seed', str(i)], '.jpg'
    if suite == 'sensorpng':
        return ['--sensor-noise', '0.012,0.0004', '--seed', str(i)], '.png'
    if suite.startswith('defocus'):
        return ['--defocus', suite[7:] or '2'], '.png'
    if suite == 'dark':
        return ['--dark', '0.25'], '.png'
    if suite.startswith('jpeg'):
        return ['--jpeg', suite[4:] or '20'], '.jpg'
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
        elif s == 'live1':
            out += sorted(glob.glob(os.path.join(SHARED, 'benchdata', 'LIVE1', '*.png')))
    return out[:o.limit] if o.limit else out


def crop(src, dst, n):
    if not os.path.exists(dst):
        im = Image.open(src).convert('RGB')
        w, h = im.size
        if n:
            x, y = (w - n) // 2, (h - n) // 2
            im = im.crop((x, y, x + n, y + n))
        im.save(dst)
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


def enhance(o, inp, out, flags, env=None):
    """Runs one enhance process; returns (wall s, CPU s, its stdout + stderr: --explain prints to stdout)."""
    c0 = os.times()
    t0 = time.time()
    r = subprocess.run([o.bin, inp, '-o', out, '-j', str(o.threads), *flags], capture_output=True, text=True,
                       env=env)
    if r.returncode:
        raise SystemExit('%s %s: %s' % (inp, ' '.join(flags), r.stderr.strip()))
    c1 = os.times()
    return (time.time() - t0, (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system),
            r.stdout + r.stderr)


def auto_plan(o, bad, out):
    """auto with no models installed: (the networks auto wanted, [] when it planned nothing else, the flags that
    redo its other plans on a network's output when they are adjustments, else None; wall s, CPU s, text)."""
    os.makedirs(EMPTY_MODELS, exist_ok=True)
    env = dict(os.environ, ENHANCE_MODELS_DIR=EMPTY_MODELS)
    wall, cpu, text = enhance(o, bad, out, ['--auto', '--explain'], env)
    wanted = [m for m in AUTO_AS if 'would use %s' % m in text]
    acts = [l for l in text.splitlines() if l.startswith('auto: ') and ' -> ' in l]
    # with the network missing, its fallback is the filter (noise) or nothing (blur)
    others = [l for l in acts if not ('(DCT filter)' in l and 'maxim-denoising' in wanted)]
    # adjustments after the network (they run on its output): flags that redo them on the saved output
    adjust = {'-> auto colour': '--auto-color', '-> auto exposure': '--auto-exposure'}
    post = [f for l in others for k, f in adjust.items() if k in l]
    return wanted, (post if len(post) == len(others) else None) if others else [], wall, cpu, text


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
                methods = [m for m in SUITES[suite] if not o.methods or m[0] in o.methods.split(',')]
                if not o.methods or 'auto' in o.methods.split(','):
                    methods.append(('auto', ['--auto']))
                for method, flags in methods:
                    if (suite, name, method) in done:
                        continue
                    out, secs, cpu, extra = bad, 0.0, 0.0, {}
                    if method == 'auto':
                        out = os.path.join(o.work, '%s_%s_%s.png' % (name, suite, method))
                        wanted, others, secs, cpu, text = auto_plan(o, bad, out)
                        extra['auto_wants'] = wanted
                        extra['auto_explain'] = [l for l in text.splitlines() if ' -> ' in l or 'would use' in l]
                        if wanted:
                            same = AUTO_AS[wanted[0]][0]
                            prev = os.path.join(o.work, '%s_%s_%s.png' % (name, suite, same))
                            if len(wanted) == 1 and others == [] and os.path.exists(prev):
                                out = prev
                                extra['auto_as'] = same
                            elif len(wanted) == 1 and others and os.path.exists(prev):
                                # the network, then the adjustments auto planned (the adjust stage runs
                                # on the network's output, rounded to 8 bits as the chain does)
                                secs, cpu, _ = enhance(o, prev, out, others)
                                extra['auto_as'] = same + '+' + '+'.join(f.strip('-') for f in others)
                            elif o.no_auto_nets:
                                continue
                            else:
                                secs, cpu, _ = enhance(o, bad, out, ['--auto'])
                                extra['auto_as'] = 'run'
                    elif flags:
                        out = os.path.join(o.work, '%s_%s_%s.png' % (name, suite, method))
                        secs, cpu, _ = enhance(o, bad, out, flags)
                    p, s = score(clean, out)
                    r = {'suite': suite, 'image': name, 'method': method, 'psnr': p, 'ssim': s, 'seconds': secs,
                         'cpu': cpu, 'load': os.getloadavg()[0], 'crop': o.crop, 'degrade': args, **extra}
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
      # the images every method of the suite has (a run cut short leaves a method one image behind);
      # --common-with lists the methods to intersect (default: all of the suite's)
      keep_m = o.common_with.split(',') if o.common_with else None
      common = set.intersection(*[{r['image'] for r in v} for (s2, m2), v in rows.items()
                                  if s2 == suite and (keep_m is None or m2 in keep_m or m2 == method)])
      photos = {os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(SHARED, 'photos', '*.jpg'))}
      for part, keep in (('all', lambda i: True), ('photos', lambda i: i in photos),
                         ('kodak', lambda i: i.startswith('kodim'))):
        rs = [r for r in rs0 if r['image'] in common and keep(r['image'])]
        n = len(rs)
        if not n:
            continue
        line = '%-8s %-12s %-6s n=%2d  PSNR %.2f  SSIM %.4f  %.1f s/image  %.1f CPU-s  load %.1f' % (
            suite, method, part, n, sum(r['psnr'] for r in rs) / n, sum(r['ssim'] for r in rs) / n,
            sum(r['seconds'] for r in rs) / n, sum(r.get('cpu', 0) for r in rs) / n,
            sum(r.get('load', 0) for r in rs) / n)
        if method == 'auto':
            kinds = {}
            for r in rs:
                k = r.get('auto_as') or ('+'.join(r.get('auto_wants', [])) or 'filters/none')
                kinds[k] = kinds.get(k, 0) + 1
            line += '  ' + ', '.join('%s %d' % kv for kv in sorted(kinds.items()))
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
    p.add_argument('--methods', default='', help='comma list: run only these methods (auto included only if named)')
    p.add_argument('--no-auto-nets', action='store_true', help='skip auto where it would have to run a network anew')
    p.add_argument('--common-with', default='', help='report: intersect images over these methods only')
    p.add_argument('suites', nargs='*')
    o = p.parse_args()
    if o.report:
        report(o)
    else:
        run(o)


if __name__ == '__main__':
    main()
