#!/bin/bash
# test_assess.sh ENHANCE - `enhance assess`: usage and exit codes, the assessment in text and JSON,
# and the BRISQUE score beside it: a number 0..100 (0 best) when OpenCV's model files are there
# (Debian opencv-data), the same as `enhance check` gives, and a note (exit 0, the rest printed)
# when they are missing (--brisque-model pointing nowhere stands in for an uninstalled package).
source "$(dirname "$0")/lib.sh" "$1"

make_photo "$T/a.jpg" 96 64

expect 0 "$E" assess --help
contains "BRISQUE"; contains "opencv-data"
expect 1 "$E" assess
expect 1 "$E" assess "$T/missing.jpg"
expect 1 "$E" assess --brisque-model
expect 1 "$E" assess --bogus "$T/a.jpg"

py=$(command -v /usr/bin/python3 || command -v python3)
BQ_MODEL=/usr/share/opencv4/quality/brisque_model_live.yml
if [ -f "$BQ_MODEL" ]; then
    expect 0 "$E" assess "$T/a.jpg"
    contains "main problem"
    printf '%s\n' "$OUT" | grep -Eq '^brisque +[0-9]+\.[0-9] \(0 best \.\. 100 worst' && ok ||
        fail "no BRISQUE line: $OUT"
    expect 0 "$E" assess --json "$T/a.jpg"
    json=$OUT
    # the same score as `enhance check` (one model, one image)
    expect 5 "$E" check --json --skip moderation,assess "$T/a.jpg"
    check_json=$OUT
    if [ -n "$py" ]; then
        "$py" - "$json" "$check_json" <<'PY' && ok || fail "assess --json: $json / check: $check_json"
import json, sys
a = json.loads(sys.argv[1])
c = json.loads(sys.argv[2].splitlines()[0])
b = a["brisque"]
assert b["available"] is True and 0 <= b["score"] <= 100, b
assert "0 (best) .. 100 (worst)" in b["scale"], b
assert abs(b["score"] - c["quality"]["brisque"]["score"]) < 1e-3, (b, c["quality"])
assert "dominant" in a and "score" in a, a
PY
    fi
else
    echo "note: opencv-data is not installed; only the missing-model note is checked"
fi

# the model files missing: a note in words, the assessment still printed, exit 0
expect 0 "$E" assess --brisque-model "$T/nowhere.yml" "$T/a.jpg"
contains "main problem"; contains "brisque      unavailable"; contains "opencv-data"
expect 0 "$E" assess --json --brisque-model "$T/nowhere.yml" "$T/a.jpg"
contains '"available": false'; contains '"install": "apt-get install opencv-data'
if [ -n "$py" ]; then
    printf '%s' "$OUT" | "$py" -c 'import json,sys; d=json.load(sys.stdin); assert d["brisque"]["available"] is False and "score" in d' &&
        ok || fail "assess --json without the model: $OUT"
fi
# a damaged model file is reported the same way, never a crash
printf 'not yaml' > "$T/bad.yml"
expect 0 "$E" assess --brisque-model "$T/bad.yml" "$T/a.jpg"
contains "brisque      unavailable"
finish
