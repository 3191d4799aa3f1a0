#!/usr/bin/python3
"""Colour-cast and exposure estimator study, in numpy, beside the C implementation
(src/enhance/colour_estimate.c, assess.c). Used to choose the estimators and thresholds; images
are never written, results go to a pickle under --work.

  cast_eval.py collect OUT.pkl IMAGE...   estimators on each clean image and 6 synthetic casts
                                          (linear-light gains, clipped, 8-bit: as degrade.py)
  cast_eval.py report OUT.pkl             per estimator: angular error on clean / cast images,
                                          a*b* error cut after von Kries correction with the
                                          confidence of colour_estimate.h, detection rates
  cast_eval.py exposure IMAGE...          spread of log2 luminance percentiles on clean images
  cast_eval.py pipeline BIN WORK tune|held  the C build (enh_quality) end to end on a split: casts
                                          and clean images named by `assess`, auto_color's a*b* cut
  cast_eval.py crops ENHANCE AIWORK OUT   auto mode's cast gate (stage_auto.c) on 256x256 crops:
                                          `enhance assess --json` and `--auto-color` on ai.py's crops
                                          in AIWORK (clean, degraded, network outputs: no cast) and on
                                          the same crops with run.py's four casts (written to OUT);
                                          PSNR change per set for the naming rule alone, clipped
                                          highlights alone and the gate (OUT/crops.jsonl keeps it all)

Tuning set used for the committed constants: Kodak24 kodim09..24 + the first 40 B100 images
(sorted by name); the figures reported in the issue come from bench/quality/run.py (photos +
kodim01..08) and the last 40 B100 images. Needs Debian's python3-numpy and python3-pil.
"""
import itertools, os, pickle, sys
import numpy as np
from PIL import Image

def s2l(s): return np.where(s <= 0.04045, s / 12.92, ((s + 0.055) / 1.055) ** 2.4)
def l2s(l):
    l = np.clip(l, 0, 1)
    return np.where(l <= 0.0031308, 12.92 * l, 1.055 * np.power(l, 1 / 2.4) - 0.055)

def load(p, maxside=800):
    im = Image.open(p).convert('RGB')
    return np.asarray(im).astype(np.float64) / 255

def cast(a, g):
    return np.round(l2s(s2l(a) * np.array(g)) * 255) / 255

