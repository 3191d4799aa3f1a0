# bench/serve/common.sh - helpers for run_sweep.sh and soak.sh (sourced).
# Finds the server command, the load generator, a models folder with realesrgan-x4fast,
# makes the 256x256 JPEG input, starts/stops the server on a free loopback port.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
WORK=${WORK:-$ROOT/.cache/serve-bench}
mkdir -p "$WORK"
LOADGEN=$BUILD/bench/serve/serve_loadgen
BASELINE=$BUILD/bench/serve/serve_pipeline_baseline
SERVER=("$BUILD/enhance" serve)
for f in "$LOADGEN" "$BASELINE" "${SERVER[0]}"; do
  [ -x "$f" ] || { echo "missing $f: build first (scripts/build.sh release or BUILD=...)" >&2; exit 1; }
done
MODELS_DIR=${MODELS_DIR:-${ENHANCE_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/enhance/models}}
[ -f "$MODELS_DIR/realesrgan-x4fast.param" ] || {
  echo "realesrgan-x4fast is not in $MODELS_DIR: run 'enhance models fetch realesrgan-x4fast' or set MODELS_DIR" >&2; exit 1; }
PHOTOS=${PHOTOS:-$ROOT/../shared/photos}
[ -d "$PHOTOS" ] || PHOTOS=/work/shared/photos
IMG=$WORK/in256.jpg
if [ ! -s "$IMG" ]; then   # centre 256x256 of a real photo, JPEG q90
  src=$PHOTOS/dune.jpg
  w=$(vipsheader -f width "$src"); h=$(vipsheader -f height "$src")
  vips crop "$src" "$WORK/crop.v" $(( (w - 256) / 2 )) $(( (h - 256) / 2 )) 256 256
  vips jpegsave "$WORK/crop.v" "$IMG" --Q 90
  rm -f "$WORK/crop.v"
fi

SERVER_PID=
start_server() {  # start_server CONFIG [extra options...]; sets PORT and SERVER_PID
  local cfg=$1; shift
  rm -f "$WORK/port"
  "${SERVER[@]}" --models-config "$cfg" --port 0 --port-file "$WORK/port" --log-level warn "$@" \
    >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  PORT=$(cat "$WORK/port")
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; return 1; }
    sleep 0.1
  done
  echo "server not ready" >&2; return 1
}
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local rc=0; wait "$SERVER_PID" || rc=$?
  SERVER_PID=
  return $rc
}
trap 'stop_server >/dev/null 2>&1 || true' EXIT
