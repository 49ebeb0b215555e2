#!/bin/bash
# "make bench": vkstream against the nginx-rtmp "exec ffmpeg" setup it
# replaces and against a from-memory floor, on loopback only.  Builds the
# floor program and the source clip, then runs scripts/bench.pl, which
# writes build/bench/results.md.  About 16 minutes on 2 cores, plus about
# 10 for the latency scenario (which needs "make ui": Chromium, hls.js).
#
# Knobs (environment):
#   BENCH_QUICK=1          one run of each, short sessions (a few minutes)
#   BENCH_RUNS=N           runs per figure (default 3)
#   BENCH_DURATION=S       seconds per startup/cost/ladder session (20)
#   BENCH_CAP_DURATION=S   seconds per capacity trial (24; the seed exec
#                          needs about 11 s to start)
#   BENCH_CAP_MAX=N        largest capacity tried (16)
#   BENCH_LOAD=N           sources transcoding during isolation
#                          (default: the first count capacity failed at)
#   BENCH_ISO_CONF='...'   directives added to the isolation application
#                          (e.g. 'vkstream_sched idle;')
#   BENCH_ONLY=a,b         only these: floor cost startup memory ladder
#                          capacity isolation vk sse cluster latency
#   BENCH_LAT_PARTS=a,b    latency: LL-HLS part targets in ms, one
#                          side-by-side run each (500,333,250)
#   BENCH_LAT_JOIN=S       latency: the players start S seconds after
#                          the publish (10)
#   BENCH_LAT_WARMUP=S     latency: seconds left out first (10)
#   BENCH_LAT_SECS=S       latency: seconds measured (60)
#   BENCH_LAT_CPU_SECS=S   latency: seconds per CPU session, LL-HLS on
#                          and off, BENCH_RUNS each (40)
#   BENCH_LAT_SIZE=WxH     latency: the clock source's size (1280x720)
#   BENCH_LAT_CONF='...'   latency: directives added to the application
#                          (e.g. 'vkstream_nice 0;' when the whole bench
#                          runs under "nice -n -10")
#   BENCH_LAT_HLS='{..};{..}'  latency: hls.js settings added to its
#                          defaults in both players, one pass each
#                          ('{};{"maxLiveSyncPlaybackRate":1.5}')
#   BENCH_LAT_PRESET=P     latency: the clock source's x264 preset
#                          (ultrafast)
#   BENCH_LAT_SERVE=M      latency: LL playlists "static" files or
#                          "blocking" (vkstream_llhls_serve, the default)
#   BENCH_VK_RATES=a,b     VK feed: generator rates tried in order, until
#                          one fails (1000,2000,5000,10000,20000,40000)
#   BENCH_VK_STEP=S        VK feed: seconds per rate step (3)
#   BENCH_VK_LAT_RATE=N    VK feed: events/s of the latency run (1000)
#   BENCH_VK_LAT_SECS=S    VK feed: seconds of the latency run (4)
#   BENCH_SSE_IDLE_SUBS=N  SSE: idle subscribers on one worker (1000)
#   BENCH_SSE_IDLE_SECS=S  SSE: seconds of worker CPU measured with and
#                          without them (30; 10 with BENCH_QUICK)
#   BENCH_SSE_SUBS=N       SSE: subscribers of the fan-out run (200)
#   BENCH_SSE_RATE=N       SSE: events/s of the fan-out run (1000)
#   BENCH_SSE_SECS=S       SSE: seconds of the fan-out run (5)
#   BENCH_SSE_MODULE=PATH  SSE: another build of the module (before/after)
#                          (the latency run takes BENCH_VK_LAT_*)
#   BENCH_CONFIGS=a,b      startup/cost sides (off module seed tuned)
#   BENCH_CL_SAMPLES=N     cluster: publish-to-view samples (5)
#   BENCH_CL_FAILOVERS=N   cluster: holder kills per TTL (3)
#   BENCH_CL_STREAMS=a,b   cluster: stream counts of the Redis traffic
#                          figures (0,10,30)
#   BENCH_CL_SECS=S        cluster: seconds per traffic figure (10)
#   BENCH_CL_SIM=a,b       cluster: simulated node counts (10,50,100)
#   BENCH_CL_SIM_SECS=S    cluster: seconds per simulation (15)
#   BENCH_TUNED_IN='...'   input flags of exec (tuned)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build/bench"
PKGS="libavcodec libavformat libavutil libswscale"

mkdir -p "$B"

for tool in ffmpeg ffprobe pkg-config perl cc redis-server; do
    command -v "$tool" >/dev/null || {
        echo "bench: $tool missing (make deps)" >&2
        exit 1
    }
done

if [ ! -f "$ROOT/build/ngx_vkstream_module.so" ]; then
    echo "bench: build/ngx_vkstream_module.so missing (make)" >&2
    exit 1
fi

# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$B/bench-floor" \
    "$ROOT/scripts/bench-floor.c" $(pkg-config --cflags --libs $PKGS)
# the cluster scenario's simulated nodes
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$B/bench-cluster-sim" \
    "$ROOT/scripts/bench-cluster-sim.c" $(pkg-config --cflags --libs hiredis) \
    -lpthread
# the latency scenario's camera: frames that show their capture time
cc -O2 -Wall -Wextra -Werror -o "$B/bench-clock-src" \
    "$ROOT/scripts/bench-clock-src.c"

# The source every side gets: 1280x720, 30 fps, 2 s GOP, yuv420p H.264
# (2.5 Mbit/s, as a streamer would send) + AAC, 20 s, looped by the
# publishers.  Made once.
SRC_ID="testsrc2-1280x720-30-g60-2500k-aac-20s-v1"
if [ "$(cat "$B/src.id" 2>/dev/null)" != "$SRC_ID" ]; then
    echo "bench: making the source clip $B/src.flv"
    ffmpeg -hide_banner -loglevel error -nostdin -y \
        -f lavfi -i testsrc2=size=1280x720:rate=30 \
        -f lavfi -i sine=frequency=440:sample_rate=44100 -t 20 \
        -c:v libx264 -preset veryfast -pix_fmt yuv420p \
        -g 60 -keyint_min 60 -sc_threshold 0 \
        -b:v 2500k -maxrate 2500k -bufsize 5000k \
        -c:a aac -b:a 128k -f flv "$B/src.flv.tmp"
    mv "$B/src.flv.tmp" "$B/src.flv"
    echo "$SRC_ID" >"$B/src.id"
fi

# bench.pl stops everything it started on exit, failure and INT/TERM.
exec perl "$ROOT/scripts/bench.pl"