def shrink(a, f):
    if f <= 1: return a
    h, w = a.shape[0] // f * f, a.shape[1] // f * f
    return a[:h, :w].reshape(h // f, f, w // f, f, 3).mean(axis=(1, 3))

def blur(x, s):
    r = int(3 * s + 0.5); t = np.arange(-r, r + 1); k = np.exp(-t * t / (2 * s * s)); k /= k.sum()
    p = np.pad(x, ((r, r), (r, r)) + ((0, 0),) * (x.ndim - 2), mode='reflect')
    o = sum(k[i] * p[i:i + x.shape[0]] for i in range(2 * r + 1))
    return sum(k[i] * o[:, i:i + x.shape[1]] for i in range(2 * r + 1))

def norm(e): e = np.asarray(e, float); return e / np.linalg.norm(e)
def ang(a, b): return np.degrees(np.arccos(np.clip(np.dot(norm(a), norm(b)), -1, 1)))

def estimators(s8):
    """s8: sRGB 0..1 (quantised). returns dict name -> linear rgb estimate"""
    n = s8.shape[0] * s8.shape[1]
    f = max(1, int(np.ceil(np.sqrt(n / 250000.0))))
    clip = (s8 >= 253 / 255).any(-1)
    lin = s2l(s8)
    if f > 1:
        lin = shrink(lin, f); clip = shrink(clip[..., None].astype(float).repeat(3, -1), f)[..., 0] > 0
    dark = (lin.max(-1) < s2l(4 / 255))
    ok = ~clip & ~dark
    out = {}
    v = lin[ok]
    out['sog6'] = (v ** 6).mean(0) ** (1 / 6)
    out['gw'] = v.mean(0)
    wp = np.array([np.percentile(lin[..., c], 99.5) for c in range(3)])
    out['wp'] = wp
    out['old'] = np.sqrt(out['sog6'] * wp)
    for sg in (1, 2):
        b = blur(lin, sg)
        gx = np.zeros_like(b); gy = np.zeros_like(b)
        gx[:, 1:-1] = (b[:, 2:] - b[:, :-2]) / 2; gy[1:-1] = (b[2:] - b[:-2]) / 2
        g = np.sqrt(gx ** 2 + gy ** 2)
        okd = ok & ~blur(clip.astype(float)[..., None], sg)[..., 0].__gt__(0.01)
        gv = g[okd]
        out['ge1_s%d' % sg] = (gv ** 6).mean(0) ** (1 / 6)
        out['ge1p1_s%d' % sg] = gv.mean(0)
    # grey pixels (Yang 2015 / Qian 2019 style): LoG of log channels, greyness = spread of contrasts
    eps = 1e-3
    L = np.log(lin + eps)
    for sg in (1.0,):
        bl = blur(L, sg)
        lap = np.zeros_like(bl)
        lap[1:-1, 1:-1] = bl[2:, 1:-1] + bl[:-2, 1:-1] + bl[1:-1, 2:] + bl[1:-1, :-2] - 4 * bl[1:-1, 1:-1]
        c = np.abs(lap)
        m = c.mean(-1)
        gi = np.sqrt(((c - m[..., None]) ** 2).mean(-1)) / (m + 1e-6)
        lum = lin.mean(-1)
        valid = ok & (m > 0.01) & (lum > 0.02)
        valid[:2] = valid[-2:] = False; valid[:, :2] = valid[:, -2:] = False
        gi2 = np.where(valid, gi, np.inf)
        gi2 = blur(np.where(np.isfinite(gi2), gi2, 10)[..., None], 1)[..., 0]
        gi2[~valid] = np.inf
        nv = valid.sum()
        for pct in (0.1, 1, 5):
            k = max(20, int(nv * pct / 100))
            if nv < 20:
                out['gp%g' % pct] = out['gw']; continue
            idx = np.argpartition(gi2.ravel(), k)[:k]
            px = lin.reshape(-1, 3)[idx]
            pxn = px / px.sum(-1, keepdims=True)
            out['gp%g' % pct] = pxn.mean(0)
    # bright pixels (Joze 2012): top k% luminance among unclipped
    lum = lin @ np.array([.2126,.7152,.0722])
    lv = lum[ok]
    for pct in (2, 5):
        t = np.percentile(lv, 100 - pct)
        sel = ok & (lum >= t)
        out['bp%d' % pct] = lin[sel].mean(0)
    # iterative grey points (Huo 2006 style): pixels whose chroma after correction by e is small
    for start in ('wp', 'gp0.1'):
        e = norm(out[start])
        for it in range(4):
            c = lin[ok] / (e * np.sqrt(3))
            s = c.sum(-1, keepdims=True) + 1e-9
            ch = c / s
            d = np.abs(ch - 1/3).max(-1)
            sel = d < 0.06
            if sel.sum() < 50: break
            w = s[sel, 0]
            e = norm((lin[ok][sel] * w[:, None]).sum(0))
        out['igp_' + start] = e
    base = ['wp', 'sog6', 'gp0.1', 'ge1_s1', 'bp2']
    for r in (2, 3):
        for comb in itertools.combinations(base, r):
            out['+'.join(comb)] = np.exp(np.mean([np.log(norm(out[k])) for k in comb], 0))
    return out

def lab_ab(lin):
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)

def correct(x8, e):
    lin = s2l(x8)
    wy = np.array([.2126, .7152, .0722])
    g = (wy @ e) / e
    return l2s(lin * g)


