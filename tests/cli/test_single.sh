#!/bin/bash
# test_single.sh ENHANCE - one-file runs: sizes, formats, folders as -o, 16-bit, alpha,
# metadata, `info`, and outputs that cannot be written.
source "$(dirname "$0")/lib.sh" "$1"
make_photo "$T/p.jpg" 120 80

expect 0 "$E" "$T/p.jpg" -o "$T/x2.png" --scale 2
contains "240x160"
[ "$(json_field "$T/x2.png" width)" = 240 ] && [ "$(json_field "$T/x2.png" height)" = 160 ] && ok || fail "scale 2 size"
[ "$(json_field "$T/x2.png" format)" = png ] && ok || fail "png by suffix"

expect 0 "$E" "$T/p.jpg" -o "$T/half.webp" --width 50% -q
[ -z "$OUT" ] && ok || fail "--quiet printed: $OUT"
[ "$(json_field "$T/half.webp" width)" = 60 ] && [ "$(json_field "$T/half.webp" format)" = webp ] && ok || fail "50% webp"

expect 0 "$E" "$T/p.jpg" -o "$T/c.avif" --width 50 --height 50 --fit cover --gravity smart
[ "$(json_field "$T/c.avif" width)" = 50 ] && [ "$(json_field "$T/c.avif" format)" = avif ] && ok || fail "cover avif"

expect 0 "$E" "$T/p.jpg" -o "$T/pad.png" --width 100 --height 100 --fit pad --background transparent
[ "$(json_field "$T/pad.png" bands)" = 4 ] && [ "$(json_field "$T/pad.png" height)" = 100 ] && ok || fail "pad transparent"

expect 0 "$E" "$T/p.jpg" -o "$T/t.tif" --format tiff --scale 0.5
[ "$(json_field "$T/t.tif" format)" = tiff ] && ok || fail "tiff"

# --ops-json is the base, flags override it
expect 0 "$E" "$T/p.jpg" -o "$T/j1.png" --ops-json '{"resizing":{"width":30}}'
[ "$(json_field "$T/j1.png" width)" = 30 ] && ok || fail "--ops-json width"
printf '{"resizing":{"width":30}}' > "$T/ops.json"
expect 0 "$E" "$T/p.jpg" -o "$T/j2.png" --ops-json "$T/ops.json" --width 24
[ "$(json_field "$T/j2.png" width)" = 24 ] && ok || fail "flag over --ops-json"

# upscaling: lanczos upscaler needs no model; the AI one says how to get its model
expect 0 "$E" "$T/p.jpg" -o "$T/u3.png" --upscale 3 --upscaler resample
[ "$(json_field "$T/u3.png" width)" = 360 ] && ok || fail "--upscale 3 --upscaler resample"
mkdir "$T/nomodels"
ENHANCE_MODELS_DIR=$T/nomodels expect 1 "$E" "$T/p.jpg" -o "$T/u2.png" --upscale 2
contains "models fetch"
[ ! -e "$T/u2.png" ] && ok || fail "output written without a model"

# an existing folder as -o keeps the input name
mkdir "$T/outdir"
expect 0 "$E" "$T/p.jpg" -o "$T/outdir"
[ -f "$T/outdir/p.jpg" ] && ok || fail "output in folder"
expect 0 "$E" "$T/p.jpg" -o "$T/outdir" --format webp
[ -f "$T/outdir/p.webp" ] && ok || fail "output in folder with --format"

# missing parent folders are created
expect 0 "$E" "$T/p.jpg" -o "$T/new/deeper/x.jpg" --quality 70 --progressive
[ "$(json_field "$T/new/deeper/x.jpg" format)" = jpeg ] && ok || fail "nested output"

# 16-bit PNG in, 16-bit PNG out (unless asked for 8)
"$VIPS" cast "$T/u.v" "$T/w.v" ushort && "$VIPS" linear "$T/w.v" "$T/w2.v" 257 3 && "$VIPS" cast "$T/w2.v" "$T/w3.v" ushort &&
  "$VIPS" copy "$T/w3.v" "$T/deep.png" --interpretation rgb16
[ "$(json_field "$T/deep.png" bit_depth)" = 16 ] && ok || fail "16-bit fixture"
expect 0 "$E" "$T/deep.png" -o "$T/deep_out.png" --scale 1.5
[ "$(json_field "$T/deep_out.png" bit_depth)" = 16 ] && ok || fail "16-bit kept"
expect 0 "$E" "$T/deep.png" -o "$T/deep8.png" --bit-depth 8
[ "$(json_field "$T/deep8.png" bit_depth)" = 8 ] && ok || fail "--bit-depth 8"

# alpha PNG keeps alpha through a resize
"$VIPS" bandjoin_const "$T/u.v" "$T/a.v" 200 && "$VIPS" copy "$T/a.v" "$T/alpha.png" --interpretation srgb
expect 0 "$E" "$T/alpha.png" -o "$T/alpha_out.png" --width 300
[ "$(json_field "$T/alpha_out.png" alpha)" = true ] && ok || fail "alpha kept"

# metadata: stripped by default, kept on request
"$VIPS" copy "$T/p.jpg" "$T/exif.jpg" 2>/dev/null
expect 0 "$E" info "$T/p.jpg" --json;  contains "\"orientation\": 1"
expect 0 "$E" info "$T/p.jpg" "$T/x2.png"; contains "x2.png"; contains "format:"

# an output that cannot be written: clear error, exit 1, nothing left
mkdir "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" != 0 ]; then
  expect 1 "$E" "$T/p.jpg" -o "$T/ro/x.png"
  [ -z "$(ls -A "$T/ro")" ] && ok || fail "files left in a read-only folder"
fi
chmod 700 "$T/ro"
# -o is a file path inside a regular file: EIO-type error, exit 1
expect 1 "$E" "$T/p.jpg" -o "$T/p.jpg/x.png"
contains "p.jpg"
finish
