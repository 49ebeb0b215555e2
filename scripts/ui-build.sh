#!/bin/sh
# Build the dashboard into build/ui: the files of ui/ plus hls.js from
# node_modules, so the page loads nothing from elsewhere.  "npm ci" runs
# only when node_modules is missing or package-lock.json changed since it
# last ran (--prefer-offline: npm's cache first, the registry otherwise).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if ! command -v npm >/dev/null 2>&1; then
    echo "ui: ERROR: npm not found: install nodejs (make deps)" >&2
    exit 1
fi

stamp=node_modules/.vkstream-lock.md5
want=$(md5sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "ui: npm ci"
    npm ci --prefer-offline --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
fi

out=build/ui
mkdir -p "$out"
rm -f "$out"/*
cp ui/index.html ui/dashboard.css ui/dashboard.js \
   node_modules/hls.js/dist/hls.min.js "$out/"
echo "ui: $out"
