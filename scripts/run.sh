#!/bin/sh
# "make run": start the packaged nginx with this build of the module, using
# nginx.conf.example on loopback ports in the repo-local prefix build/run.
# Ctrl-C stops it.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX="$ROOT/build/run"

port_free() {
    ! perl -MIO::Socket::INET -e \
        'exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") ? 0 : 1)' \
        "$1"
}

free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen => 1,
             LocalAddr => "127.0.0.1:0")->sockport'
}

RTMP_PORT=${RTMP_PORT:-1935}
HTTP_PORT=${HTTP_PORT:-8080}
port_free "$RTMP_PORT" || RTMP_PORT=$(free_port)
port_free "$HTTP_PORT" || HTTP_PORT=$(free_port)

rm -rf "$PREFIX"
"$ROOT/scripts/localize-conf.sh" "$ROOT/nginx.conf.example" \
    "$PREFIX/conf/nginx.conf" "$PREFIX" "$RTMP_PORT" "$HTTP_PORT"
# The packaged prefix's /var/lib/vkstream parent is not writable for
# workers when run as root from the repo: keep the tree traversable.
chmod o+x "$ROOT" "$ROOT/build" 2>/dev/null || true

/usr/sbin/nginx -p "$PREFIX/" -c conf/nginx.conf -t -q

cat <<MSG

vkstream is running (Ctrl-C stops it)
  publish:  rtmp://127.0.0.1:$RTMP_PORT/live/NAME
            e.g. ffmpeg -re -f lavfi -i testsrc=size=1280x720:rate=30 \\
                   -f lavfi -i sine -c:v libx264 -g 60 -c:a aac \\
                   -f flv rtmp://127.0.0.1:$RTMP_PORT/live/test
  HLS:      http://127.0.0.1:$HTTP_PORT/hls/NAME.m3u8 (master), NAME_low.m3u8
  API:      http://127.0.0.1:$HTTP_PORT/vkstream/
  UI:       http://127.0.0.1:$HTTP_PORT/vkstream/ui/  (dashboard)
  log:      $PREFIX/logs/error.log

MSG

exec /usr/sbin/nginx -p "$PREFIX/" -c conf/nginx.conf -g 'daemon off;'
