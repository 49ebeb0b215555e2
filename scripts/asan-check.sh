#!/bin/bash
# After "make test SANITIZE=1": prints the sanitizer reports nginx's
# processes logged into DIR and fails if there is any.
set -u
dir=${1:?usage: asan-check.sh DIR}
shopt -s nullglob
logs=("$dir"/*)
if [ ${#logs[@]} -eq 0 ]; then
    echo "sanitizers: no reports from nginx"
    exit 0
fi
echo "sanitizers: ${#logs[@]} report file(s) in $dir:"
for f in "${logs[@]}"; do
    echo "==== $f"
    head -n 40 "$f"
done
exit 1
