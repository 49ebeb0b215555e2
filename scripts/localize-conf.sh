#!/bin/sh
# Turn a config written for an installed nginx (nginx.conf.example) into one
# that runs from a private prefix with this build of the module:
#   localize-conf.sh IN OUT PREFIX RTMP_PORT HTTP_PORT
# VKSTREAM_MODULE names another build of the module (the tests' ASan one).
# Module paths, listen ports and /var/lib/vkstream are rewritten, and the
# dashboard's /usr/share/vkstream/ui/ becomes the repo's build/ui (made by
# "make ui"); when run as root, workers run as nobody and the prefix is
# made writable for them (and build/ui is copied into the prefix if nobody
# cannot read it where it is).
set -eu

in=$1 out=$2 prefix=$3 rtmp_port=$4 http_port=$5
ROOT=$(cd "$(dirname "$0")/.." && pwd)
module=${VKSTREAM_MODULE:-$ROOT/build/ngx_vkstream_module.so}

mkdir -p "$prefix/logs" "$prefix/temp" "$prefix/hls" "$prefix/conf"

ui="$ROOT/build/ui"
if [ "$(id -u)" = 0 ] && [ -d "$ui" ] \
        && ! runuser -u nobody -- test -r "$ui/index.html" 2>/dev/null; then
    # Workers run as nobody and cannot reach the repo: serve a copy.
    rm -rf "$prefix/ui"
    cp -r "$ui" "$prefix/ui"
    chmod -R a+rX "$prefix/ui"
    ui="$prefix/ui"
fi

sed -e "s|modules/ngx_rtmp_module.so|/usr/lib/nginx/modules/ngx_rtmp_module.so|" \
    -e "s|modules/ngx_vkstream_module.so|$module|" \
    -e "s|127.0.0.1:1935|127.0.0.1:$rtmp_port|g" \
    -e "s|127.0.0.1:8080|127.0.0.1:$http_port|g" \
    -e "s|/var/lib/vkstream|$prefix|g" \
    -e "s|/usr/share/vkstream/ui/|$ui/|g" \
    "$in" >"$out"

if [ "$(id -u)" = 0 ]; then
    # Workers must write HLS fragments and temp files: run them as nobody
    # and hand them the directories they write to.
    if ! grep -q '^user ' "$out"; then
        sed -i '1i user nobody nogroup;' "$out"
    fi
    chmod 755 "$prefix"
    chown -R nobody:nogroup "$prefix/hls" "$prefix/temp"
fi
