#!/bin/bash
# test_usage.sh ENHANCE - help, version, exit codes and messages for bad usage/input.
source "$(dirname "$0")/lib.sh" "$1"
make_photo "$T/p.jpg" 64 48

expect 1 "$E";                              contains "usage"
expect 0 "$E" --help;                       contains "commands:"; contains "info"
expect 0 "$E" --version;                    contains "enhance "
expect 0 "$E" --help-enhance;               contains "--max-pixels"; contains "Exit codes"
expect 0 "$E" "$T/p.jpg" --help;            contains "--upscale"
expect 0 "$E" info --help;                  contains "usage: enhance info"
expect 0 "$E" help info;                    contains "usage: enhance info"
expect 1 "$E" info;                         contains "missing IMAGE"
expect 1 "$E" "$T/p.jpg";                   contains "missing -o"
expect 1 "$E" -o "$T/o.png";                contains "missing INPUT"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --bogus;          contains "unknown option '--bogus'"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" extra;            contains "unexpected argument 'extra'"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --scale 9;        contains "0.1..8"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --scale abc;      contains "--scale"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --quality 0;      contains "1..100"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --fit round;      contains '"cover", "crop"'
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --width 0;        contains "--width"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --fit pad --width 10;   contains "needs both a width and a height"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --scale 2 --width 10;   contains "cannot be combined"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --upscale 9;      contains "1..8"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --denoise 500;    contains '"off", "auto"'
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --exposure 101;   contains "-100..100"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --background pink; contains "colour"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --memory-limit lots; contains "512M"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --threads 0;      contains "--threads"
expect 1 "$E" "$T/p.jpg" -o "$T/o.jpg" --format png;     contains "does not match"
expect 1 "$E" "$T/p.jpg" -o "$T/o.jpg" --bit-depth 16;   contains "16-bit"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --ops-json "$T/nope.json"; contains "--ops-json"
expect 1 "$E" "$T/missing.jpg" -o "$T/o.png";            contains "no such file"
printf 'just text\n' > "$T/text.jpg"
expect 1 "$E" "$T/text.jpg" -o "$T/o.png";               contains "unsupported format"
: > "$T/empty.jpg"
expect 1 "$E" "$T/empty.jpg" -o "$T/o.png";              contains "empty"
printf '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>' > "$T/x.svg"
expect 1 "$E" "$T/x.svg" -o "$T/o.png";                  contains "SVG"
expect 1 "$E" "$T/p.jpg" -o "$T/o.png" --max-pixels 1000; contains "64x48"; contains "--max-pixels"
expect 0 "$E" "$T/p.jpg" -o "$T/o.png" --max-pixels 64x48
expect 1 "$E" info "$T/text.jpg";                        contains "unsupported format"
# a file name that is not UTF-8 still gets its JSON (the name with '?'; it printed nothing, exit 0)
cp "$T/p.jpg" "$T/caf$(printf '\351').jpg"
expect 0 "$E" info --json "$T/caf$(printf '\351').jpg";  contains '"file": "'"$T"'/caf?.jpg"'; contains '"width": 64'
# environment variables are read by the command alone (src/cli/cli_env.h); a bad value is a usage error
ENHANCE_KERNELS=sse9 expect 1 "$E" info "$T/p.jpg";       contains "ENHANCE_KERNELS"; contains "avx512"
ENHANCE_CONV_ALGO=fft expect 1 "$E" info "$T/p.jpg";      contains "wino, gemm"
ENHANCE_PRECISION=half expect 1 "$E" "$T/p.jpg" -o "$T/o.png"; contains "ENHANCE_PRECISION"
ENHANCE_THREADS=many expect 1 "$E" info "$T/p.jpg";       contains "ENHANCE_THREADS"
ENHANCE_KERNELS=portable ENHANCE_THREADS=1 expect 0 "$E" info "$T/p.jpg"
# nothing half-written by any of the failures above
CHECKS=$((CHECKS + 1))
leftover=$(ls -A "$T" | grep -E '^\.|^o\.jpg$' || true)
[ -z "$leftover" ] || fail "files left behind: $leftover"
finish
