#!/bin/bash
# make_samples.sh [ENHANCE_BIN] - makes samples/sample.jpg, a small (240x160) photo-like
# test picture: sky gradient, a sun, hills, a house, text and sensor-like noise, saved as
# a JPEG at quality 60 (so it shows what enhance fixes). Made here with the libvips `vips`
# tool, so no third-party photo is in the repository. Idempotent: an existing valid sample
# is kept. With ENHANCE_BIN, the result is checked with `enhance info`.
set -euo pipefail
# the binary is given relative to the caller's directory: make it absolute before cd
if [ -n "${1:-}" ] && [ "${1#/}" = "$1" ]; then set -- "$PWD/$1" "${@:2}"; fi
cd "$(dirname "$0")"
out=sample.jpg
bin=${1:-}
if [ -s "$out" ] && { [ -z "$bin" ] || "$bin" info "$out" >/dev/null 2>&1; }; then
  echo "== samples/$out already there"
  exit 0
fi
command -v vips >/dev/null || { echo "make_samples.sh: the 'vips' tool is missing (apt-get install libvips-tools)" >&2; exit 1; }
W=240 H=160
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
v() { vips "$@" >/dev/null; }

# coordinates
v xyz "$tmp/xy.v" $W $H
v extract_band "$tmp/xy.v" "$tmp/x.v" 0
v extract_band "$tmp/xy.v" "$tmp/y.v" 1
# sky: light blue at the horizon to deep blue at the top
v linear "$tmp/y.v" "$tmp/sr.v" 0.9 60
v linear "$tmp/y.v" "$tmp/sg.v" 0.8 110
v linear "$tmp/y.v" "$tmp/sb.v" 0.3 200
v bandjoin "$tmp/sr.v $tmp/sg.v $tmp/sb.v" "$tmp/sky.v"
# hills: y > 105 + 18*sin(x/23), green getting darker downwards
v linear "$tmp/x.v" "$tmp/xa.v" 2.49 0          # degrees: x/23 rad
v math "$tmp/xa.v" "$tmp/sin.v" sin
v linear "$tmp/sin.v" "$tmp/ridge.v" 18 105
v relational "$tmp/y.v" "$tmp/ridge.v" "$tmp/hillmask.v" more
v linear -- "$tmp/y.v" "$tmp/hr.v" -0.4 120
v linear -- "$tmp/y.v" "$tmp/hg.v" -0.5 190
v linear -- "$tmp/y.v" "$tmp/hb.v" -0.2 60
v bandjoin "$tmp/hr.v $tmp/hg.v $tmp/hb.v" "$tmp/hill.v"
v ifthenelse "$tmp/hillmask.v" "$tmp/hill.v" "$tmp/sky.v" "$tmp/scene1.v"
# sun: a disc at (185, 38), radius 17
v linear -- "$tmp/x.v" "$tmp/dx.v" 1 -185
v linear -- "$tmp/y.v" "$tmp/dy.v" 1 -38
v multiply "$tmp/dx.v" "$tmp/dx.v" "$tmp/dx2.v"
v multiply "$tmp/dy.v" "$tmp/dy.v" "$tmp/dy2.v"
v add "$tmp/dx2.v" "$tmp/dy2.v" "$tmp/d2.v"
v relational_const "$tmp/d2.v" "$tmp/sunmask.v" less 289
v black "$tmp/b.v" $W $H --bands 3
v linear "$tmp/b.v" "$tmp/sun.v" "1 1 1" "255 220 90"
v ifthenelse "$tmp/sunmask.v" "$tmp/sun.v" "$tmp/scene1.v" "$tmp/scene2.v"
# a house: red wall and a dark roof line
v black "$tmp/wall.v" 44 30 --bands 3
v linear "$tmp/wall.v" "$tmp/wallc.v" "1 1 1" "190 60 50"
v insert "$tmp/scene2.v" "$tmp/wallc.v" "$tmp/scene3.v" 40 100
v black "$tmp/roof.v" 52 6 --bands 3
v linear "$tmp/roof.v" "$tmp/roofc.v" "1 1 1" "60 40 35"
v insert "$tmp/scene3.v" "$tmp/roofc.v" "$tmp/scene4.v" 36 95
v black "$tmp/door.v" 9 15 --bands 3
v linear "$tmp/door.v" "$tmp/doorc.v" "1 1 1" "70 45 30"
v insert "$tmp/scene4.v" "$tmp/doorc.v" "$tmp/scene5.v" 58 115
# text (white), if libvips has a font renderer
if vips text "$tmp/t.v" "enhance" --dpi 90 >/dev/null 2>&1; then
  v embed "$tmp/t.v" "$tmp/tw.v" 12 10 $W $H
  v relational_const "$tmp/tw.v" "$tmp/tmask.v" more 128
  v linear "$tmp/b.v" "$tmp/white.v" "1 1 1" "250 250 250"
  v ifthenelse "$tmp/tmask.v" "$tmp/white.v" "$tmp/scene5.v" "$tmp/scene6.v"
else
  cp "$tmp/scene5.v" "$tmp/scene6.v"
fi
# sensor-like noise, then 8-bit sRGB
v gaussnoise "$tmp/n.v" $W $H --sigma 7 --mean 0
v bandjoin "$tmp/n.v $tmp/n.v $tmp/n.v" "$tmp/n3.v"
v add "$tmp/scene6.v" "$tmp/n3.v" "$tmp/noisy.v"
v cast "$tmp/noisy.v" "$tmp/u8.v" uchar
v copy "$tmp/u8.v" "$tmp/srgb.v" --interpretation srgb
v jpegsave "$tmp/srgb.v" "$tmp/$out" --Q 60 --strip
mv "$tmp/$out" "$out"   # atomic: never a half-written sample
if [ -n "$bin" ]; then
  "$bin" info "$out" >/dev/null
fi
echo "== made samples/$out (${W}x${H}, JPEG q60)"
