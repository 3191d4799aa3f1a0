#!/bin/bash
# compare_ort.sh - our runtime (`enhance bench`) against ONNX Runtime (the peer harness in
# ../shared/peers, copied to .cache/peers) on the same model, the same input, the same machine,
# back to back, alternating A B A B. Prints per case: median ms of each side (median over the
# rounds of each invocation's median), ours/ORT ratio, peak RSS of each process (/usr/bin/time -v),
# and the PSNR of our fp32 output against ORT's (compare.py f32; the bar is >= 45 dB).
#
#   bench/compare_ort.sh                                   # default cases below
#   CASES="x4fast:256:2 x4plus:64:1" ROUNDS=3 RUNS=5 bench/compare_ort.sh
#   ENHANCE=build/release/enhance PRECISION=bf16 bench/compare_ort.sh
#
# A case is model:size:threads. RUNS timed runs (+1 warm-up) per invocation, ROUNDS A/B pairs.
# The machine may be shared: the "others" column is the CPU (in cores) that other processes used
# during the case's invocations (from /proc/stat); distrust ratios where it is >= 0.1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
CASES=${CASES:-"x4fast:256:1 x4fast:256:2 x4plus:64:1 x4plus:64:2 x4plus:128:1 x4plus:128:2"}
ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-3}
PRECISION=${PRECISION:-fp32}
ENHANCE=${ENHANCE:-build/release/enhance}
P=.cache/peers
O=.cache/compare_ort
PY=/usr/bin/python3
HZ=$(getconf CLK_TCK)

[ -x "$ENHANCE" ] || { echo "compare_ort: $ENHANCE not found; build first (scripts/build.sh release) or set ENHANCE=" >&2; exit 1; }
if [ ! -f "$P/ort_bench.mjs" ]; then
  src=../shared/peers; [ -d "$src" ] || src=/work/shared/peers
  mkdir -p .cache && cp -r "$src" "$P"
fi
if [ ! -f "$P/.cache/onnx/realesrgan-x4plus.onnx" ] || [ ! -f "$P/.cache/onnx/realesrgan-x4fast.onnx" ]; then
  (cd "$P" && ./setup.sh)
fi
mkdir -p "$O"
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

# the same input for both: centre S x S crop of astronaut.png, /255, float32 NCHW (+ shape sidecar)
make_input() {
  local s=$1 f="$O/in_$1.f32"
  [ -f "$f" ] && return 0
  $PY - "$P/.cache/images/astronaut.png" "$s" "$f" <<'PYEOF'
import json, sys
import numpy as np
from PIL import Image
img, s, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
a = np.asarray(Image.open(img).convert('RGB'))
h, w = a.shape[:2]
y, x = (h - s) // 2, (w - s) // 2
c = a[y:y + s, x:x + s].astype(np.float32) / 255.0
np.ascontiguousarray(c.transpose(2, 0, 1)[None]).astype('<f4').tofile(out)
json.dump({"shape": [1, 3, s, s]}, open(out + '.json', 'w'))
PYEOF
}

