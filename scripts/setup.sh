#!/bin/bash
# Quick start, command 1: installs what is missing (Debian packages, the default model),
# builds enhance, and enhances the sample photo. Safe to run again (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
bash samples/make_samples.sh build/release/enhance
mkdir -p samples/out
build/release/enhance samples/sample.jpg -o samples/out/sample_x2.png --scale 2
echo "== done: samples/sample.jpg -> $(pwd)/samples/out/sample_x2.png"
