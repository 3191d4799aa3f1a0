#!/bin/bash
# nsfwjs in our runtime against TF.js (peers/nsfwjs, tfjs-backend-wasm) on the same PNGs:
#   - whole pipeline: our enh_classify vs nsfwjs classify(), max |difference| of the 5 probabilities;
#   - network alone: our network on TF.js's exact model inputs (its --dump-input);
#   - preprocessing alone: our /255 + align-corners resize vs TF.js's, max |difference|;
#   - speed: the median classify ms of both in the same run (ours at THREADS threads, TF.js-wasm
#     single-threaded), and our process CPU seconds per classify.
# Images: the 8 development photos (JPEG decoded to 8-bit RGB PNG by /usr/bin/python3 PIL, as the
# peer README does), Kodak24 kodim01-08 and all of Set14 (6 of them grey: grey is expanded to RGB).
#
#   bench/nsfw/parity.sh                 # the three models, 30 images
#   MODELS=MobileNetV2 RUNS=5 bench/nsfw/parity.sh
# Env: BUILD (build/release), PEER (/work/peers/nsfwjs, set up with its setup.sh), OUT
# (/tmp/nsfw-parity), THREADS (2), RUNS (1: timed calls per image, after one warm-up), MODELS.
# The models must be installed: enhance models fetch nsfwjs-mobilenetv2 nsfwjs-mobilenetv2mid nsfwjs-inceptionv3.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build/release}
PEER=${PEER:-/work/peers/nsfwjs}
OUT=${OUT:-/tmp/nsfw-parity}
THREADS=${THREADS:-2}
RUNS=${RUNS:-1}
MODELS=${MODELS:-"MobileNetV2 MobileNetV2Mid InceptionV3"}
PHOTOS=${PHOTOS:-/work/shared/photos}
BENCH=${BENCHDATA:-/work/shared/benchdata}
run=$BUILD/bench/nsfw/nsfw_run
[ -x "$run" ] || { echo "build $run first (cmake --build $BUILD --target nsfw_run)" >&2; exit 1; }
[ -d "$PEER/node_modules" ] || { echo "set up the peer first: cp -r shared/peers/nsfwjs $PEER && $PEER/setup.sh" >&2; exit 1; }
mkdir -p "$OUT/img"
/usr/bin/python3 - "$PHOTOS" "$OUT/img" <<'PY'
import os, sys
from PIL import Image
src, out = sys.argv[1:3]
for f in sorted(os.listdir(src)):
    if f.endswith('.jpg') and not os.path.exists(os.path.join(out, f[:-4] + '.png')):
        Image.open(os.path.join(src, f)).convert('RGB').save(os.path.join(out, f[:-4] + '.png'), compress_level=1)
PY
imgs=("$OUT"/img/*.png)
for i in 1 2 3 4 5 6 7 8; do imgs+=("$BENCH/Kodak24/kodim0$i.png"); done
imgs+=("$BENCH"/Set14/*.png)
ins=()
for f in "${imgs[@]}"; do ins+=(--in "$f"); done
echo "== $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg); ${#imgs[@]} images; ours at $THREADS threads"
for m in $MODELS; do
  case $m in
    MobileNetV2) name=nsfwjs-mobilenetv2 ;;
    MobileNetV2Mid) name=nsfwjs-mobilenetv2mid ;;
    InceptionV3) name=nsfwjs-inceptionv3 ;;
    *) echo "unknown model $m (MobileNetV2, MobileNetV2Mid, InceptionV3)" >&2; exit 1 ;;
  esac
  d="$OUT/$m"
  rm -rf "$d" && mkdir -p "$d"
  node "$PEER/run_nsfw.mjs" --model "$m" --json --warmup 1 --runs "$RUNS" --dump-input "$d/tf.f32" "${ins[@]}" \
    > "$d/tf.json" 2> "$d/tf.log"
  "$run" --model "$name" --threads "$THREADS" --warmup 1 --runs "$RUNS" --dump-input "$d/ours" "${ins[@]}" > "$d/ours.txt"
  f32=()
  for k in $(seq 1 ${#imgs[@]}); do f32+=(--in-f32 "$d/tf-$k.f32"); done
  "$run" --model "$name" --threads "$THREADS" "${f32[@]}" > "$d/ours_net.txt"
  /usr/bin/python3 - "$d" "$m" "${#imgs[@]}" <<'PY'
import json, sys, numpy as np
d, m, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
tf = json.load(open(d + '/tf.json'))
cls = tf['classes']
T = np.array([[i['probabilities'][c] for c in cls] for i in tf['images']], dtype=np.float64)
def rows(path, tag):
    r = [l.split() for l in open(path) if l.startswith(tag)]
    return r
O = np.array([[float(v) for v in r[2:]] for r in rows(d + '/ours.txt', 'RESULT')])
N = np.array([[float(v) for v in r[2:]] for r in rows(d + '/ours_net.txt', 'RESULT')])
pre = max(float(np.max(np.abs(np.fromfile('%s/ours-%d.f32' % (d, k), np.float32) -
                               np.fromfile('%s/tf-%d.f32' % (d, k), np.float32)))) for k in range(1, n + 1))
top = int(np.sum(np.argmax(O, 1) == np.argmax(T, 1)))
ours_ms = [float(r[3]) for r in rows(d + '/ours.txt', 'TIME')]
cpu = [float(r[2]) for r in rows(d + '/ours.txt', 'cpu_s')]
tf_ms = [i['classify_ms'] for i in tf['images']]
print('%s: %d images; max |p_ours - p_tfjs|: whole pipeline %.3g, network alone on TF.js inputs %.3g; '
      'preprocessing max |x_ours - x_tfjs| %.3g; same top class %d/%d' % (m, n, np.max(np.abs(O - T)),
      np.max(np.abs(N - T)), pre, top, n))
print('%s: classify ms (median over images): ours %.1f, TF.js-wasm %.1f (ours/TF.js %.2f); our CPU s per '
      'classify %.4f' % (m, np.median(ours_ms), np.median(tf_ms), np.median(ours_ms) / np.median(tf_ms), np.median(cpu)))
PY
done
echo "== $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg); files in $OUT"
