#!/bin/bash
# test_batch_equiv.sh ENHANCE - folder mode against single-image runs: several images of
# different sizes give outputs byte-identical to `enhance FILE -o OUT`, per-file lines come
# in list order with a bad file in the middle, Ctrl-C (SIGINT) half-way exits 130 with
# nothing half-written and the rerun resumes, outputs removed later are redone alone.
source "$(dirname "$0")/lib.sh" "$1"
IN=$T/in OUT_DIR=$T/out ONE=$T/one
mkdir -p "$IN" "$ONE"
# different sizes and formats
i=0
for wh in "160 120" "64 200" "300 90" "120 120" "200 150" "96 64" "250 180" "140 100"; do
  i=$((i + 1))
  make_photo "$IN/p$i.jpg" $wh
done
"$VIPS" copy "$IN/p3.jpg" "$IN/p3b.png"
head -c 2000 "$IN/p5.jpg" > "$IN/p4x_cut.jpg"   # sorts between p4 and p5: fails in the middle
NIMG=10

# same_as_single ARGS...: every output in $OUT_DIR equals `enhance INPUT -o X ARGS` byte for byte
same_as_single() {
  for f in "$IN"/p*; do
    b=$(basename "$f"); o=${b%.*}.png
    [ "$b" = p4x_cut.jpg ] && continue
    "$E" "$f" -o "$ONE/$o" "$@" >/dev/null 2>&1 || { fail "single run of $b failed"; continue; }
    cmp -s "$ONE/$o" "$OUT_DIR/$o" && ok || fail "$o differs from the single-image run ($*)"
  done
}
# in_order LOG: the [k/N] numbers of per-file lines never go down
in_order() {
  CHECKS=$((CHECKS + 1))
  grep -o '^\[[0-9]*/' "$1" | tr -d '[/' | awk 'p > $1 {bad = 1} {p = $1} END {exit bad}' ||
    fail "per-file lines out of order: $(cat "$1")"
}

# 1. the cut file fails in the middle, the rest is done
ARGS=(--scale 1.5 --format png --sharpness 30 --saturation 10)
expect 1 "$E" "$IN" -o "$OUT_DIR" "${ARGS[@]}"
printf '%s\n' "$OUT" > "$T/run1.log"
contains "$((NIMG - 1)) done, 0 skipped (already complete), 1 failed"
contains "FAILED p4x_cut.jpg"
in_order "$T/run1.log"
[ "$(grep -c '\] ok ' "$T/run1.log")" = $((NIMG - 1)) ] && ok || fail "ok lines: $(cat "$T/run1.log")"
same_as_single "${ARGS[@]}"
[ -z "$(find "$OUT_DIR" -name '.*tmp-*')" ] && ok || fail "temporaries left"

# 2. Ctrl-C half-way (each encode pauses while its temporary exists): exit 130, nothing
#    half-written, then the rerun resumes without redoing finished files
rm -rf "$OUT_DIR" "$ONE"; mkdir -p "$ONE"
rm -f "$IN/p4x_cut.jpg"; NIMG=9
ARGS=(--scale 0.5 --format png)
count_outputs() { find "$OUT_DIR" -type f ! -name '.*' | wc -l; }
ENHANCE_TEST_SLOW_SAVE_MS=300 "$E" "$IN" -o "$OUT_DIR" "${ARGS[@]}" >"$T/run2.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ -d "$OUT_DIR" ] && [ "$(count_outputs)" -ge 3 ] && break
  sleep 0.05
done
kill -INT $pid; wait $pid; rc=$?
n1=$(count_outputs)
CHECKS=$((CHECKS + 1))
[ "$rc" = 130 ] || fail "Ctrl-C exit $rc (want 130): $(cat "$T/run2.log")"
CHECKS=$((CHECKS + 1))
[ "$n1" -ge 3 ] && [ "$n1" -lt $NIMG ] || fail "Ctrl-C did not land half-way ($n1 of $NIMG)"
grep -q "^interrupted: " "$T/run2.log" && ok || fail "no interrupted summary: $(cat "$T/run2.log")"
[ "$(grep -c '\] ok ' "$T/run2.log")" = "$n1" ] && ok || fail "ok lines vs $n1 outputs: $(cat "$T/run2.log")"
in_order "$T/run2.log"
[ -z "$(find "$OUT_DIR" -name '.*tmp-*')" ] && ok || fail "temporaries left after Ctrl-C"
expect 0 "$E" "$IN" -o "$OUT_DIR" "${ARGS[@]}"
contains "$((NIMG - n1)) done, $n1 skipped"

# 3. skips in between: two outputs removed, only those are redone, lines in order; the
#    outputs of the interrupted run, its resume and this one are all as single runs make them
rm -f "$OUT_DIR/p2.png" "$OUT_DIR/p6.png"
expect 0 "$E" "$IN" -o "$OUT_DIR" "${ARGS[@]}"
contains "2 done, $((NIMG - 2)) skipped"
printf '%s\n' "$OUT" > "$T/run3.log"
in_order "$T/run3.log"
same_as_single "${ARGS[@]}"

# 4. with the AI model, when it is installed
rm -rf "$OUT_DIR" "$ONE"; mkdir -p "$ONE"
ARGS=(--upscale 2 --upscaler art --format png)
if "$E" "$IN/p6.jpg" -o "$T/probe.png" "${ARGS[@]}" >/dev/null 2>&1; then
  expect 0 "$E" "$IN" -o "$OUT_DIR" "${ARGS[@]}"
  contains "$NIMG done"
  same_as_single "${ARGS[@]}"
else
  echo "note: the art model is not installed; the AI part of this test did not run"
fi
finish
