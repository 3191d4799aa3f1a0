#!/bin/sh
# Fetch the Debian wallpaper packages named in bench/quality/extra_photos.txt and unpack them
# (apt-get download + dpkg-deb -x; nothing is installed) under .cache/cast_extra/root, for
# `cast_learn.py train --extra bench/quality/extra_photos.txt`. Needs apt sources for Debian 12
# (other versions of the packages may hold other files: the script checks that every listed file
# exists). Run from the repository root.
set -eu
D=.cache/cast_extra
mkdir -p "$D/debs" "$D/root"
cd "$D/debs"
for p in plasma-workspace-wallpapers mate-backgrounds; do
    ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p"
done
cd ../../..
for f in "$D"/debs/*.deb; do dpkg-deb -x "$f" "$D/root"; done
grep -v '^#' bench/quality/extra_photos.txt | while read -r p; do
    [ -z "$p" ] || [ -f "$D/root/$p" ] || { echo "missing: $p" >&2; exit 1; }
done
echo "ok: $(grep -vc '^#' bench/quality/extra_photos.txt) photos under $D/root"
