#!/bin/bash
# Quick start, command 1: installs what is missing (Debian packages, the default model),
# builds enhance, and enhances the sample photo. Safe to run again (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
bash samples/make_samples.sh build/release/enhance
mkdir -p samples/out
# the default AI model (skipped when installed and verified); without it, lanczos
if build/release/enhance models fetch; then
  build/release/enhance samples/sample.jpg -o samples/out/sample_x2.png --upscale 2
else
  echo "== could not fetch the AI model (no npm or no network?): resizing the sample with lanczos instead" >&2
  build/release/enhance samples/sample.jpg -o samples/out/sample_x2.png --scale 2
fi
echo "== done: samples/sample.jpg -> $(pwd)/samples/out/sample_x2.png"
echo "== the server and its web page: build/release/enhance serve, then open http://127.0.0.1:8080/"
