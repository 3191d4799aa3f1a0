#!/bin/bash
# bench/serve/run_sweep.sh - perf_analyzer-style concurrency sweep of `enhance serve` for a
# fixed pipeline: 256x256 JPEG -> realesrgan-x4fast x2 -> JPEG, clients 1,2,4,8,16.
# Prints the in-process pipeline baseline (1 thread and all cores) and, per concurrency,
# throughput and p50/p90/p99 latency from stable measurement windows, then checks the
# issue-5 targets: throughput at 8 clients >= 95% of (1-thread throughput x cores), and
# p99 at 2 clients <= 1.3 x p50.
# Env: BUILD (build/release), MODELS_DIR, WINDOW (s, 10), CONC (1,2,4,8,16), CORES (nproc),
#      INSTANCES (1), MAX_BATCH (4), DELAY_MS (2), QUERY.
source "$(dirname "$0")/common.sh"
WINDOW=${WINDOW:-10}
CONC=${CONC:-1,2,4,8,16}
CORES=${CORES:-$(nproc)}
INSTANCES=${INSTANCES:-1}
MAX_BATCH=${MAX_BATCH:-4}
DELAY_MS=${DELAY_MS:-2}
QUERY=${QUERY:-upscale=photo&scale=2&format=jpeg}
cat >"$WORK/sweep.json" <<JSON
{"models_dir": "$MODELS_DIR",
 "models": [{"name": "realesrgan-x4fast", "instances": $INSTANCES, "max_batch": $MAX_BATCH,
             "max_queue_delay_ms": $DELAY_MS, "max_queue": 64, "default_deadline_ms": 600000}]}
JSON
echo "# machine: $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), cores used $CORES"
echo "# pipeline baseline (in-process, no HTTP), $QUERY on $(basename "$IMG"):"
b1=$("$BASELINE" --image "$IMG" --query "$QUERY" --threads 1 --runs 5 --models-dir "$MODELS_DIR")
echo "  $b1"
bN=$("$BASELINE" --image "$IMG" --query "$QUERY" --threads "$CORES" --runs 5 --models-dir "$MODELS_DIR")
echo "  $bN"
ips1=$(sed -E 's/.*= ([0-9.]+) images\/s.*/\1/' <<<"$b1")
start_server "$WORK/sweep.json" --cores "$CORES"
echo "# server: ${SERVER[*]} on port $PORT, instances $INSTANCES, max_batch $MAX_BATCH, max_queue_delay ${DELAY_MS} ms"
out=$("$LOADGEN" --url "http://127.0.0.1:$PORT" --image "$IMG" --query "$QUERY" --concurrency "$CONC" \
      --window "$WINDOW" --stable-windows 3 --max-windows 8 --stability 0.15 --warmup 3)
echo "$out"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^enhance_batch_size_(sum|count)|^enhance_tiles_total' || true
stop_server
thr8=$(awk -F'|' '$2+0==8 {print $3+0}' <<<"$out")
p50_2=$(awk -F'|' '$2+0==2 {print $4+0}' <<<"$out")
p99_2=$(awk -F'|' '$2+0==2 {print $6+0}' <<<"$out")
if [ -n "$thr8" ]; then
  awk -v t="$thr8" -v b="$ips1" -v c="$CORES" 'BEGIN { r = t / (b * c);
    printf "# target 1: throughput at 8 clients %.3f img/s vs 1-thread %.3f x %d cores = %.3f -> %.1f%% (need >= 95%%): %s\n",
           t, b, c, b * c, 100 * r, (r >= 0.95 ? "PASS" : "FAIL") }'
fi
if [ -n "$p50_2" ]; then
  awk -v a="$p50_2" -v b="$p99_2" 'BEGIN { printf "# target 2: p99/p50 at 2 clients = %.0f/%.0f ms = %.2f (need <= 1.3): %s\n",
           b, a, b / a, (b / a <= 1.3 ? "PASS" : "FAIL") }'
fi
