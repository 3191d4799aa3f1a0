#!/bin/bash
# rss_after_burst.sh ENHANCE [N] [CONC] - the server's resident memory idle, right after a burst
# of N POSTs (a 3000x2000 noise JPEG resized to 1500 wide, PNG out; CONC at a time) and 3 s
# later, when the monitor has trimmed the heap. Needs curl and the `vips` tool.
# Figures (2-core shared machine, Release): idle 68 MB, after 300 requests 129 MB, 3 s later
# 69 MB (without the mmap threshold and malloc_trim: 77 -> 462 MB, never lower).
set -eu
E=$(readlink -f "$1"); N=${2:-300}; C=${3:-8}
T=$(mktemp -d); trap 'kill $PID 2>/dev/null; rm -rf "$T"' EXIT
vips gaussnoise "$T/n.v" 3000 2000 --mean 128 --sigma 40
vips bandjoin "$T/n.v $T/n.v $T/n.v" "$T/c.v"
vips cast "$T/c.v" "$T/big.jpg" uchar
"$E" serve --port 0 --port-file "$T/port" --log-level warn & PID=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
P=$(cat "$T/port")
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$P/readyz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/{printf "%.0f MB", $2/1024}' /proc/$PID/status; }
echo "idle: $(rss)"
seq 1 "$N" | xargs -P "$C" -I{} curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: image/jpeg' \
  --data-binary @"$T/big.jpg" "http://127.0.0.1:$P/v1/enhance?width=1500&format=png" | sort | uniq -c
echo "right after $N requests: $(rss)"; sleep 3; echo "3 s later: $(rss)"
