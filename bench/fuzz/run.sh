#!/bin/bash
# bench/fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]: one long libFuzzer run of a fuzz
# target (tests/fuzz/fuzz_TARGET.c) at nice 10, from the tree build/fuzz (see README.md for the
# build). The corpus lives in build/fuzz/corpus/TARGET (seeded from the target's generated seeds,
# kept between runs: a later run goes on from it); crashes, leaks and timeouts are written to
# build/fuzz/findings/TARGET/, the log to build/fuzz/logs/TARGET-DATE.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
t=${1:?usage: bench/fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}
secs=${2:-600}
shift $(($# < 2 ? $# : 2))
tree=${FUZZ_TREE:-build/fuzz}
bin=$tree/tests/fuzz/fuzz_$t
[ -x "$bin" ] || { echo "no $bin: build it first (bench/fuzz/README.md)" >&2; exit 1; }
# per target: the largest input, the memory limit and the per-input timeout (s)
case "$t" in
  image)     lim="-max_len=65536 -rss_limit_mb=2560 -timeout=20" ;;
  tfjs|keras) lim="-max_len=65536 -rss_limit_mb=2560 -timeout=30" ;;
  ncnn)      lim="-max_len=16384 -rss_limit_mb=2560 -timeout=20" ;;
  http)      lim="-max_len=32768 -rss_limit_mb=2560 -timeout=30" ;;
  ops_json|container) lim="-max_len=4096 -rss_limit_mb=1024 -timeout=5" ;;
  query)     lim="-max_len=2048 -rss_limit_mb=1024 -timeout=5" ;;
  multipart) lim="-max_len=8192 -rss_limit_mb=1024 -timeout=5" ;;
  *)         lim="-max_len=8192 -rss_limit_mb=1024 -timeout=10" ;; # journal, brisque
esac
corpus=$tree/corpus/$t findings=$tree/findings/$t logs=$tree/logs
mkdir -p "$corpus" "$findings" "$logs"
if [ -z "$(ls -A "$corpus")" ]; then
  "$tree/tests/fuzz/fuzz_${t}_replay" --write-seeds "$corpus"
fi
dict=tests/fuzz/dict/$t.dict
[ -f "$dict" ] && lim="$lim -dict=$dict"
log=$logs/$t-$(date -u +%Y%m%dT%H%M).log
echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg): $bin $lim -max_total_time=$secs $*" | tee "$log"
# regression inputs in tests/fuzz/corpus/TARGET are read too (never written: -merge is not used)
extra=()
[ -d tests/fuzz/corpus/$t ] && extra=(tests/fuzz/corpus/$t)
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
  LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/bench/fuzz/lsan.supp:print_suppressions=0} \
  nice -n 10 "$bin" $lim -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$findings/" "$@" \
  "$corpus" "${extra[@]}" 2>&1 | tee -a "$log" | grep -E "^#[0-9]+ +(pulse|DONE)|ERROR|SUMMARY|Test unit|stat::" || true
echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg): done" | tee -a "$log"
