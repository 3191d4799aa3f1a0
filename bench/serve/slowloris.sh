#!/bin/bash
# slowloris.sh ENHANCE [N] [SECONDS] [-- SERVER_ARGS...] - N slow connections (default 2000) from
# 127.0.0.1, each sending its headers one byte every 3 s and reopened when the server closes it,
# against `enhance serve` (empty models folder, --probe-port); while they run, for SECONDS
# (default 60): GET /healthz every 0.5 s on the main port from 127.0.0.2 and on the probe port
# from 127.0.0.1, and POST a 640x480 JPEG to /v1/enhance from 127.0.0.2 every 3 s. Prints the
# latencies and status codes, the server's connection gauges and the load average; exit 1 when
# a /healthz took 100 ms or more or any answer was not 200 (bench/serve/slowloris.py).
# Raises `ulimit -n` to the hard limit (the attacker needs N + 64 descriptors).
set -eu
E=$(readlink -f "$1"); shift
N=2000; S=60
[ $# -gt 0 ] && [ "$1" != -- ] && { N=$1; shift; }
[ $# -gt 0 ] && [ "$1" != -- ] && { S=$1; shift; }
[ $# -gt 0 ] && [ "$1" = -- ] && shift
HERE=$(cd "$(dirname "$0")" && pwd)
PY=$(command -v python3)
ulimit -n "$(ulimit -Hn)"
T=$(mktemp -d); PID=; APID=
trap 'kill $APID 2>/dev/null; kill $PID 2>/dev/null; rm -rf "$T"' EXIT
mkdir "$T/models"
vips black "$T/b.v" 640 480 --bands 3 && vips linear "$T/b.v" "$T/g.v" 1 90 && vips cast "$T/g.v" "$T/in.jpg" uchar
PP=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ENHANCE_MODELS_DIR="$T/models" "$E" serve --port 0 --port-file "$T/port" --probe-port "$PP" --log-level warn "$@" \
  2>"$T/server.log" & PID=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
P=$(cat "$T/port")
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PP/readyz" >/dev/null && break; sleep 0.1; done
echo "# enhance serve $* (port $P, probes $PP; ulimit -n $(ulimit -n)); $N slow connections from 127.0.0.1"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" "$HERE/slowloris.py" attack --port "$P" --conns "$N" --duration $((S + 20)) > "$T/attack.log" 2>&1 & APID=$!
sleep 12   # the connections are open and past a first header deadline (10 s)
tail -1 "$T/attack.log"
rc=0
"$PY" "$HERE/slowloris.py" probe --port "$P" --probe-port "$PP" --duration "$S" --image "$T/in.jpg" || rc=$?
tail -1 "$T/attack.log"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); server CPU: $(awk '{printf "%.1f s user+sys", ($14+$15)/100}' /proc/$PID/stat)"
grep -v '^$' "$T/server.log" | tail -3 || true
exit $rc
