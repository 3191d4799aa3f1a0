#!/bin/bash
# test_model_maxim.sh ENHANCE - `enhance IN -o OUT --model maxim-denoising`: a same-size TF.js
# model run alone on the whole image (stage_model.c). Without the model: a clear error that
# says how to fetch it, and no output. With it (skipped, exit 77, when maxim-denoising is not
# installed in the models folder: `enhance models fetch maxim-denoising`): the size is kept (no
# upscaling), alpha comes back bit for bit, 16-bit grey stays 16-bit grey, and the result
# differs sensibly from the noisy input: changed, less noisy, same overall brightness.
source "$(dirname "$0")/lib.sh" "$1"

# stats FILE: "mean noise" of the colour bands: the mean, and the mean absolute difference from
# a 2-pixel Gaussian blur (the fine-grain noise the model should remove)
stats() {
    "$VIPS" extract_band "$1" "$T/sc.v" 0 --n 3 &&
    "$VIPS" cast "$T/sc.v" "$T/sf.v" float &&
    "$VIPS" gaussblur "$T/sf.v" "$T/sb.v" 2 &&
    "$VIPS" subtract "$T/sf.v" "$T/sb.v" "$T/sd.v" &&
    "$VIPS" abs "$T/sd.v" "$T/sa.v" &&
    echo "$("$VIPS" avg "$T/sf.v") $("$VIPS" avg "$T/sa.v")"
}
# absdiff A B BAND N: mean absolute difference of bands BAND..BAND+N-1 of A and B
absdiff() {
    "$VIPS" extract_band "$1" "$T/da.v" "$3" --n "$4" && "$VIPS" extract_band "$2" "$T/db.v" "$3" --n "$4" &&
    "$VIPS" subtract "$T/da.v" "$T/db.v" "$T/dd.v" && "$VIPS" abs "$T/dd.v" "$T/dx.v" && "$VIPS" avg "$T/dx.v"
}

# a noisy RGBA photo, 72x56 (padded to 128x64 inside), alpha a gradient
make_photo "$T/p.png" 72 56
"$VIPS" extract_band "$T/xyz.v" "$T/ay.v" 1 && "$VIPS" linear "$T/ay.v" "$T/al.v" 4 20 &&
  "$VIPS" cast "$T/al.v" "$T/alu.v" uchar && "$VIPS" bandjoin "$T/p.png $T/alu.v" "$T/rgba.v" &&
  "$VIPS" copy "$T/rgba.v" "$T/rgba.png" --interpretation srgb

# without the model: says how to fetch it, writes nothing
mkdir "$T/nomodels"
ENHANCE_MODELS_DIR=$T/nomodels expect 1 "$E" "$T/rgba.png" -o "$T/none.png" --model maxim-denoising
contains "models fetch maxim-denoising"
[ ! -e "$T/none.png" ] && ok || fail "output written without the model"

if ! "$E" models list 2>/dev/null | grep -Eq '^maxim-denoising +x1 .* yes '; then
    [ "$FAILS" = 0 ] || { finish; exit 1; }
    echo "SKIP: maxim-denoising is not installed (enhance models fetch maxim-denoising)"
    exit 77
fi

expect 0 "$E" "$T/rgba.png" -o "$T/out.png" --model maxim-denoising
contains "maxim-denoising"
[ "$(json_field "$T/out.png" width)" = 72 ] && [ "$(json_field "$T/out.png" height)" = 56 ] && ok ||
    fail "size changed: $(json_field "$T/out.png" width)x$(json_field "$T/out.png" height)"
[ "$(json_field "$T/out.png" bands)" = 4 ] && ok || fail "alpha lost"
a=$(absdiff "$T/rgba.png" "$T/out.png" 3 1)
awk -v a="$a" 'BEGIN{exit !(a == 0)}' && ok || fail "alpha changed (mean |diff| $a)"
read -r mi ni <<<"$(stats "$T/rgba.png")"
read -r mo no <<<"$(stats "$T/out.png")"
d=$(absdiff "$T/rgba.png" "$T/out.png" 0 3)
echo "input mean $mi noise $ni; output mean $mo noise $no; mean |out-in| $d"
awk -v d="$d" 'BEGIN{exit !(d > 1 && d < 30)}' && ok || fail "output differs from the input by $d on average"
awk -v a="$ni" -v b="$no" 'BEGIN{exit !(b < 0.7 * a)}' && ok || fail "noise not reduced: $ni -> $no"
awk -v a="$mi" -v b="$mo" 'BEGIN{exit !(b > a - 8 && b < a + 8)}' && ok || fail "brightness moved: $mi -> $mo"

# 16-bit grey in: 16-bit grey out, same size
"$VIPS" extract_band "$T/p.png" "$T/g.v" 1 && "$VIPS" cast "$T/g.v" "$T/g16.v" ushort &&
  "$VIPS" linear "$T/g16.v" "$T/g16b.v" 257 0 && "$VIPS" cast "$T/g16b.v" "$T/g16c.v" ushort &&
  "$VIPS" copy "$T/g16c.v" "$T/grey16.png" --interpretation grey16
expect 0 "$E" "$T/grey16.png" -o "$T/grey_out.png" --model maxim-denoising
[ "$(json_field "$T/grey_out.png" bit_depth)" = 16 ] && [ "$(json_field "$T/grey_out.png" bands)" = 1 ] &&
    [ "$(json_field "$T/grey_out.png" width)" = 72 ] && ok || fail "16-bit grey not kept"

finish
