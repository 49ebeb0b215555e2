#!/bin/bash
# "make deb": build build/deb/libnginx-mod-vkstream_VERSION_ARCH.deb with
# Debian's tooling (debian/, dh --with nginx), then run lintian on it; its
# errors fail the build (warnings left are listed in README.md).
#
# dpkg-buildpackage writes into the source tree (debian/.debhelper,
# obj-*) and puts its results beside it, so it runs on a copy in
# build/deb/libnginx-mod-vkstream-VERSION (the tracked and new files, plus
# the built dashboard and the rtmp headers): the tree stays as it was.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/build/deb"
cd "$ROOT"

ver=$(dpkg-parsechangelog -S Version)
mod_ver=$(sed -n 's/^#define NGX_VKSTREAM_VERSION *"\(.*\)"/\1/p' \
              ngx_vkstream_module/ngx_vkstream.h)
if [ "$ver" != "$mod_ver" ]; then
    echo "deb: ERROR: debian/changelog says $ver, ngx_vkstream.h" \
         "NGX_VKSTREAM_VERSION $mod_ver" >&2
    exit 1
fi

./scripts/ui-build.sh
debian/rtmp-headers "$ROOT/build/rtmp-src"

src="$OUT/libnginx-mod-vkstream-$ver"
rm -rf "$OUT"
mkdir -p "$src/build"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # (a file deleted but not yet committed is listed: skipped)
    git ls-files -z -co --exclude-standard \
        | tar --null -T - --ignore-failed-read -cf - 2>/dev/null \
        | tar -C "$src" -xf -
else
    tar -C "$ROOT" --exclude=./build --exclude=./node_modules -cf - . \
        | tar -C "$src" -xf -
fi
cp -a build/ui build/rtmp-src "$src/build/"

(cd "$src" && dpkg-buildpackage -us -uc -b)

deb=$(ls "$OUT"/libnginx-mod-vkstream_"$ver"_*.deb)
echo "deb: lintian $(basename "$deb")"
lintian --fail-on error --display-info "$OUT"/*.changes
rm -rf "$src"
echo "deb: $deb"
