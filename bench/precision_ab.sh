#!/bin/bash
# precision_ab.sh - the opt-in bf16 precision against fp32: speed and output quality.
#
# 1. Speed: `enhance bench` per case, fp32 and bf16 back to back, alternating A B A B on the same
#    synthetic input; prints the median (over rounds) of each invocation's median wall ms and
#    median process-CPU ms per model run, the bf16/fp32 ratios of both (per round too), and the
#    CPU (in cores) other processes used meanwhile ("others", from /proc/stat). On a shared machine
#    the CPU-time ratio is the robust one (preemption inflates wall time, not CPU time).
# 2. Quality: centre S x S crops of every photo in ../shared/photos through the model in fp32 and
#    bf16 (raw float32 out, `enhance bench --out-f32`); PSNR of bf16 vs fp32 with both clipped to
#    [0,1] (what the encoder keeps), and after rounding to 8 bits. The bar is >= 40 dB.
#
#   bench/precision_ab.sh
#   CASES="x4fast:256:2 x4plus:64:2" ROUNDS=5 RUNS=5 PSNR_CASES="x4fast:256 x4plus:64" bench/precision_ab.sh
#
# Needs a CPU with AVX512_BF16, /usr/bin/python3 with numpy + PIL (quality part), the models.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
CASES=${CASES:-"x4fast:256:2 x4fast:256:1 x4plus:64:2 x4plus:64:1"}
PSNR_CASES=${PSNR_CASES-"x4fast:256 x4plus:64"}
ROUNDS=${ROUNDS:-4}
RUNS=${RUNS:-5}
ENHANCE=${ENHANCE:-build/release/enhance}
PHOTOS=${PHOTOS:-../shared/photos}
[ -d "$PHOTOS" ] || PHOTOS=/work/shared/photos
O=.cache/precision_ab
PY=/usr/bin/python3
HZ=$(getconf CLK_TCK)

[ -x "$ENHANCE" ] || { echo "precision_ab: $ENHANCE not found; build first or set ENHANCE=" >&2; exit 1; }
grep -qw avx512_bf16 /proc/cpuinfo || { echo "precision_ab: this CPU lacks AVX512_BF16" >&2; exit 1; }
mkdir -p "$O"
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# run_one PRECISION model size threads -> "median_ms median_cpu_ms cpu_s wall_s" (last two: process)
run_one() {
  /usr/bin/time -f "%U %S %e" -o "$O/time.txt" "$ENHANCE" bench --model "realesrgan-$2" --size "$3" \
    --threads "$4" --runs "$RUNS" --precision "$1" --json > "$O/r.json"
  echo "$(sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p' "$O/r.json") $(sed -n 's/.*"median_cpu_ms":\([0-9.]*\).*/\1/p' "$O/r.json")" \
       "$(awk '{printf "%.2f %.2f", $1 + $2, $3}' "$O/time.txt")"
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(lscpu | sed -n 's/^Model name: *//p' | head -1) ($(nproc) cores)  $ENHANCE  rounds $ROUNDS x runs $RUNS (+1 warm-up each)"
echo
echo "| model | input | threads | fp32 ms | bf16 ms | bf16/fp32 wall | per-round | fp32 CPU ms | bf16 CPU ms | bf16/fp32 CPU | per-round | others |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for c in $CASES; do
  IFS=: read -r m s t <<<"$c"
  A=""; B=""; CA=""; CB=""; ratios=""; cratios=""; busy=0; own=0; wall=0
  for r in $(seq 1 "$ROUNDS"); do
    b0=$(busy_jiffies)
    read -r ma xa ca wa < <(run_one fp32 "$m" "$s" "$t")
    read -r mb xb cb wb < <(run_one bf16 "$m" "$s" "$t")
    b1=$(busy_jiffies)
    A="$A $ma"; B="$B $mb"; CA="$CA $xa"; CB="$CB $xb"
    ratios="$ratios $(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", b/a}')"
    cratios="$cratios $(awk -v a="$xa" -v b="$xb" 'BEGIN{printf "%.2f", b/a}')"
    busy=$(awk -v x="$busy" -v b0="$b0" -v b1="$b1" -v hz="$HZ" 'BEGIN{print x+(b1-b0)/hz}')
    own=$(awk -v x="$own" -v a="$ca" -v b="$cb" 'BEGIN{print x+a+b}')
    wall=$(awk -v x="$wall" -v a="$wa" -v b="$wb" 'BEGIN{print x+a+b}')
  done
  ma=$(echo "$A" | median); mb=$(echo "$B" | median); xa=$(echo "$CA" | median); xb=$(echo "$CB" | median)
  others=$(awk -v b="$busy" -v o="$own" -v w="$wall" 'BEGIN{x=(b-o)/w; if (x<0) x=0; printf "%.2f", x}')
  printf "| %s | %sx%s | %s | %.1f | %.1f | **%.2f** | %s | %.1f | %.1f | **%.2f** | %s | %s |\n" "$m" "$s" "$s" "$t" \
    "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN{print b/a}')" "$(echo $ratios)" \
    "$xa" "$xb" "$(awk -v a="$xa" -v b="$xb" 'BEGIN{print b/a}')" "$(echo $cratios)" "$others"
done

[ -n "$PSNR_CASES" ] || exit 0
[ -d "$PHOTOS" ] || { echo; echo "(no photos folder: quality part skipped)"; exit 0; }
echo
echo "| model | crop | photo | PSNR bf16 vs fp32 dB | 8-bit PSNR dB | max abs diff |"
echo "|---|---|---|---|---|---|"
for c in $PSNR_CASES; do
  IFS=: read -r m s <<<"$c"
  for p in "$PHOTOS"/*.jpg "$PHOTOS"/*.png; do
    [ -f "$p" ] || continue
    n=$(basename "${p%.*}")
    $PY - "$p" "$s" "$O/in_${n}_$s.f32" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
img, s, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
a = np.asarray(Image.open(img).convert('RGB'))
h, w = a.shape[:2]
y, x = (h - s) // 2, (w - s) // 2
np.ascontiguousarray(a[y:y + s, x:x + s].astype(np.float32).transpose(2, 0, 1) / 255.0).astype('<f4').tofile(out)
PYEOF
    for pr in fp32 bf16; do
      "$ENHANCE" bench --model "realesrgan-$m" --size "$s" --runs 1 --precision $pr --input-f32 "$O/in_${n}_$s.f32" \
        --out-f32 "$O/out_${n}_${m}_$s.$pr.f32" --json > /dev/null
    done
    $PY - "$O/out_${n}_${m}_$s.fp32.f32" "$O/out_${n}_${m}_$s.bf16.f32" "$m" "${s}x${s}" "$n" <<'PYEOF'
import sys
import numpy as np
a = np.clip(np.fromfile(sys.argv[1], dtype='<f4').astype(np.float64), 0, 1)
b = np.clip(np.fromfile(sys.argv[2], dtype='<f4').astype(np.float64), 0, 1)
mse = np.mean((a - b) ** 2)
m8 = np.mean((np.round(a * 255) - np.round(b * 255)) ** 2)
p = 10 * np.log10(1 / mse) if mse > 0 else float('inf')
p8 = 10 * np.log10(255 ** 2 / m8) if m8 > 0 else float('inf')
print("| %s | %s | %s | %.2f | %.2f | %.4f |" % (sys.argv[3], sys.argv[4], sys.argv[5], p, p8, np.max(np.abs(a - b))))
PYEOF
  done
done