GAINS = [(1.3, 1, .75), (.75, 1, 1.3), (1, 1.3, 1), (1.3, .75, 1.3), (1, .8, .8), (.85, .9, 1.25)]
KEEP = ('wp', 'sog6', 'gp0.1', 'ge1_s1', 'bp2', 'gw', 'igp_wp')
WY = np.array([.2126, .7152, .0722])


def collect(out, files):
    rows = []
    for p in files:
        a = load(p)
        for gi_, g in enumerate([(1, 1, 1)] + GAINS):
            x = a if gi_ == 0 else cast(a, g)
            e = estimators(x)
            rows.append(dict(name=os.path.basename(p), gi=gi_, g=np.array(g), e={k: norm(e[k]) for k in KEEP},
                             x=shrink(x, 3).astype(np.float32)))
        print('.', end='', flush=True, file=sys.stderr)
    pickle.dump(rows, open(out, 'wb'))


def report(path):
    rows = pickle.load(open(path, 'rb'))
    refs = {r['name']: lab_ab(s2l(r['x'].astype(np.float64))) for r in rows if r['gi'] == 0}
    gi = np.array([r['gi'] for r in rows])
    suite = (gi >= 1) & (gi <= 4)  # the four gains of run.py's cast suite
    e0 = np.array([np.abs(lab_ab(s2l(r['x'].astype(np.float64))) - refs[r['name']]).mean() for r in rows])
    c01 = lambda v: np.clip(v, 0, 1)
    for ks in (['wp'], ['wp', 'sog6'], ['wp', 'sog6', 'ge1_s1'], ['wp', 'sog6', 'gp0.1', 'ge1_s1']):
        est = [norm(np.exp(np.mean([np.log(r['e'][k]) for k in ks], 0))) for r in rows]
        A = np.array([ang(e, (1, 1, 1)) for e in est])
        err = np.array([ang(e, r['g']) for e, r in zip(est, rows)])
        S = np.array([max([ang(r['e'][a], r['e'][b]) for a, b in itertools.combinations(ks, 2)] or [0]) for r in rows])
        for mode in ('full', 'confidence'):
            w = np.ones(len(rows)) if mode == 'full' else c01((25 - S) / 15) * c01((25 - A) / 10) * np.minimum(1, 12 / np.maximum(A, 1e-6))
            e1, chg = [], []
            for r, e, wi, s0 in zip(rows, est, w, e0):
                lin = s2l(r['x'].astype(np.float64))
                out = lab_ab(s2l(l2s(lin * ((WY @ e) / e) ** wi)))
                d = np.abs(out - refs[r['name']]).mean()
                (chg if r['gi'] == 0 else e1).append(d)
            e1 = np.array(e1)
            cut = 1 - e1[suite[gi > 0]].mean() / e0[suite].mean()
            sev = c01((A - 14) / 4 + .5) * c01((18 - S) / 6) * c01((25 - A) / 5 + .5)
            print('%-26s %-10s clean err median %5.2f deg | cast err median %5.2f deg | a*b* cut %4.0f%% '
                  '| clean change %.2f | named: casts %.2f clean %.2f' %
                  ('+'.join(ks), mode, np.median(err[gi == 0]), np.median(err[suite]), 100 * cut, np.mean(chg),
                   (sev[suite] >= .5).mean(), (sev[gi == 0] >= .5).mean()))


def exposure(files):
    """log2 of luminance percentiles and of the brightest channel's 99.99th percentile (assess.c's
    highlight measure, full resolution) on clean images."""
    st = []
    for p in files:
        lin = s2l(load(p))
        y = (shrink(lin, 2) @ WY).ravel()
        st.append([np.log2(np.percentile(y, q) + 1e-5) for q in (50, 99, 99.9)] +
                  [np.log2(np.percentile(lin.max(-1), 99.99) + 1e-5)])
    st = np.array(st)
    for i, q in enumerate(('Y p50', 'Y p99', 'Y p99.9', 'maxRGB p99.99')):
        print('log2 %-13s mean %.2f sd %.2f min %.2f max %.2f' % (q, st[:, i].mean(), st[:, i].std(), st[:, i].min(), st[:, i].max()))


