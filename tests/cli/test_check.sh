#!/bin/bash
# test_check.sh ENHANCE - `enhance check`: help, exit codes (0 allow, 3 review, 4 block, 5
# unchecked, 1 bad input/policy), JSON Lines for several images; folder mode's --check-report
# (one whole line per image, resumed, fresh with --force) and --moderation block (blocked images
# skipped and recorded). The parts that need the nsfwjs classifier run only when it is installed
# (`enhance models fetch nsfwjs-mobilenetv2`); without it they check that the answer says how to
# install it. The policies that decide are chosen so any probability fires (>= 0) or none does,
# so the outcome does not depend on what the network sees in a synthetic image.
source "$(dirname "$0")/lib.sh" "$1"

make_photo "$T/a.jpg" 96 64
make_photo "$T/b.png" 64 48

expect 0 "$E" check --help
contains "Exit status"; contains "porn=0.6:0.9"
expect 1 "$E" check
expect 1 "$E" check "$T/missing.jpg"
expect 1 "$E" check --policy 'porn=2:' "$T/a.jpg"
contains "not a probability"
expect 1 "$E" check --policy 'nudity=0.5:0.9' "$T/a.jpg"
contains "unknown class"
expect 1 "$E" check --skip everything "$T/a.jpg"
expect 1 "$E" check --skip moderation --policy 'porn=0.5:0.9' "$T/a.jpg"
printf 'not an image' > "$T/bad.jpg"
expect 1 "$E" check "$T/bad.jpg"

# without moderation: exit 5, the quality parts still answer, one JSON line per image
expect 5 "$E" check --skip moderation --json "$T/a.jpg" "$T/b.png"
lines=$(printf '%s\n' "$OUT" | grep -c '^{')
[ "$lines" = 2 ] && ok || fail "want 2 JSON lines, got $lines: $OUT"
contains '"decision":"unchecked"'; contains '"assessment"'; contains '"image":"'"$T/b.png"'"'
if command -v python3 >/dev/null; then
    printf '%s\n' "$OUT" | grep '^{' | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' && ok ||
        fail "lines are not JSON: $OUT"
fi

have_cls=1
"$E" check --require moderation --skip quality "$T/a.jpg" >/dev/null 2>&1
[ $? = 1 ] && have_cls=0
if [ $have_cls = 0 ]; then
    echo "note: the nsfwjs classifier is not installed; the moderation decisions are not exercised"
    expect 5 "$E" check "$T/a.jpg"
    contains "enhance models fetch nsfwjs-mobilenetv2"
    expect 1 "$E" check --policy 'porn=0.5:0.9' "$T/a.jpg"   # asked for explicitly: an error
    expect 1 "$E" "$T/a.jpg" -o "$T/one.png" --moderation block
    contains "enhance models fetch nsfwjs-mobilenetv2"
    # folder mode with --moderation refuses to start without the classifier
    mkdir -p "$T/in"; cp "$T/a.jpg" "$T/b.png" "$T/in/"
    expect 1 "$E" "$T/in" -o "$T/out" --moderation block --scale 0.5
    contains "nsfwjs"
    # the report alone works without it
    expect 0 "$E" "$T/in" -o "$T/out" --check-report "$T/r.jsonl" --scale 0.5
    [ "$(wc -l < "$T/r.jsonl")" = 2 ] && ok || fail "report: $(cat "$T/r.jsonl")"
    grep -q '"action":"enhanced"' "$T/r.jsonl" && ok || fail "report lacks action: $(cat "$T/r.jsonl")"
    finish; exit
fi

ALL='none,drawing=0:0,hentai=0:0,neutral=0:0,porn=0:0,sexy=0:0'           # everything blocks
REV='none,drawing=0:,hentai=0:,neutral=0:,porn=0:,sexy=0:'                # everything is reviewed
expect 0 "$E" check --policy none "$T/a.jpg"
contains "ALLOW"
expect 3 "$E" check --policy "$REV" "$T/a.jpg"
contains "REVIEW"
expect 4 "$E" check --policy "$ALL" "$T/a.jpg" "$T/b.png"
contains "BLOCK"
expect 4 "$E" check --json --policy '{"base":"none","neutral":{"review":0,"block":0},"drawing":{"block":0},"porn":{"block":0},"sexy":{"block":0},"hentai":{"block":0}}' "$T/a.jpg"
contains '"decision":"block"'; contains '"reasons":[{"class":'
expect 1 "$E" check --policy "$ALL" "$T/a.jpg" "$T/missing.jpg"   # an error outranks a block

# one file: blocked is exit 4 and nothing written; flag prints the decision
expect 4 "$E" "$T/a.jpg" -o "$T/one.png" --moderation block --moderation-policy "$ALL"
contains "blocked by the moderation policy"
[ ! -e "$T/one.png" ] && ok || fail "a blocked image was written"
expect 0 "$E" "$T/a.jpg" -o "$T/one.png" --moderation flag --moderation-policy "$REV"
contains "moderation: review"

# folder mode: --moderation block skips the blocked images, the report has one line each
mkdir -p "$T/in"; cp "$T/a.jpg" "$T/b.png" "$T/in/"
expect 0 "$E" "$T/in" -o "$T/out" --moderation block --moderation-policy "$ALL" --check-report "$T/r.jsonl" --scale 0.5
contains "2 blocked"
[ ! -e "$T/out/a.jpg" ] && ok || fail "a blocked image was enhanced"
[ "$(grep -c '"action":"blocked"' "$T/r.jsonl")" = 2 ] && ok || fail "report: $(cat "$T/r.jsonl")"
# a resumed run does not check them again nor add lines
expect 0 "$E" "$T/in" -o "$T/out" --moderation block --moderation-policy "$ALL" --check-report "$T/r.jsonl" --scale 0.5
[ "$(wc -l < "$T/r.jsonl")" = 2 ] && ok || fail "resume added lines: $(cat "$T/r.jsonl")"
# a torn last line is cut before appending
printf '{"image":"half' >> "$T/r.jsonl"
expect 0 "$E" "$T/in" -o "$T/out" --moderation block --moderation-policy "$ALL" --check-report "$T/r.jsonl" --scale 0.5
[ "$(tail -c 1 "$T/r.jsonl" | od -An -c | tr -d ' ')" = '\n' ] && ok || fail "torn line kept: $(cat "$T/r.jsonl")"
# --force starts afresh; a policy that allows everything enhances both, action enhanced
expect 0 "$E" "$T/in" -o "$T/out" --moderation block --moderation-policy none --check-report "$T/r.jsonl" --scale 0.5 --force
[ -e "$T/out/a.jpg" ] && [ -e "$T/out/b.png" ] && ok || fail "allowed images not enhanced"
[ "$(grep -c '"action":"enhanced"' "$T/r.jsonl")" = 2 ] && [ "$(wc -l < "$T/r.jsonl")" = 2 ] && ok ||
    fail "report after --force: $(cat "$T/r.jsonl")"
grep -q '"probabilities":{"drawing":' "$T/r.jsonl" && ok || fail "report lacks probabilities"
# changing --moderation alone does not redo finished outputs
expect 0 "$E" "$T/in" -o "$T/out" --scale 0.5
contains "2 skipped"
finish
