#!/bin/bash
# Build build/ngx_vkstream_module.so against the packaged nginx: configure a
# copy of /usr/share/nginx/src (from nginx-dev) with the exact flags Debian
# used (its conf_flags), plus this repository as a dynamic module.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=/usr/share/nginx/src
B="$ROOT/build"
NGX="$B/nginx"

if [ ! -f "$SRC/conf_flags" ]; then
    echo "build: ERROR: $SRC/conf_flags missing: install nginx-dev" \
         "(make deps)" >&2
    exit 1
fi
if [ ! -f "$B/rtmp-src/ngx_rtmp.h" ]; then
    "$ROOT/scripts/debian-source.sh" libnginx-mod-rtmp "$B/rtmp-src" ngx_rtmp.h
fi

# Reconfigure when the flags, the addon script or the list of sources
# change; otherwise only recompile.
stamp=$( (cat "$SRC/conf_flags" "$ROOT/config";
          cd "$ROOT" && ls ngx_vkstream_module/*.[ch] \
              ngx_vkstream_module/media/*.[ch] ngx_vkstream_module/vk/*.[ch] \
              2>/dev/null || true) | md5sum | cut -d' ' -f1)

if [ ! -f "$NGX/objs/Makefile" ] || [ "$(cat "$NGX/.stamp" 2>/dev/null)" \
        != "$stamp" ]; then
    rm -rf "$NGX"
    mkdir -p "$B"
    cp -a "$SRC" "$NGX"
    # shellcheck disable=SC1091
    . "$NGX/conf_flags"
    (cd "$NGX" && ./configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="-g -O2 -fstack-protector-strong -Wformat \
-Werror=format-security -fPIC -D_FORTIFY_SOURCE=2" \
        --with-ld-opt="-Wl,-z,relro -Wl,-z,now -fPIC" \
        --add-dynamic-module="$ROOT" >"$B/configure.log" 2>&1) || {
        echo "build: configure failed, see $B/configure.log:" >&2
        tail -n 20 "$B/configure.log" >&2
        exit 1
    }
    echo "$stamp" >"$NGX/.stamp"
fi

make -s -C "$NGX" -f objs/Makefile modules
cp "$NGX/objs/ngx_vkstream_module.so" "$B/ngx_vkstream_module.so"
echo "build: $B/ngx_vkstream_module.so"