SHARED = '/work/shared' if not os.path.isdir(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared')) else \
    os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared'))

def split(name):
    """tune: Kodak24 09-24 + B100 first 40; held: B100 last 40 (sorted by name). run.py's set
    (shared/photos + Kodak24 01-08) is held out as well."""
    import glob
    P = sorted(glob.glob(os.path.join(SHARED, 'photos', '*.jpg')))
    K = sorted(glob.glob(os.path.join(SHARED, 'benchdata', 'Kodak24', '*.png')))
    B = sorted(glob.glob(os.path.join(SHARED, 'benchdata', 'B100', '*.png')))
    return {'tune': K[8:] + B[:40], 'held': B[60:]}[name]

def pipeline(binary, work, name):
    """The C implementation end to end on a split: each clean image and the four casts of run.py
    (degrade.py's arithmetic), `assess` naming and auto_color's a*b* error cut."""
    import json, subprocess
    os.makedirs(work, exist_ok=True)
    named, clean_named, before, after, rows = 0, [], [], [], []
    for p in split(name):
        stem = os.path.splitext(os.path.basename(p))[0]
        a = np.asarray(Image.open(p).convert('RGB')).astype(np.float64) / 255
        ref = lab_ab(s2l(a))
        paths = []
        for i, g in enumerate([(1, 1, 1)] + GAINS[:4]):
            f = os.path.join(work, '%s_%d.png' % (stem, i))
            if not os.path.exists(f):
                x = a if i == 0 else np.clip(l2s(s2l(a) * np.array(g)), 0, 1)
                Image.fromarray((x * 255 + 0.5).astype(np.uint8)).save(f)
            paths.append(f)
        res = [json.loads(l) for l in subprocess.run([binary, 'assess'] + paths, capture_output=True, text=True,
                                                     check=True).stdout.splitlines() if l.strip()]
        if res[0]['dominant'] == 'colour_cast':
            clean_named.append(stem)
        for i in range(1, 5):
            named += res[i]['dominant'] == 'colour_cast'
            o = os.path.join(work, '%s_%d_out.png' % (stem, i))
            subprocess.run([binary, 'run', paths[i], o, '{"adjustments":{"auto_color":true}}'], check=True,
                           capture_output=True)
            e0 = np.abs(lab_ab(s2l(np.asarray(Image.open(paths[i])).astype(np.float64) / 255)) - ref).mean()
            e1 = np.abs(lab_ab(s2l(np.asarray(Image.open(o)).astype(np.float64) / 255)) - ref).mean()
            before.append(e0), after.append(e1)
            rows.append('%s %d %.2f -> %.2f %s' % (stem, i, e0, e1, res[i]['dominant']))
    n = len(split(name))
    print('\n'.join(rows))
    print('%s (%d images): casts named %d/%d, clean named cast %d/%d (%s), a*b* error %.2f -> %.2f, cut %.0f%%' %
          (name, n, named, 4 * n, len(clean_named), n, ' '.join(clean_named), np.mean(before), np.mean(after),
           100 * (1 - np.mean(after) / np.mean(before))))


