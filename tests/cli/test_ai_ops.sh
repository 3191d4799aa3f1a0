#!/bin/bash
# test_ai_ops.sh ENHANCE - the restoration networks as operations (stage_model.c): `--denoise ai`,
# `--deblur=ai`, `--low-light`, the JSON spelling, a strength that blends, and a chain with the
# upscaler in one run. Without the models: a clear error naming the fetch command, no output.
# With them (skipped, exit 77, unless maxim-denoising, -deblurring and -enhancement are installed):
# `--denoise ai` is bit for bit `--model maxim-denoising`; strength 50 lands half-way between the
# input and the network; `--denoise ai --upscale 2` runs the network at the input's size, then
# the upscaler (the explain text says so, in that order); a memory limit that does not hold the
# whole image runs the network in tiles; --low-light brightens a dark photo.
source "$(dirname "$0")/lib.sh" "$1"

# absdiff A B: mean absolute difference of the first 3 bands
absdiff() {
    "$VIPS" extract_band "$1" "$T/da.v" 0 --n 3 && "$VIPS" extract_band "$2" "$T/db.v" 0 --n 3 &&
    "$VIPS" subtract "$T/da.v" "$T/db.v" "$T/dd.v" && "$VIPS" abs "$T/dd.v" "$T/dx.v" && "$VIPS" avg "$T/dx.v"
}

make_photo "$T/p.png" 72 56

mkdir "$T/nomodels"
ENHANCE_MODELS_DIR=$T/nomodels expect 1 "$E" "$T/p.png" -o "$T/none.png" --denoise ai
contains "models fetch maxim-denoising"
ENHANCE_MODELS_DIR=$T/nomodels expect 1 "$E" "$T/p.png" -o "$T/none.png" --deblur=ai
contains "models fetch maxim-deblurring"
ENHANCE_MODELS_DIR=$T/nomodels expect 1 "$E" "$T/p.png" -o "$T/none.png" \
    --ops-json '{"restorations": {"denoise": "ai"}}'
contains "models fetch maxim-denoising"
[ ! -e "$T/none.png" ] && ok || fail "output written without the model"
# the filter method needs no model
ENHANCE_MODELS_DIR=$T/nomodels expect 0 "$E" "$T/p.png" -o "$T/filter.png" --denoise 40 --denoise-method filter

for m in maxim-denoising maxim-deblurring maxim-enhancement; do
    if ! "$E" models list 2>/dev/null | grep -Eq "^$m +x1 .* yes "; then
        [ "$FAILS" = 0 ] || { finish; exit 1; }
        echo "SKIP: $m is not installed (enhance models fetch $m)"
        exit 77
    fi
done

expect 0 "$E" "$T/p.png" -o "$T/ai.png" --denoise ai --explain
contains "denoise ai: maxim-denoising"
contains "per MP"
expect 0 "$E" "$T/p.png" -o "$T/model.png" --model maxim-denoising
cmp -s "$T/ai.png" "$T/model.png" && ok || fail "--denoise ai differs from --model maxim-denoising"

# strength 50: half-way (in float, before rounding)
expect 0 "$E" "$T/p.png" -o "$T/half.png" --ops-json '{"restorations": {"denoise": 50, "denoise_method": "ai"}}'
full=$(absdiff "$T/p.png" "$T/ai.png")
half=$(absdiff "$T/p.png" "$T/half.png")
echo "mean |ai - in| $full, |ai50 - in| $half"
awk -v f="$full" -v h="$half" 'BEGIN{exit !(f > 0.5 && h > 0.4 * f && h < 0.6 * f)}' && ok ||
    fail "strength 50 is not half-way: $half vs $full"

# chained with the upscaler: the network first, at 72x56; one output at 144x112
expect 0 "$E" "$T/p.png" -o "$T/up.png" --deblur=ai --upscale 2 --explain
contains "deblur ai: maxim-deblurring"
contains "72x56 image"
[ "$(json_field "$T/up.png" width)" = 144 ] && [ "$(json_field "$T/up.png" height)" = 112 ] && ok ||
    fail "chain output is $(json_field "$T/up.png" width)x$(json_field "$T/up.png" height)"

# a memory limit too small for the whole image: tiles, still the right size
make_photo "$T/big.png" 200 150
expect 0 "$E" "$T/big.png" -o "$T/tiled.png" --denoise ai --memory-limit 90M --explain
contains "in tiles"
[ "$(json_field "$T/tiled.png" width)" = 200 ] && ok || fail "tiled output size"

# low light: a dark photo comes out brighter
"$VIPS" linear "$T/p.png" "$T/dk.v" 0.3 0 && "$VIPS" cast "$T/dk.v" "$T/dku.v" uchar &&
    "$VIPS" copy "$T/dku.v" "$T/dark.png" --interpretation srgb
expect 0 "$E" "$T/dark.png" -o "$T/lit.png" --low-light=60 --explain
contains "low light: maxim-enhancement"
a=$("$VIPS" avg "$T/dark.png")
b=$("$VIPS" avg "$T/lit.png")
awk -v a="$a" -v b="$b" 'BEGIN{exit !(b > a + 5)}' && ok || fail "low light did not brighten: $a -> $b"

finish
