#!/bin/bash
# scaling_pinned.sh - the 1 -> N thread speedup of `enhance bench`, measured against a 1-thread
# run on EACH CPU (pinned with taskset), not only wherever the scheduler puts it. On a shared VM
# the vCPUs' caches and memory differ from minute to minute (bench/README.md, "Thread scaling,
# fifth pass"), so an unpinned 1-thread time is taken on a random one of them and the speedup
# moves with it. Per round: 1 thread pinned to each CPU in turn, then N threads unpinned.
# Prints per round the 1-thread medians per CPU and the N-thread median, then the speedup of
# the medians over the rounds against the fastest CPU, the slowest, and their mean.
# Each round also runs N 1-thread processes at once, pinned to CPUs 0..N-1: they share no data
# and never wait for each other, so their combined rate is the most N threads could do on the
# machine at that time (both vCPUs busy, each at its own speed). The script prints that ceiling
# as a speedup over the fastest CPU alone, and the share of it the N-thread run reaches.
#
#   bench/scaling_pinned.sh                                 # x4plus 64x64, 2 threads, 5 rounds
#   MODEL=realesrgan-x4fast SIZE=256 ROUNDS=3 bench/scaling_pinned.sh
#   ENHANCE=build/release/enhance THREADS=2 RUNS=5 bench/scaling_pinned.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
MODEL=${MODEL:-realesrgan-x4plus}
SIZE=${SIZE:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-5}
ENHANCE=${ENHANCE:-build/release/enhance}
[ -x "$ENHANCE" ] || { echo "scaling_pinned: $ENHANCE not found; build first or set ENHANCE=" >&2; exit 1; }
command -v taskset >/dev/null || { echo "scaling_pinned: taskset (util-linux) is needed" >&2; exit 1; }
ncpu=$(nproc)

median_ms() { # THREADS [PREFIX...]: the "median X ms" of one `enhance bench` invocation
  local t=$1
  shift
  "$@" "$ENHANCE" bench --model "$MODEL" --size "$SIZE" --threads "$t" --runs "$RUNS" 2>&1 |
    sed -n 's/.*runs after 1 warm-up: median \([0-9.]*\) ms.*/\1/p' || true
}

out=$(mktemp)
trap 'rm -f "$out" "$out".*' EXIT
echo "$MODEL ${SIZE}x${SIZE}, $THREADS threads vs 1 thread pinned to each of $ncpu CPUs, $ROUNDS rounds of $RUNS runs"
for r in $(seq "$ROUNDS"); do
  line="round $r:"
  for c in $(seq 0 $((ncpu - 1))); do
    v=$(median_ms 1 taskset -c "$c")
    [ -n "$v" ] || { echo "scaling_pinned: enhance bench failed" >&2; exit 1; }
    echo "cpu$c $v" >>"$out"
    line="$line 1t@cpu$c $v ms"
  done
  v=$(median_ms "$THREADS")
  [ -n "$v" ] || { echo "scaling_pinned: enhance bench failed" >&2; exit 1; }
  echo "nt $v" >>"$out"
  line="$line | ${THREADS}t $v ms | at once:"
  for c in $(seq 0 $((THREADS - 1))); do # N 1-thread processes at once, started together
    median_ms 1 taskset -c $((c % ncpu)) >"$out.$c" &
  done
  wait
  for c in $(seq 0 $((THREADS - 1))); do
    v=$(cat "$out.$c")
    [ -n "$v" ] || { echo "scaling_pinned: enhance bench failed" >&2; exit 1; }
    echo "tog$c $v" >>"$out"
    line="$line $v"
  done
  echo "$line ms"
done
/usr/bin/python3 - "$out" <<'PY'
import collections, statistics, sys
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, v = line.split()
    d[k].append(float(v))
nt = statistics.median(d.pop('nt'))
tog = {k: statistics.median(d.pop(k)) for k in sorted(k for k in list(d) if k.startswith('tog'))}
one = {k: statistics.median(v) for k, v in sorted(d.items())}
print('medians: ' + ', '.join('1t@%s %.1f ms' % kv for kv in one.items()) + ', N threads %.1f ms' % nt)
fast, slow, mean = min(one.values()), max(one.values()), statistics.mean(one.values())
print('speedup: %.2fx against the fastest CPU, %.2fx against the slowest, %.2fx against their mean'
      % (fast / nt, slow / nt, mean / nt))
ceil_ms = 1 / sum(1 / v for v in tog.values()) # one run per ceil_ms from all processes together
print('ceiling: %d 1-thread processes at once took %s ms, one run every %.1f ms together = %.2fx '
      'the fastest CPU alone; the N-thread run reaches %.0f%% of that rate'
      % (len(tog), ' / '.join('%.1f' % v for v in tog.values()), ceil_ms, fast / ceil_ms, 100 * ceil_ms / nt))
PY