def crops(binary, aiwork, out):
    """Auto colour on crops: which crops each rule corrects and what the correction does to PSNR."""
    import json, subprocess, glob
    from concurrent.futures import ThreadPoolExecutor
    tools = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'tools')
    sys.path.insert(0, tools)
    import metrics as M
    os.makedirs(out, exist_ok=True)
    res_path = os.path.join(out, 'crops.jsonl')
    jobs = []
    for clean in sorted(glob.glob(os.path.join(aiwork, '*_256.png'))):
        n = os.path.basename(clean)[:-8]
        if n[0].isdigit():
            continue  # CBSD68 crops: no degraded sets of the photo suites
        v = {'clean': clean}
        for k, g in enumerate(GAINS[:4]):
            f = os.path.join(out, '%s_cast%d.png' % (n, k))
            if not os.path.exists(f):
                subprocess.run(['/usr/bin/python3', os.path.join(tools, 'degrade.py'), clean, f, '--cast',
                                ','.join(str(x) for x in g)], check=True, capture_output=True)
            v['cast%d' % k] = f
        for suite in ('defocus2', 'defocus4', 'motion', 'dark', 'noise'):
            for suf in ('', '_ai'):
                for ext in ('.png', '.jpg'):
                    f = os.path.join(aiwork, '%s_%s%s%s' % (n, suite, suf, ext if not suf else '.png'))
                    if os.path.exists(f):
                        v[suite + suf] = f
                        break
        jobs += [(n, k, f, clean) for k, f in v.items()]
    done = {}
    if os.path.exists(res_path):
        for line in open(res_path):
            r = json.loads(line)
            done[(r['image'], r['variant'])] = r

    def one(j):
        n, k, f, clean = j
        if (n, k) in done:
            return done[(n, k)]
        a = json.loads(subprocess.run([binary, 'assess', '--json', f], capture_output=True, text=True,
                                      check=True).stdout)
        o = os.path.join(out, '%s_%s_ac.png' % (n, k))
        subprocess.run([binary, f, '-o', o, '--auto-color', '-j', '1'], capture_output=True, check=True)
        ref = M.load(clean)
        return {'image': n, 'variant': k, 'colour': a['colour'], 'severity': a['severity']['colour_cast'],
                'psnr_in': min(M.psnr(ref, M.load(f)), 99), 'psnr_ac': min(M.psnr(ref, M.load(o)), 99)}
    with ThreadPoolExecutor(2) as ex:
        rows = list(ex.map(one, jobs))
    with open(res_path, 'w') as fo:
        for r in rows:
            fo.write(json.dumps(r) + '\n')
    rules = [('naming rule (severity >= 0.5)', lambda c: True),
             ('clipped highlights only', lambda c: c['from_clipped_highlights']),
             ('gate: clipped, or >= 9 deg and within 10', lambda c: c['from_clipped_highlights'] or (
                 c['cast_angle_deg'] >= 9 and c['learned_classical_deg'] <= 10))]
    sets = sorted({'casts' if r['variant'].startswith('cast') else r['variant'] for r in rows})
    print('PSNR change of auto colour, mean over the set (crops corrected / crops); worst crop')
    for name, rule in rules:
        cells = []
        for st in sets:
            rs = [r for r in rows if ('casts' if r['variant'].startswith('cast') else r['variant']) == st]
            fired = [r for r in rs if r['severity'] >= 0.5 and rule(r['colour'])]
            d = [r['psnr_ac'] - r['psnr_in'] for r in fired]
            if st == 'clean':  # PSNR against itself: only the count means something
                cells.append('clean (%d/%d)' % (len(fired), len(rs)))
            else:
                cells.append('%s %+.2f (%d/%d) %+.1f' % (st, sum(d) / len(rs), len(fired), len(rs), min(d or [0])))
        print('%-42s %s' % (name, ' | '.join(cells)))


if __name__ == '__main__':
    if len(sys.argv) == 5 and sys.argv[1] == 'crops':
        crops(sys.argv[2], sys.argv[3], sys.argv[4])
        sys.exit(0)
    if len(sys.argv) == 5 and sys.argv[1] == 'pipeline':
        pipeline(sys.argv[2], sys.argv[3], sys.argv[4])
        sys.exit(0)
    if len(sys.argv) >= 4 and sys.argv[1] == 'collect':
        collect(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 3 and sys.argv[1] == 'report':
        report(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == 'exposure':
        exposure(sys.argv[2:])
    else:
        print(__doc__)
        sys.exit(2)
