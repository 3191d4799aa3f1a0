#!/bin/bash
# moderation_overhead.sh ENHANCE [ROUNDS] [PHOTO] - what moderation=flag (the nsfwjs classifier
# on the decoded input) and POST /v1/check add to an x2 upscale request of a typical photo:
# PHOTO (default: the first of ../shared/photos) resized to 640x480 JPEG, sent as
# `upscale=photo&scale=2` (realesrgan-x4fast, 640x480 -> 1280x960) with moderation=off and
# moderation=flag in alternation, one request at a time, ROUNDS (default 5) of each. Per request:
# the wall time seen by curl and the server process's CPU time (user+sys from /proc, so other
# processes on a shared machine do not count); the load average is printed with the result.
# RAW=1 prints every round. Needs curl, the `vips` tool, realesrgan-x4fast and nsfwjs-mobilenetv2 installed.
set -eu
E=$(readlink -f "$1"); R=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
PHOTO=${3:-$(ls "$HERE"/../../../shared/photos/*.jpg 2>/dev/null | head -1)}
T=$(mktemp -d); trap 'kill $PID 2>/dev/null; rm -rf "$T"' EXIT
vips thumbnail "$PHOTO" "$T/in.jpg[Q=90]" 640 --height 480 --size force
MD=${ENHANCE_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/enhance/models}
echo "{\"models_dir\": \"$MD\", \"models\": [{\"name\": \"realesrgan-x4fast\", \"instances\": 1}]}" > "$T/models.json"
"$E" serve --port 0 --port-file "$T/port" --log-level warn --no-access-log --models-config "$T/models.json" & PID=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
P=$(cat "$T/port")
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$P/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$P/readyz" >/dev/null || { echo "the server did not become ready" >&2; exit 1; }
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{printf "%.3f", ($14 + $15) / t}' "/proc/$PID/stat"; }
# one request: prints "wall_s cpu_s"
one() {
    local c0 c1 w
    c0=$(cpu)
    w=$(curl -s -o "$T/out" -w '%{time_total} %{http_code}' -H 'Content-Type: image/jpeg' \
        --data-binary @"$T/in.jpg" "http://127.0.0.1:$P$1")
    c1=$(cpu)
    case "$w" in *" 200") ;; *) echo "request $1 failed: $w $(head -c 300 "$T/out")" >&2; exit 1 ;; esac
    echo "${w% *} $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.3f", b - a}')"
}
UP="/v1/enhance?upscale=photo&scale=2&format=jpeg"
one "$UP" >/dev/null; one "$UP&moderation=flag" >/dev/null; one "/v1/check" >/dev/null   # warm-up: loads
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$T/off"; : > "$T/flag"; : > "$T/check"
for _ in $(seq 1 "$R"); do
    one "$UP" >> "$T/off"
    one "$UP&moderation=flag" >> "$T/flag"
    one "/v1/check?skip=brisque,assess" >> "$T/check"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${RAW:-}" ]; then echo "per round (wall s, CPU s): off | flag | check"; paste "$T/off" "$T/flag" "$T/check"; fi
med() { sort -n -k"$2" "$1" | awk -v k="$2" '{v[NR]=$k} END{print v[int((NR+1)/2)]}'; }
for k in off flag check; do
    printf '%-6s median wall %6.3f s, median server CPU %6.3f s  (%d requests)\n' "$k" "$(med "$T/$k" 1)" \
        "$(med "$T/$k" 2)" "$(wc -l < "$T/$k")"
done
awk -v wo="$(med "$T/off" 1)" -v wf="$(med "$T/flag" 1)" -v co="$(med "$T/off" 2)" -v cf="$(med "$T/flag" 2)" \
    'BEGIN{printf "moderation=flag adds %+.1f%% wall, %+.1f%% server CPU to the x2 upscale (target < 10%%)\n",
           100 * (wf - wo) / wo, 100 * (cf - co) / co}'
