#!/bin/bash
# test_error_class.sh ENHANCE - hostile files get the user's exit code (1) and a message
# saying what is wrong, never 2 ("internal"): an output taller than JPEG/WebP can store, a
# TIFF of 200 bands (a layout nothing processes, whatever the cap), a float TIFF within the
# pixel cap but over its decode budget, a truncated TIFF.
source "$(dirname "$0")/lib.sh" "$1"

"$VIPS" black "$T/tall.png" 64 33000
expect 1 "$E" "$T/tall.png" -o "$T/o.jpg" --scale 2
contains "65500"; contains "another format"
[ ! -e "$T/o.jpg" ] && ok || fail "a refused output was written"
expect 1 "$E" "$T/tall.png" -o "$T/o.webp" --scale 0.5
contains "16383"
expect 0 "$E" "$T/tall.png" -o "$T/o.png" --scale 0.25   # the control: 16x8250 fits

# The issue's files were 2000x2000 x 200 bands and 7000x7000 float x 4 under the 50 MP cap
# (800 and 784 MB decoded); the same at a tenth of the side with a cap a hundredth of it.
"$VIPS" black "$T/bands.tif[compression=deflate]" 200 200 --bands 200
expect 1 "$E" "$T/bands.tif" -o "$T/o2.png" --max-pixels 500000
contains "200 bands"; contains "cannot be processed"
expect 1 "$E" "$T/bands.tif" -o "$T/o2.png" --max-pixels 1000000   # no cap helps
contains "200 bands"
"$VIPS" black "$T/b4.tif" 700 700 --bands 4
"$VIPS" cast "$T/b4.tif" "$T/float.tif[compression=deflate]" float
expect 1 "$E" "$T/float.tif" -o "$T/o3.png" --max-pixels 500000
contains "float"; contains "--max-pixels 980000"
expect 0 "$E" "$T/float.tif" -o "$T/o3.png" --max-pixels 980000   # as the message suggests

make_photo "$T/p.tif" 120 80
head -c 2000 "$T/p.tif" > "$T/cut.tif"
expect 1 "$E" "$T/cut.tif" -o "$T/o4.png"
contains "truncated or damaged"
case "$OUT" in *"not a recognised image"*) fail "truncated TIFF called foreign: $OUT" ;; *) ok ;; esac
finish
