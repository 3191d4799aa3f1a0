#!/bin/bash
# Configures and builds one tree: scripts/build.sh release|asan. Idempotent, incremental.
# Both trees are test builds: the enhance command has its test hooks (ENH_TEST_HOOKS).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
jobs=$(nproc 2>/dev/null || echo 2)
case "$kind" in
  release) cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DENH_TEST_HOOKS=ON >/dev/null ;;
  asan)    cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENH_SANITIZE=ON -DENH_TEST_HOOKS=ON >/dev/null ;;
  *) echo "usage: scripts/build.sh release|asan" >&2; exit 1 ;;
esac
cmake --build "build/$kind" -j"$jobs"
