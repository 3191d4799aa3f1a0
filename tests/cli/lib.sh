# lib.sh - helpers for the CLI test scripts (sourced). Usage: source lib.sh "$1"
set -u
E=$(readlink -f "$1")
VIPS=${ENH_VIPS_TOOL:-vips}
command -v "$VIPS" >/dev/null || { echo "the 'vips' tool (libvips-tools) is needed"; exit 1; }
# sanitizer reports must not hide behind the expected exit code 1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87"
FAILS=0
CHECKS=0
T=$(mktemp -d "${TMPDIR:-/tmp}/enh-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); }
# expect RC CMD... : runs CMD, captures stdout+stderr in $OUT, checks the exit code
expect() {
    local want=$1; shift
    OUT=$("$@" 2>&1); local rc=$?
    CHECKS=$((CHECKS + 1))
    [ "$rc" = "$want" ] || fail "exit $rc (want $want): $*  ->  $OUT"
    case "$OUT" in *Sanitizer*|*"runtime error:"*) fail "sanitizer report: $*  ->  $OUT" ;; esac
}
# contains TEXT: the last expect's output contains TEXT
contains() {
    CHECKS=$((CHECKS + 1))
    case "$OUT" in *"$1"*) ;; *) fail "output lacks '$1': $OUT" ;; esac
}
# json_field FILE KEY: prints the value of "KEY" in `enhance info --json FILE`
json_field() {
    "$E" info --json "$1" 2>/dev/null | sed -n "s/^ *\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p"
}
# make_photo PATH W H: a photo-like JPEG/PNG (gradient + noise) of the given size
make_photo() {
    local p=$1 w=$2 h=$3
    "$VIPS" xyz "$T/xyz.v" "$w" "$h" >/dev/null &&
    "$VIPS" extract_band "$T/xyz.v" "$T/x.v" 0 &&
    "$VIPS" linear "$T/x.v" "$T/r.v" $(awk "BEGIN{print 200/$w}") 30 &&
    "$VIPS" gaussnoise "$T/n.v" "$w" "$h" --sigma 12 --mean 90 &&
    "$VIPS" bandjoin "$T/r.v $T/n.v $T/r.v" "$T/rgb.v" &&
    "$VIPS" cast "$T/rgb.v" "$T/u.v" uchar &&
    "$VIPS" copy "$T/u.v" "$T/s.v" --interpretation srgb &&
    "$VIPS" copy "$T/s.v" "$p"
}
finish() {
    echo "$CHECKS checks, $FAILS failed"
    [ "$FAILS" = 0 ]
}
