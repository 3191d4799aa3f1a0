#!/bin/bash
# bench/serve/soak.sh - soak run: DURATION seconds (default 600) of mixed valid and invalid
# requests (x4fast x2 and resize successes; 400, 415, 422 errors) from CLIENTS clients,
# with the server's RSS sampled every SAMPLE seconds into $WORK/soak_rss.csv. Passes when
# every request got the expected answer, the server never crashed, it drained with exit 0,
# and RSS after warm-up stays flat (last-quarter mean within 10% of the second-quarter mean).
# Env: BUILD, MODELS_DIR, DURATION (600), CLIENTS (4), SAMPLE (5).
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-600}
CLIENTS=${CLIENTS:-4}
SAMPLE=${SAMPLE:-5}
cat >"$WORK/soak.json" <<JSON
{"models_dir": "$MODELS_DIR",
 "models": [{"name": "realesrgan-x4fast", "max_batch": 4, "max_queue_delay_ms": 2, "max_queue": 64,
             "default_deadline_ms": 600000}]}
JSON
start_server "$WORK/soak.json"
echo "t_s,rss_kib" >"$WORK/soak_rss.csv"
( t0=$(date +%s); while kill -0 "$SERVER_PID" 2>/dev/null; do
    echo "$(( $(date +%s) - t0 )),$(awk '/VmRSS/ {print $2}' /proc/$SERVER_PID/status 2>/dev/null)" >>"$WORK/soak_rss.csv"
    sleep "$SAMPLE"; done ) &
SAMPLER=$!
rc=0
"$LOADGEN" --url "http://127.0.0.1:$PORT" --image "$IMG" --query "upscale=photo&scale=2&format=jpeg" \
  --concurrency "$CLIENTS" --mix --duration "$DURATION" --window 30 --warmup 1 || rc=1
alive=1; kill -0 "$SERVER_PID" 2>/dev/null || alive=0
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^enhance_requests_total|^process_resident' || true
src=0; stop_server || src=$?
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
echo "# server alive at the end: $alive, exit status after SIGTERM: $src"
echo "# RSS (MiB) every ${SAMPLE}s:"
awk -F, 'NR>1 && $2 != "" { printf "%s:%.0f ", $1, $2/1024 } END { print "" }' "$WORK/soak_rss.csv"
awk -F, 'NR>1 && $2 != "" { v[n++] = $2 } END {
  if (n < 8) { print "# too few samples"; exit 1 }
  q = int(n / 4); a = 0; b = 0;
  for (i = q; i < 2 * q; i++) a += v[i]; for (i = 3 * q; i < n; i++) b += v[i];
  a /= q; b /= (n - 3 * q);
  printf "# RSS second quarter %.0f MiB, last quarter %.0f MiB (%+.1f%%): %s\n", a/1024, b/1024, 100*(b-a)/a,
         (b - a) / a <= 0.10 ? "flat" : "GROWING"; exit (b - a) / a <= 0.10 ? 0 : 1 }' "$WORK/soak_rss.csv" || rc=1
[ "$alive" = 1 ] && [ "$src" = 0 ] || rc=1
echo "# soak: $([ $rc = 0 ] && echo PASS || echo FAIL)"
exit $rc
