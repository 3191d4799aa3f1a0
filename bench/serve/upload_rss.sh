#!/bin/bash
# upload_rss.sh ENHANCE [N] [MB] [-- SERVER_ARGS...] - peak server memory under N concurrent
# uploads of an MB-megabyte image (a noise PNG stored uncompressed, so the upload is that big;
# JPEG out). Prints the answers' status counts, the server's VmHWM (peak RSS) and VmRSS after.
# Figures and the commands behind them: src/serve/README.md, "Memory of uploads".
set -eu
E=$(readlink -f "$1"); N=${2:-16}; MB=${3:-45}; shift 3 || true
[ "${1:-}" = "--" ] && shift
T=$(mktemp -d); PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$T"' EXIT
side=$(awk -v mb="$MB" 'BEGIN{printf "%d", sqrt(mb*1e6/3)}')
vips gaussnoise "$T/n.v" "$side" "$side" --mean 128 --sigma 40
vips bandjoin "$T/n.v $T/n.v $T/n.v" "$T/c.v"
vips cast "$T/c.v" "$T/u.v" uchar
vips pngsave "$T/u.v" "$T/big.png" --compression 0
mkdir "$T/models"
ENHANCE_MODELS_DIR="$T/models" "$E" serve --port 0 --port-file "$T/port" --log-level warn "$@" & PID=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
P=$(cat "$T/port")
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$P/readyz" >/dev/null && break; sleep 0.1; done
st() { awk -v k="$1" '$1==k":"{printf "%.0f MB", $2/1024}' /proc/$PID/status; }
echo "upload $(stat -c %s "$T/big.png") bytes (${side}x${side} RGB), $N at once; server args: $*"
echo "idle: RSS $(st VmRSS)"
t0=$(date +%s.%N)
# the peak's parts: anonymous memory (heap, pixels) and file pages (spooled uploads mapped by a loader)
( while kill -0 $PID 2>/dev/null; do awk '/RssAnon|RssFile/{print $1, $2}' /proc/$PID/status; sleep 0.1; done \
  | awk '{if ($2 > m[$1]) m[$1] = $2} END {printf "peak RssAnon %.0f MB, peak RssFile %.0f MB\n", m["RssAnon:"]/1024, m["RssFile:"]/1024}' \
  > "$T/parts" ) &
SAMPLER=$!
seq 1 "$N" | xargs -P "$N" -I{} curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: image/png' \
  --data-binary @"$T/big.png" "http://127.0.0.1:$P/v1/enhance?format=jpeg" | sort | uniq -c
echo "wall $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s; peak RSS (VmHWM) $(st VmHWM); RSS after $(st VmRSS); load $(cut -d' ' -f1-3 /proc/loadavg)"
kill $PID; wait $PID 2>/dev/null || true; PID=; wait $SAMPLER 2>/dev/null || true
cat "$T/parts"
