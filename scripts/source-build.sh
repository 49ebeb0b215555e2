#!/bin/bash
# "make check-source-build": prove that ./config is a proper addon script.
# Builds a complete nginx, configured with the flags of the packaged one
# (/usr/share/nginx/src/conf_flags; nginx-dev ships only headers, so the
# sources come from nginx's Debian source package), with nginx-rtmp-module
# compiled in (--add-module) and vkstream as a dynamic module, then checks
# that this nginx loads the module with nginx.conf.example.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build/source-build"
SRC=/usr/share/nginx/src

"$ROOT/scripts/debian-source.sh" libnginx-mod-rtmp "$ROOT/build/rtmp-src" \
    ngx_rtmp.h
"$ROOT/scripts/debian-source.sh" nginx "$ROOT/build/nginx-orig" \
    src/core/nginx.c

rm -rf "$B"
mkdir -p "$B"
cp -a "$ROOT/build/nginx-orig" "$B/nginx"
# Keep rtmp outside this repository so its headers are found only through
# the source tree's include path, as for any user of --add-module.
cp -a "$ROOT/build/rtmp-src" "$B/nginx-rtmp-module"

. "$SRC/conf_flags"
flags=()
for f in "${NGX_CONF_FLAGS[@]}"; do
    case $f in
        --prefix=*|--*-path=*) ;;      # keep the build self-contained
        *) flags+=("$f") ;;
    esac
done

cd "$B/nginx"
echo "source-build: configuring in $B/nginx"
VKSTREAM_RTMP_SRC=/nonexistent ./configure "${flags[@]}" \
    --prefix="$B/prefix" --error-log-path=stderr \
    --add-module="$B/nginx-rtmp-module" \
    --add-dynamic-module="$ROOT" >"$B/configure.log" 2>&1 || {
    tail -n 20 "$B/configure.log" >&2
    exit 1
}
echo "source-build: compiling (a few minutes on 2 cores)"
make -s -f objs/Makefile -j"$(nproc)" >"$B/make.log" 2>&1 || { tail -n 40 "$B/make.log" >&2; exit 1; }

mkdir -p "$B/prefix/logs" "$B/prefix/conf"
sed -e '/ngx_rtmp_module.so/d' \
    -e "s|modules/ngx_vkstream_module.so|$B/nginx/objs/ngx_vkstream_module.so|" \
    -e "s|127.0.0.1:1935|127.0.0.1:19350|; s|127.0.0.1:8080|127.0.0.1:18080|" \
    -e "s|/var/lib/vkstream|$B/prefix|g" \
    "$ROOT/nginx.conf.example" >"$B/prefix/conf/nginx.conf"
if [ "$(id -u)" = 0 ]; then
    sed -i '1i user root;' "$B/prefix/conf/nginx.conf"
fi
mkdir -p "$B/prefix/hls" "$B/prefix/temp"

"$B/nginx/objs/nginx" -p "$B/prefix/" -c conf/nginx.conf -t
echo "source-build: OK: nginx with static rtmp loads the dynamic module"