# run_one SIDE model size threads -> prints "median_ms rss_mib cpu_s wall_s"
run_one() {
  local side=$1 m=$2 s=$3 t=$4 tv="$O/time.txt" out
  if [ "$side" = ours ]; then
    /usr/bin/time -v -o "$tv" "$ENHANCE" bench --model "realesrgan-$m" --size "$s" --threads "$t" \
      --runs "$RUNS" --precision "$PRECISION" --input-f32 "$O/in_$s.f32" --out-f32 "$O/ours_${m}_$s.f32" --json > "$O/r.json"
    echo "{\"shape\": [1, 3, $((4 * s)), $((4 * s))]}" > "$O/ours_${m}_$s.f32.json"
    out=$(sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p' "$O/r.json")
  else
    /usr/bin/time -v -o "$tv" node "$P/ort_bench.mjs" --model "$P/.cache/onnx/realesrgan-$m.onnx" \
      --input-f32 "$O/in_$s.f32" --threads "$t" --runs "$RUNS" --warmup 1 --json \
      --out-f32 "$O/ort_${m}_$s.f32" > "$O/r.json"
    out=$(sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p' "$O/r.json")
  fi
  local rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tv")
  awk -v ms="$out" -v rss="$rss" '
    /User time/ {u=$NF} /System time/ {s=$NF}
    /Elapsed \(wall clock\)/ {n=split($NF,p,":"); w=0; for(i=1;i<=n;i++) w=w*60+p[i]}
    END {printf "%s %.0f %.2f %.2f\n", ms, rss/1024, u+s, w}' "$tv"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(lscpu | sed -n 's/^Model name: *//p' | head -1) ($(nproc) cores)  ours: $ENHANCE ($PRECISION)  ORT: onnxruntime-node  rounds $ROUNDS x runs $RUNS (+1 warm-up each)"
CAP="$(dirname "$ENHANCE")/bench/kernels/vcpu_capacity"
[ -x "$CAP" ] && echo "# machine before: $("$CAP" --threads "$(nproc)" --seconds 0.5)"
echo
echo "| model | input | threads | ours ms | ORT ms | ours/ORT | per-round ratios | ours RSS MiB | ORT RSS MiB | PSNR vs ORT dB | others |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
SCALE=""
for c in $CASES; do
  IFS=: read -r m s t <<<"$c"
  make_input "$s"
  A=""; B=""; RA=""; RB=""; ratios=""; busy=0; own=0; wall=0
  for r in $(seq 1 "$ROUNDS"); do
    b0=$(busy_jiffies)
    read -r ma ra ca wa < <(run_one ours "$m" "$s" "$t")
    read -r mb rb cb wb < <(run_one ort "$m" "$s" "$t")
    b1=$(busy_jiffies)
    A="$A $ma"; B="$B $mb"; RA="$RA $ra"; RB="$RB $rb"
    ratios="$ratios $(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", a/b}')"
    busy=$(awk -v x="$busy" -v b0="$b0" -v b1="$b1" -v hz="$HZ" 'BEGIN{print x+(b1-b0)/hz}')
    own=$(awk -v x="$own" -v a="$ca" -v b="$cb" 'BEGIN{print x+a+b}')
    wall=$(awk -v x="$wall" -v a="$wa" -v b="$wb" 'BEGIN{print x+a+b}')
  done
  ma=$(echo "$A" | median); mb=$(echo "$B" | median)
  psnr=$($PY "$P/compare.py" f32 "$O/ours_${m}_$s.f32" "$O/ort_${m}_$s.f32" 2>/dev/null | sed -n 's/.*PSNR.* \([0-9.][0-9.]*\|inf\) dB.*/\1/p' | head -1)
  others=$(awk -v b="$busy" -v o="$own" -v w="$wall" 'BEGIN{x=(b-o)/w; if (x<0) x=0; printf "%.2f", x}')
  printf "| %s | %sx%s | %s | %.1f | %.1f | **%.2f** | %s | %s | %s | %s | %s |\n" "$m" "$s" "$s" "$t" "$ma" "$mb" \
    "$(awk -v a="$ma" -v b="$mb" 'BEGIN{print a/b}')" "$(echo $ratios)" "$(echo "$RA" | median)" "$(echo "$RB" | median)" "${psnr:-?}" "$others"
  SCALE="$SCALE $m:$s:$t:$ma:$mb"
done
# thread scaling: for each model/size measured with 1 thread and with more
echo
for c1 in $SCALE; do
  IFS=: read -r m s t a1 b1 <<<"$c1"
  [ "$t" = 1 ] || continue
  for cn in $SCALE; do
    IFS=: read -r m2 s2 tn an bn <<<"$cn"
    [ "$m2:$s2" = "$m:$s" ] && [ "$tn" != 1 ] || continue
    awk -v m="$m" -v s="$s" -v t="$tn" -v a1="$a1" -v an="$an" -v b1="$b1" -v bn="$bn" \
      'BEGIN{printf "scaling %s %sx%s, 1 -> %s threads: ours %.2fx, ORT %.2fx\n", m, s, s, t, a1/an, b1/bn}'
  done
done
[ -x "$CAP" ] && echo "# machine after: $("$CAP" --threads "$(nproc)" --seconds 0.5) (the ceiling of a wall-time speedup)"
