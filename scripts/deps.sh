#!/bin/bash
# Installs the Debian packages enhance needs, only those missing. Idempotent.
# Sourced or run by setup.sh and test.sh.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libvips-dev libvips-tools libmicrohttpd-dev libjansson-dev
      libcmocka-dev libcurl4-openssl-dev libonnx-testdata python3-numpy python3-pil time curl npm
      chromium chromium-driver python3-selenium   # these three: the web page's browser test
      haproxy python3-yaml kubernetes-client       # these three: tests/deploy (fleet, manifests)
      opencv-data)                                 # BRISQUE's model files (src/enhance/brisque.h)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# npm may come with Node.js from elsewhere; only ask apt for it when no npm exists.
if command -v npm >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = npm ] || tmp+=("$p"); done; missing=("${tmp[@]+"${tmp[@]}"}")
fi
# kubectl (tests/deploy renders deploy/k8s with it) may come from elsewhere (e.g. Google's
# kubectl package, whose /usr/bin/kubectl kubernetes-client would conflict with).
if command -v kubectl >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = kubernetes-client ] || tmp+=("$p"); done; missing=("${tmp[@]+"${tmp[@]}"}")
fi
if ((${#missing[@]})); then
  echo "== installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
