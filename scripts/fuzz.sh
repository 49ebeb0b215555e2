#!/bin/bash
# Runs every fuzzer in build/fuzz for SECONDS each (default 60), starting
# from its committed seeds in fuzz/corpus/NAME; new inputs go to
# build/fuzz/corpus/NAME, crashes to build/fuzz/artifacts/.  Prints one
# summary line per target; exits 1 if any target failed.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (TARGET e.g. vk_rules)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build/fuzz"
secs=${1:-60}
shift || true

if [ $# -eq 0 ]; then
    set -- $(cd "$ROOT/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

mkdir -p "$B/artifacts"
fail=0

for t in "$@"; do
    mkdir -p "$B/corpus/$t"
    log="$B/$t.log"
    # ASan's default RSS limit is 2 GB; libavcodec stays far below
    "$B/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" \
        "$B/corpus/$t" "$ROOT/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "fuzz $t: ok, ${runs:-?} runs, ${eps:-?} exec/s, $cov"
    else
        echo "fuzz $t: FAILED (exit $rc), see $log:"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" \
            | head -n 5
        fail=1
    fi
done

exit $fail
