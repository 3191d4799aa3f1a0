#!/bin/bash
# test_batch.sh ENHANCE - folder mode: relative paths, bad files, options changes, and a
# run killed with SIGKILL half-way that resumes without redoing finished files.
source "$(dirname "$0")/lib.sh" "$1"
IN=$T/in OUT_DIR=$T/out
mkdir -p "$IN/sub/deeper"
make_photo "$T/base.jpg" 160 120
for i in $(seq -w 1 16); do cp "$T/base.jpg" "$IN/img$i.jpg"; done
cp "$T/base.jpg" "$IN/sub/s1.jpg"; cp "$T/base.jpg" "$IN/sub/deeper/s2.jpg"
"$VIPS" copy "$T/base.jpg" "$IN/sub/p3.png"
cp "$T/base.jpg" "$IN/noext"                    # found by probing
echo "notes" > "$IN/readme.txt"                   # ignored: not an image
NIMG=20

count_outputs() { find "$OUT_DIR" -type f ! -name '.*' | wc -l; }
mtimes() { find "$OUT_DIR" -type f ! -name '.*' -printf '%P %T@\n' | sort; }

# 1. a run killed with SIGKILL in the middle (the test hook slows each encode down while
#    its temporary file exists, so the kill lands mid-write)
ENHANCE_TEST_SLOW_SAVE_MS=250 "$E" "$IN" -o "$OUT_DIR" -r --scale 0.5 >"$T/run1.log" 2>&1 &
pid=$!
for _ in $(seq 1 400); do
  [ -d "$OUT_DIR" ] && [ "$(count_outputs)" -ge 6 ] && break
  sleep 0.05
done
kill -9 $pid; wait $pid 2>/dev/null
n1=$(count_outputs)
CHECKS=$((CHECKS + 1))
[ "$n1" -ge 6 ] && [ "$n1" -lt $NIMG ] || fail "kill did not land half-way ($n1 of $NIMG outputs)"
# every output present after the kill is complete and valid
for f in $(find "$OUT_DIR" -type f ! -name '.*'); do
  [ "$(json_field "$f" width)" = 80 ] && ok || fail "incomplete output after kill -9: $f"
done
before=$(mtimes)
sleep 1.1   # so a redone file would get a visibly newer mtime

# 2. resume: the rest is done, finished files untouched, temporaries cleaned up
expect 0 "$E" "$IN" -o "$OUT_DIR" -r --scale 0.5
contains "$n1 skipped"
[ "$(count_outputs)" = $NIMG ] && ok || fail "after resume: $(count_outputs) outputs, want $NIMG"
after=$(mtimes)
while read -r name t; do
  t2=$(printf '%s\n' "$after" | awk -v n="$name" '$1 == n {print $2}')
  [ "$t" = "$t2" ] && ok || fail "$name was redone on resume ($t -> $t2)"
done <<< "$before"
[ -z "$(find "$OUT_DIR" -name '*.tmp-*')" ] && ok || fail "temporary files left: $(find "$OUT_DIR" -name '*.tmp-*')"
for f in img01.jpg sub/s1.jpg sub/deeper/s2.jpg sub/p3.png noext.jpg; do
  [ "$(json_field "$OUT_DIR/$f" width)" = 80 ] && ok || fail "missing or bad $f"
done
[ ! -e "$OUT_DIR/readme.txt" ] && ok || fail "a text file was processed"

# 3. nothing to do on a third run
expect 0 "$E" "$IN" -o "$OUT_DIR" -r --scale 0.5
contains "0 done, $NIMG skipped"

# 3b. an output damaged after the run is redone (its mtime alone says "done"): one cut
#     short, one with bytes overwritten in place (same size: only the hash tells)
printf 'XXXX' | dd of="$OUT_DIR/img02.jpg" bs=1 seek=300 conv=notrunc 2>/dev/null
truncate -s 500 "$OUT_DIR/img03.jpg"
expect 0 "$E" "$IN" -o "$OUT_DIR" -r --scale 0.5
contains "2 done, $((NIMG - 2)) skipped"
for f in img02.jpg img03.jpg; do
  [ "$(json_field "$OUT_DIR/$f" width)" = 80 ] && ok || fail "damaged $f not redone"
done

# 4. a newer input is redone, alone
sleep 1.1; touch "$IN/img05.jpg"
expect 0 "$E" "$IN" -o "$OUT_DIR" -r --scale 0.5
contains "1 done, $((NIMG - 1)) skipped"

# 5. changed options redo everything
expect 0 "$E" "$IN" -o "$OUT_DIR" -r --scale 0.25
contains "$NIMG done, 0 skipped"
[ "$(json_field "$OUT_DIR/img01.jpg" width)" = 40 ] && ok || fail "options change not applied"

# 6. a stale temporary file from a dead process is removed
printf 'partial' > "$OUT_DIR/.img01.tmp-999999-0.jpg"
expect 0 "$E" "$IN" -o "$OUT_DIR" -r --scale 0.25
[ ! -e "$OUT_DIR/.img01.tmp-999999-0.jpg" ] && ok || fail "stale temporary not removed"

# 7. bad files: reported, others still done, exit 1; -r off skips subfolders
IN2=$T/in2; OUT2=$T/out2; mkdir -p "$IN2/sub"
cp "$T/base.jpg" "$IN2/good.jpg"; cp "$T/base.jpg" "$IN2/sub/x.jpg"
head -c 3000 "$T/base.jpg" > "$IN2/cut.jpg"; echo text > "$IN2/fake.png"
expect 1 "$E" "$IN2" -o "$OUT2" --format webp
contains "1 done"; contains "2 failed"; contains "cut.jpg"; contains "fake.png"
[ -f "$OUT2/good.webp" ] && [ ! -e "$OUT2/sub" ] && [ ! -e "$OUT2/cut.webp" ] && ok || fail "bad-file run outputs"
# the output folder may not be the input folder
expect 1 "$E" "$IN2" -o "$IN2"; contains "must differ"
finish
