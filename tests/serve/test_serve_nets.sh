#!/bin/bash
# test_serve_nets.sh ENHANCE - the restoration networks in the server (src/serve/net_stage.c):
# `denoise=ai&upscale=2` runs maxim-denoising through its own batcher, then the upscaler, in
# one request; Server-Timing has the network's queue and compute; /metrics has the network's
# own queue and compute histograms; a request cancelled (client gone) while its network is
# queued behind another leaves no request in flight; a network that would pass the deadline
# is refused before it starts (504 with its cost). Skips (77) unless maxim-denoising is
# installed (enhance models fetch maxim-denoising).
set -u
E=$(readlink -f "$1")
VIPS=${ENH_VIPS_TOOL:-vips}
T=$(mktemp -d "${TMPDIR:-/tmp}/enh-nets-XXXXXX")
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
if ! "$E" models list 2>/dev/null | grep -Eq '^maxim-denoising +x1 .* yes '; then
    echo "SKIP: maxim-denoising is not installed"
    exit 77
fi
"$VIPS" black "$T/b.v" 64 48 --bands 3 && "$VIPS" gaussnoise "$T/n.v" 64 48 --mean 128 --sigma 30 &&
    "$VIPS" add "$T/b.v" "$T/n.v" "$T/s.v" && "$VIPS" cast "$T/s.v" "$T/u.v" uchar &&
    "$VIPS" copy "$T/u.v" "$T/in.png" --interpretation srgb || { echo "no fixture"; exit 1; }
"$E" serve --port 0 --port-file "$T/port" --no-access-log 2>"$T/log" &
PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && curl -sf "http://127.0.0.1:$(cat "$T/port")/readyz" >/dev/null && break; sleep 0.2; done
U="http://127.0.0.1:$(cat "$T/port")"

curl -s -D "$T/h" -o "$T/out.png" --data-binary @"$T/in.png" -H 'Content-Type: image/png' \
    "$U/v1/enhance?denoise=ai&upscale=2&format=png" || fail "request failed"
grep -qi '^HTTP/1.1 200' "$T/h" || fail "status: $(head -1 "$T/h")"
grep -i '^Server-Timing:' "$T/h" | grep -q 'maxim-denoising-queue;dur=[0-9.]*, maxim-denoising;dur=' ||
    fail "Server-Timing lacks the network stage: $(grep -i server-timing "$T/h")"
grep -qi '^X-Image-Width: 128' "$T/h" || fail "not upscaled x2 after the network"
curl -s "$U/metrics" >"$T/m"
grep -q 'model="maxim-denoising"' "$T/m" || fail "no metrics for the network"
grep -E 'queue[a-z_]*_count\{model="maxim-denoising"' "$T/m" | grep -q ' 1$' ||
    fail "no queue histogram sample for the network: $(grep maxim "$T/m" | head -5)"
grep -E 'compute[a-z_]*_count\{model="maxim-denoising"' "$T/m" | grep -q ' 1$' ||
    fail "no compute histogram sample for the network"

# a network that would pass the deadline is refused before it starts (504, says the cost)
"$VIPS" black "$T/bb.v" 1600 1000 --bands 3 && "$VIPS" linear "$T/bb.v" "$T/bg.v" 1 100 &&
    "$VIPS" cast "$T/bg.v" "$T/bu.v" uchar && "$VIPS" copy "$T/bu.v" "$T/big.png" --interpretation srgb
code=$(curl -s -o "$T/e.json" -w '%{http_code}' --data-binary @"$T/big.png" -H 'Content-Type: image/png' \
    "$U/v1/enhance?denoise=ai&deadline_ms=3000")
[ "$code" = 504 ] || fail "deadline refusal: HTTP $code"
grep -q 'would need about' "$T/e.json" || fail "the refusal does not give the cost: $(cat "$T/e.json")"

# cancel: a second request queued behind a first, its client gone after 0.3 s
curl -s -o /dev/null --data-binary @"$T/in.png" -H 'Content-Type: image/png' "$U/v1/enhance?denoise=ai" &
C1=$!
curl -s -m 0.3 -o /dev/null --data-binary @"$T/in.png" -H 'Content-Type: image/png' "$U/v1/enhance?denoise=ai"
wait "$C1"
for _ in $(seq 100); do
    curl -s "$U/metrics" | grep -E '^enhance_inflight_requests[^ ]* 0$' -q && break
    sleep 0.2
done
curl -s "$U/metrics" | grep -E '^enhance_inflight_requests' | grep -vq ' 0$' &&
    fail "requests still in flight after the cancel: $(curl -s "$U/metrics" | grep inflight)"
echo "$FAILS failures"
[ "$FAILS" = 0 ]
