#!/bin/bash
# "make bench": vkstream against the nginx-rtmp "exec ffmpeg" setup it
# replaces and against a from-memory floor, on loopback only.  Builds the
# floor program and the source clip, then runs scripts/bench.pl, which
# writes build/bench/results.md.  About 35 minutes on 2 cores (capacity's
# 3 trials of 60 s steady state per count, both sides, about 20 of them;
# quality 2), plus about 10 for the latency scenario (which needs "make
# ui": Chromium, hls.js) and 10 for the cluster.
#
# Knobs (environment):
#   BENCH_QUICK=1          one run of each, short sessions (a few minutes)
#   BENCH_RUNS=N           runs per figure (default 3)
#   BENCH_DURATION=S       seconds per startup/cost/ladder session (20)
#   BENCH_CAP_STEADY=S     capacity: seconds of steady state per trial,
#                          from when every source's _low is listed (each
#                          side's own start-up left out) + BENCH_CAP_SETTLE
#                          (60; 20 with BENCH_QUICK)
#   BENCH_CAP_SETTLE=S     capacity: seconds between "every output
#                          listed" and the steady window (4)
#   BENCH_CAP_TRIALS=N     capacity: trials a count must pass, all of
#                          them (3; 1 with BENCH_QUICK)
#   BENCH_CAP_FPS=F        capacity: video frames per wall second every
#                          stream must list over the window (29)
#   BENCH_CAP_START=N      capacity: first count tried (default: the goal,
#                          0.9 x cores x 60 / floor CPU s per minute)
#   BENCH_CAP_MAX=N        largest capacity tried (16; 4 with BENCH_QUICK)
#   BENCH_CAP_COUNTS=a,b   capacity: only these counts, no search (a
#                          diagnosis at given loads)
#   BENCH_CAP_CONF='...'   capacity: directives added to the module side
#                          (e.g. 'vkstream_nice 0;')
#   BENCH_CAP_MAIN='...'   capacity: directives added to the main context
#                          of the module side (e.g. 'vkstream_loop_sched
#                          normal;')
#   BENCH_CAP_SIDES=a,b    capacity sides: module seed (both)
#   BENCH_LOAD=N           sources transcoding during isolation
#                          (default: the first count capacity failed at,
#                          else 10; 3 with BENCH_QUICK)
#   BENCH_ISO_CONF='...'   directives added to the isolation module side
#                          (e.g. 'vkstream_sched idle;')
#   BENCH_ISO_MAIN='...'   directives added to the main context of the
#                          isolation module side (e.g. 'worker_priority -5;')
#   BENCH_ISO_SIDES=a,b    isolation sides: module seed (both)
#   BENCH_PROBE_NICE=N     isolation: nice of the probing client while it
#                          probes (-10 as root: it stands for a client on
#                          another machine; else unchanged)
#   BENCH_PROBE_SCHED=P    isolation: the probing client's policy while it
#                          probes: rr (SCHED_RR 1, the default as root) or
#                          normal (unchanged)
#   BENCH_QUALITY_CONF='...' quality: a third side, the module with these
#                          directives (a speed knob), with its quality cost
#   BENCH_QUALITY_VBV='...' quality: output flags that give the exec seed
#                          the module's VBV, a side of its own at the same
#                          bits ('-maxrate 256k -bufsize 512k'; '' for none)
#   BENCH_QUALITY_CRF='...' quality: directives that make the module's _low
#                          the seed's pure crf encode, a side of its own at
#                          the same settings ('vkstream_rendition _low
#                          maxrate=off bufsize=off;'; '' for none)
#   BENCH_ONLY=a,b         only these: floor cost startup memory ladder
#                          capacity isolation quality vk sse cluster latency
#                          (capacity also runs the floor: its goal)
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
#   BENCH_VK_RATES=a,b     VK feed: generator (scripts/bench-vk-gen.c)
#                          rates tried in order, until one fails
#                          (1000,5000,10000,20000,30000,40000,60000)
#   BENCH_VK_STEP=S        VK feed: seconds per rate step, and of the
#                          generator's ceiling measurement (3)
#   BENCH_VK_COALESCE=1    VK feed: the generator writes the events of a
#                          millisecond together (one TLS record for many)
#                          instead of one write each, as a server that
#                          buffers would
#   BENCH_VK_MATCHES=N     VK feed: vkstream_matches, the last matches of
#                          a step its latency is taken over (10000, the
#                          directive's maximum)
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
#   BENCH_DEBUG=1          isolation: each RTMP join's steps on stderr
#   VKSTREAM_CHROMIUM=P    latency: the browser (/usr/bin/chromium)
#
# "scripts/bench.pl --report build/bench/results.json OUT.md" makes the
# report again from a run's raw results (honouring BENCH_ONLY and
# BENCH_CONFIGS); "--summary build/bench/results.json" prints the rows of
# the README's Performance table from them; "--knobs" prints the knobs as
# parsed.
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
# the VK feed scenario's event source (the Perl emulator cannot go fast)
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$B/bench-vk-gen" \
    "$ROOT/scripts/bench-vk-gen.c" \
    $(pkg-config --cflags --libs libwebsockets jansson) -lpthread

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
