#!/bin/bash
# bench/serve/fleet.sh - the heavy variant of the fleet test (CTest deploy.fleet): the same
# scenario as deploy/local/fleet.py test (3 replicas behind HAProxy, mixed load through a
# rolling restart and a kill -9, then the autoscaling signal on 1 -> 2 -> 3 replicas), with
# longer phases, more clients and bigger replicas. Prints the markdown tables for
# deploy/README.md and keeps the CSVs and logs in $WORK/fleet.
# Env: BUILD (build/release), MODELS_DIR, CORES (per replica, 1), CLIENTS (12), STEADY (s, 20),
#      WINDOW (s, 20), OVERLOAD (1.6).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
WORK=${WORK:-$ROOT/.cache/serve-bench}
MODELS_DIR=${MODELS_DIR:-${ENHANCE_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/enhance/models}}
rm -rf "$WORK/fleet"
exec python3 "$ROOT/deploy/local/fleet.py" test --enhance "$BUILD/enhance" \
  --loadgen "$BUILD/bench/serve/serve_loadgen" --models-dir "$MODELS_DIR" --work "$WORK/fleet" \
  --cores "${CORES:-1}" --clients "${CLIENTS:-12}" --steady "${STEADY:-20}" --window "${WINDOW:-20}" \
  --overload "${OVERLOAD:-1.6}" --max-requests 20000
