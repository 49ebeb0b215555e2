#!/bin/sh
# Fetch a Debian source package and unpack its upstream tree:
#   debian-source.sh PACKAGE DEST MARKER
# DEST receives the directory of the tarball that holds the file MARKER.
#
# Used for nginx-rtmp-module's headers (libnginx-mod-rtmp) and for the
# complete nginx source (nginx).  When apt has no deb-src entry we derive
# one from the machine's own "deb" entries (no mirror is hard-coded).  Some
# mirrors serve only the upstream .orig tarball of these packages (the
# Debian tarball answers 404), so that is all we rely on.
set -eu

PKG=$1 DEST=$2 MARKER=$3
DL="$DEST.dl"

if [ -f "$DEST/$MARKER" ]; then
    exit 0
fi

SUDO=
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi

have_deb_src() {
    grep -rqsE '^(Types:.*deb-src|deb-src )' \
        /etc/apt/sources.list /etc/apt/sources.list.d/
}

if ! have_deb_src; then
    echo "debian-source: no deb-src entry; deriving one from the deb entries"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        grep -q '^Types:.*\bdeb\b' "$f" || continue
        sed -E 's/^Types:.*$/Types: deb-src/' "$f" \
            | $SUDO tee "/etc/apt/sources.list.d/vkstream-src-$(basename "$f")" \
            >/dev/null
    done
    if [ -f /etc/apt/sources.list ]; then
        sed -nE 's/^deb (.*)$/deb-src \1/p' /etc/apt/sources.list \
            | $SUDO tee /etc/apt/sources.list.d/vkstream-src.list >/dev/null
    fi
    $SUDO apt-get update -qq
fi

rm -rf "$DL"
mkdir -p "$DL"
# The Debian tarball may 404 on this mirror: ignore apt's status and look at
# what actually arrived.
(cd "$DL" && apt-get source --download-only "$PKG" >apt.log 2>&1) \
    || true

orig=$(ls "$DL"/"$PKG"_*.orig.tar.* 2>/dev/null | head -n 1 || true)
if [ -z "$orig" ]; then
    echo "debian-source: ERROR: could not download the upstream source of" >&2
    echo "  $PKG (apt-get source $PKG)." >&2
    echo "  apt said:" >&2
    sed 's/^/    /' "$DL/apt.log" >&2
    echo "  Check that a deb-src entry exists in /etc/apt/sources.list.d/" >&2
    echo "  and that the package repository is reachable." >&2
    exit 1
fi

mkdir -p "$DL/x"
tar -xf "$orig" -C "$DL/x"
top=$(find "$DL/x" -maxdepth 5 -path "*/$MARKER" | head -n 1)
top=${top%/"$MARKER"}
if [ -z "$top" ]; then
    echo "debian-source: ERROR: $orig has no $MARKER" >&2
    exit 1
fi
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$top" "$DEST"
# which tarball this is (debian/rtmp-headers compares it with the installed
# package's version)
basename "$orig" >"$DEST/.debian-source"
rm -rf "$DL"
echo "debian-source: $PKG sources in $DEST"
