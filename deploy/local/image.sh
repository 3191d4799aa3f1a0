#!/bin/bash
# deploy/local/image.sh - builds the enhance container image without a container registry:
# a minimal Debian 12 root made by debootstrap from the Debian mirror (the runtime packages of
# deploy/Dockerfile's final stage), the enhance command built here (same Debian 12, plain
# Release build: no test hooks), the models and deploy/models.json; imported into podman as
# an OCI image with the Dockerfile's user, entrypoint and command. Then it runs the image on
# loopback and checks /readyz, one enhance request, and the exit status after SIGTERM (drain).
# The Dockerfile stays the recipe for machines that can pull debian:12-slim.
#
#   sudo apt-get install debootstrap podman runc   # Debian 12; run as root (debootstrap chroots)
#   deploy/local/image.sh                       # -> image localhost/enhance:local
#
# Env: BUILD (build/image: configured and built here), MODELS_DIR, MIRROR
#      (http://deb.debian.org/debian), WORK (.cache/image), TAG (localhost/enhance:local),
#      PORT (18080, loopback, for the check), PROBE_PORT (18081: the probes' listener).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/image}
WORK=${WORK:-$ROOT/.cache/image}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
TAG=${TAG:-localhost/enhance:local}
PORT=${PORT:-18080}
PROBE_PORT=${PROBE_PORT:-18081}
MODELS_DIR=${MODELS_DIR:-${ENHANCE_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/enhance/models}}
# vfs storage and cgroupfs: no overlay mounts or systemd needed. runc rather than crun where
# installed: crun refuses hybrid cgroup v1/v2 hosts ("cgroups in hybrid mode not supported").
PODMAN=(podman --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
command -v runc >/dev/null && PODMAN+=(--runtime runc)
# podman raises RLIMIT_NOFILE/NPROC for root containers; without CAP_SYS_RESOURCE in the
# bounding set (sandboxes, some CI runners) that is "Operation not permitted": keep the open
# files at our hard limit, and the processes at 8192 (the host's own hard limit was refused
# too on the machine where this was written; the server runs a few dozen threads).
ULIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=8192:8192")
[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap needs chroot)" >&2; exit 1; }
for t in debootstrap podman vips; do
  command -v $t >/dev/null || { echo "missing $t: apt-get install debootstrap podman runc libvips-tools" >&2; exit 1; }
done
mkdir -p "$WORK"

echo "== 1. enhance (plain Release build in $BUILD)"
if [ ! -x "$BUILD/enhance" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target enhance
fi

ROOTFS=$WORK/rootfs
echo "== 2. Debian 12 root ($ROOTFS, from $MIRROR)"
if [ ! -x "$ROOTFS/usr/bin/curl" ]; then
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase --include=libvips42,libmicrohttpd12,libjansson4,curl,ca-certificates \
    bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log"
  chroot "$ROOTFS" apt-get clean
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin
fi

echo "== 3. files: the command, the models, the config, the user"
install -D -m 755 "$BUILD/enhance" "$ROOTFS/usr/local/bin/enhance"
missing=$(chroot "$ROOTFS" ldd /usr/local/bin/enhance | grep "not found" || true)
[ -z "$missing" ] || { echo "libraries missing in the root: $missing" >&2; exit 1; }
mkdir -p "$ROOTFS/opt/enhance/models" "$ROOTFS/etc/enhance"
served=()
for m in realesrgan-x4fast realesrgan-x4plus; do
  if [ -f "$MODELS_DIR/$m.param" ]; then
    cp "$MODELS_DIR/$m.param" "$MODELS_DIR/$m.bin" "$ROOTFS/opt/enhance/models/"; served+=("$m")
  fi
done
((${#served[@]})) || { echo "no model in $MODELS_DIR: enhance models fetch realesrgan-x4fast" >&2; exit 1; }
# deploy/models.json, less the models not installed here (the image must be able to get ready)
python3 - "$ROOT/deploy/models.json" "$ROOTFS/etc/enhance/models.json" "${served[@]}" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["models"] = [m for m in c["models"] if m["name"] in sys.argv[3:]]
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
grep -q '^enhance:' "$ROOTFS/etc/passwd" ||
  chroot "$ROOTFS" useradd --system --uid 10001 --home /nonexistent --shell /usr/sbin/nologin enhance

echo "== 4. OCI image $TAG"
tar -C "$ROOTFS" -c . | "${PODMAN[@]}" import \
  --change 'USER 10001' --change 'ENV ENHANCE_MODELS_DIR=/opt/enhance/models' --change 'EXPOSE 8080 8081' \
  --change 'STOPSIGNAL SIGTERM' --change 'ENTRYPOINT ["/usr/local/bin/enhance", "serve"]' \
  --change 'CMD ["--host", "0.0.0.0", "--port", "8080", "--probe-port", "8081", "--models-config", "/etc/enhance/models.json", "--drain-timeout", "45"]' \
  - "$TAG" >/dev/null
"${PODMAN[@]}" images "$TAG"

echo "== 5. run it on 127.0.0.1:$PORT (probes on $PROBE_PORT): /readyz, one request, SIGTERM"
name=enhance-image-check
"${PODMAN[@]}" rm -f "$name" >/dev/null 2>&1 || true
"${PODMAN[@]}" run -d --name "$name" --network host "${ULIMITS[@]}" "$TAG" \
  --host 127.0.0.1 --port "$PORT" --probe-port "$PROBE_PORT" --models-config /etc/enhance/models.json --drain-timeout 45 >/dev/null
ok=0
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$PROBE_PORT/readyz" >/dev/null 2>&1 && { ok=1; break; }
  sleep 0.1
done
[ $ok = 1 ] || { "${PODMAN[@]}" logs "$name"; echo "FAIL: not ready" >&2; exit 1; }
echo "readyz (probe port): $(curl -s "http://127.0.0.1:$PROBE_PORT/readyz")"
vips black "$WORK/in.v" 64 48 --bands 3 && vips linear "$WORK/in.v" "$WORK/in2.v" 1 90 &&
  vips cast "$WORK/in2.v" "$WORK/in.png" uchar && rm -f "$WORK"/in*.v
code=$(curl -s -o "$WORK/out.png" -D "$WORK/headers.txt" -w '%{http_code}' --data-binary @"$WORK/in.png" \
  -H 'Content-Type: image/png' "http://127.0.0.1:$PORT/v1/enhance?upscale=photo&scale=4&format=png")
size=$(vipsheader -f width "$WORK/out.png")x$(vipsheader -f height "$WORK/out.png")
echo "POST /v1/enhance?upscale=photo&scale=4 (64x48 PNG): HTTP $code, $size, $(grep -i '^x-model' "$WORK/headers.txt" | tr -d '\r')"
"${PODMAN[@]}" stop -t 60 "$name" >/dev/null
rc=$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$name")
"${PODMAN[@]}" rm "$name" >/dev/null
echo "exit status after SIGTERM: $rc"
[ "$code" = 200 ] && [ "$size" = 256x192 ] && [ "$rc" = 0 ] && echo "# image: PASS" || { echo "# image: FAIL"; exit 1; }
