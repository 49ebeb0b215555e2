#!/bin/bash
# Build build/ngx_vkstream_module.so against the packaged nginx: configure a
# copy of /usr/share/nginx/src (from nginx-dev) with the exact flags Debian
# used (its conf_flags), plus this repository as a dynamic module.
# SANITIZE=1 builds build/ngx_vkstream_module-asan.so instead, with
# AddressSanitizer and UndefinedBehaviorSanitizer, in build/nginx-asan; the
# packaged nginx loads it with libasan preloaded (t/lib/VKStream/Nginx.pm).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=/usr/share/nginx/src
B="$ROOT/build"
NGX="$B/nginx"
OUT="$B/ngx_vkstream_module.so"
SAN_CC=
SAN_LD=
if [ -n "${SANITIZE:-}" ] && [ "${SANITIZE}" != 0 ]; then
    NGX="$B/nginx-asan"
    OUT="$B/ngx_vkstream_module-asan.so"
    # UBSan reports are logged and the worker goes on (gcc's default), so
    # one run shows them all; the test run fails on any report
    # alignment is not checked: nginx-rtmp's shared buffers put their chain
    # links after a 4-byte reference count (ngx_rtmp_shared.c), by design
    SAN_CC=" -fsanitize=address,undefined -fno-sanitize=alignment \
-fno-omit-frame-pointer"
    SAN_LD=" -fsanitize=address,undefined"
fi

if [ ! -f "$SRC/conf_flags" ]; then
    echo "build: ERROR: $SRC/conf_flags missing: install nginx-dev" \
         "(make deps)" >&2
    exit 1
fi
if [ ! -f "$B/rtmp-src/ngx_rtmp.h" ]; then
    "$ROOT/scripts/debian-source.sh" libnginx-mod-rtmp "$B/rtmp-src" ngx_rtmp.h
fi

# config lists every source: one added to the tree but not there would be
# compiled by the unit tests and missing from the module
for f in $(cd "$ROOT" && ls ngx_vkstream_module/*.[ch] \
               ngx_vkstream_module/media/*.[ch] ngx_vkstream_module/vk/*.[ch] \
               ngx_vkstream_module/api/*.[ch] ngx_vkstream_module/util/*.[ch] \
               ngx_vkstream_module/cluster/*.[ch]); do
    if ! grep -q "\$VKSTREAM_DIR/${f#ngx_vkstream_module/}\b" "$ROOT/config"; then
        echo "build: ERROR: $f is not listed in config" >&2
        exit 1
    fi
done

# Reconfigure when the flags, the addon script, the tree (a copied build/
# must not compile another checkout) or the list of sources
# change; otherwise only recompile.
stamp=$( (cat "$SRC/conf_flags" "$ROOT/config"; echo "$SAN_CC $ROOT";
          cd "$ROOT" && ls ngx_vkstream_module/*.[ch] \
              ngx_vkstream_module/media/*.[ch] ngx_vkstream_module/vk/*.[ch] \
              ngx_vkstream_module/api/*.[ch] ngx_vkstream_module/util/*.[ch] \
              ngx_vkstream_module/cluster/*.[ch] 2>/dev/null || true) \
        | md5sum | cut -d' ' -f1)

if [ ! -f "$NGX/objs/Makefile" ] || [ "$(cat "$NGX/.stamp" 2>/dev/null)" \
        != "$stamp" ]; then
    rm -rf "$NGX"
    mkdir -p "$B"
    cp -a "$SRC" "$NGX"
    # shellcheck disable=SC1091
    . "$NGX/conf_flags"
    (cd "$NGX" && ./configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="-g -O2 -fstack-protector-strong -Wformat \
-Werror=format-security -fPIC -D_FORTIFY_SOURCE=2$SAN_CC" \
        --with-ld-opt="-Wl,-z,relro -Wl,-z,now -fPIC$SAN_LD" \
        --add-dynamic-module="$ROOT" >"$NGX.configure.log" 2>&1) || {
        echo "build: configure failed, see $NGX.configure.log:" >&2
        tail -n 20 "$NGX.configure.log" >&2
        exit 1
    }
    echo "$stamp" >"$NGX/.stamp"
fi

make -s -C "$NGX" -f objs/Makefile modules
# a new file, renamed over the old: an nginx running with the old one
# keeps its mapping (copying over it in place could crash it)
if ! cmp -s "$NGX/objs/ngx_vkstream_module.so" "$OUT"; then
    cp "$NGX/objs/ngx_vkstream_module.so" "$OUT.tmp"
    mv -f "$OUT.tmp" "$OUT"
fi
echo "build: $OUT"
