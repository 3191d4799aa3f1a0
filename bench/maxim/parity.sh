#!/bin/bash
# MAXIM in our runtime against TF.js-wasm on Node running the same npm model.json, same input,
# same threads, in one run: time, speed-up, effective GFLOP/s, peak RSS and PSNR between the two
# float32 outputs (unclamped, before 8-bit rounding).
#
#   bench/maxim/parity.sh                       # all four models, 64 and 256 px, 2 threads
#   MODELS="denoising" SIZES="256" THREADS=1 RUNS=3 bench/maxim/parity.sh
#
# Needs: the reference harness set up once (a writable copy of ../shared/peers):
#   cp -r ../shared/peers .cache/peers && chmod -R u+w .cache/peers && .cache/peers/maxim/setup.sh
# (PEERS= points elsewhere), build/release/bench/maxim/maxim_run (scripts/build.sh release), and
# Debian's python3-numpy/python3-pil (/usr/bin/python3). The input is a centre crop of
# ../shared/photos/ladybird.jpg (PHOTO= another); MAC per pixel for the GFLOP/s column comes from
# `maxim_run --profile 1` (2.36 M for the 3-stage models, 1.47 M for the 2-stage ones, GEMM work).
set -euo pipefail
cd "$(dirname "$0")/../.."
PEERS=${PEERS:-.cache/peers}
MODELS=${MODELS:-"denoising deblurring enhancement retouching"}
SIZES=${SIZES:-"64 256"}
THREADS=${THREADS:-2}
RUNS=${RUNS:-2}
PHOTO=${PHOTO:-../shared/photos/ladybird.jpg}
BIN=${BIN:-build/release/bench/maxim/maxim_run}
PY=/usr/bin/python3
OUT=${OUT:-.cache/maxim-parity}
[ -x "$BIN" ] || { echo "build first: scripts/build.sh release ($BIN missing)" >&2; exit 1; }
[ -f "$PEERS/maxim/run_maxim.mjs" ] && [ -d "$PEERS/.cache/maxim" ] ||
  { echo "set up the reference first: cp -r ../shared/peers $PEERS && $PEERS/maxim/setup.sh" >&2; exit 1; }
mkdir -p "$OUT"
declare -A MAC=([denoising]=2.36 [deblurring]=2.36 [enhancement]=1.47 [retouching]=1.47)
for S in $SIZES; do
  $PY - "$PHOTO" "$S" "$OUT" <<'PY'
import sys, numpy as np
from PIL import Image
photo, s, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
im = Image.open(photo).convert('RGB'); W, H = im.size
c = im.crop((W // 2 - s // 2, H // 2 - s // 2, W // 2 - s // 2 + s, H // 2 - s // 2 + s))
c.save(f'{out}/in{s}.png'); (np.asarray(c).astype(np.float32) / 255).tofile(f'{out}/in{s}.f32')
PY
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before the run, $(nproc) CPUs"
printf '| model | input | threads | TF.js s | ours s | speed-up | TF.js CPU-s | ours CPU-s | CPU ratio | ours GFLOP/s | TF.js RSS MiB | ours RSS MiB | PSNR dB |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for m in $MODELS; do
  for S in $SIZES; do
    ref="$OUT/ref_${m}_$S.f32" ours="$OUT/ours_${m}_$S.f32"
    rj=$( (cd "$PEERS/maxim" && node run_maxim.mjs --model "$m" --in "$OLDPWD/$OUT/in$S.png" --out "$OLDPWD/$OUT/ref_${m}_$S.png" \
          --out-f32 "$OLDPWD/$ref" --threads "$THREADS" --runs "$RUNS" --json) | tail -1)
    oj=$("$BIN" "$PEERS/.cache/maxim/$m/models/model.json" "$OUT/in$S.f32" "$S" "$S" "$ours" --threads "$THREADS" --runs "$RUNS")
    $PY - "$m" "$S" "$THREADS" "$rj" "$oj" "$ref" "$ours" "${MAC[$m]}" <<'PY'
import sys, json, numpy as np
m, s, t, rj, oj, ref, ours, mac = sys.argv[1:9]
r, o = json.loads(rj), json.loads(oj)
a, b = np.fromfile(ours, np.float32), np.fromfile(ref, np.float32)
mse = float(np.mean((a.astype(np.float64) - b) ** 2)); psnr = 10 * np.log10(1 / mse) if mse > 0 else float('inf')
tr, to = r['run_ms_min'] / 1000, o['best_s']; s = int(s)
cr = min(r.get('run_cpu_s') or [0]); co = o['best_cpu_s']
print(f"| {m} | {s}x{s} | {t} | {tr:.2f} | {to:.3f} | {tr / to:.1f}x | {cr:.1f} | {co:.2f} | {cr / co if co else 0:.1f}x | "
      f"{2 * float(mac) * 1e6 * s * s / to / 1e9:.1f} | "
      f"{r.get('peak_rss_mib', 0):.0f} | {o['peak_rss_mb']:.0f} | {psnr:.1f} |")
PY
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) after"
