#!/bin/sh
# Install the Debian packages vkstream builds, runs and tests with, and fetch
# the nginx-rtmp-module sources whose headers the module compiles against.
# (The dashboard's npm packages are installed by scripts/ui-build.sh.)
# Idempotent: when everything is present it only checks and returns.
set -eu

PACKAGES="nginx nginx-dev libnginx-mod-rtmp ffmpeg
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libswresample-dev libx264-dev libwebsockets-dev libjansson-dev
  libhiredis-dev redis-server haproxy
  pkg-config build-essential libpcre2-dev libpcre3-dev libssl-dev zlib1g-dev
  xz-utils dpkg-dev libmojolicious-perl libio-socket-ssl-perl openssl
  procps iproute2 curl chromium fonts-dejavu-core clang libclang-rt-dev
  debhelper lintian prometheus"

# redis-server is for the cluster unit tests, which start their own
# instances (unix socket, free loopback port); Debian's system instance on
# 6379, if its service starts, is never used.  Likewise haproxy is for
# the placement example (examples/haproxy.cfg, t/92-placement.t), which
# the test runs as its own foreground process; the system service and
# /etc/haproxy/haproxy.cfg are not used.

# debhelper and lintian build and check the Debian package ("make deb",
# t/97-deb.t); prometheus is for its promtool (t/25-promtool.t): its
# server, if the system starts its service, is not used.

# Node (for the dashboard's build and browser test) may come from another
# apt source than Debian's (e.g. a newer nodejs that bundles npm): install
# Debian's only when there is no node or npm at all.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    PACKAGES="$PACKAGES nodejs npm"
fi

SUDO=
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi

missing=
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null \
            | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends $missing
else
    echo "deps: all packages present"
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec "$ROOT/scripts/debian-source.sh" libnginx-mod-rtmp "$ROOT/build/rtmp-src" \
    ngx_rtmp.h
