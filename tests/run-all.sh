#!/usr/bin/env bash
# The whole test suite (what `make test` runs): the lit suite (boot tests in QEMU, image and
# hosted tests). Ends with one summary line: "make test: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
LIT=/usr/lib/llvm-19/build/utils/lit/lit.py
out=$(mktemp)
python3 "$LIT" -sv "$@" tests 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
count() { sed -nE "s/^ +$1: +([0-9]+).*/\1/p" "$out" | tail -1; }
passed=$(count Passed); failed=$(count Failed)
passed=${passed:-0}; failed=${failed:-0}
for k in Unresolved 'Timed Out' 'Unexpectedly Passed'; do n=$(count "$k"); failed=$((failed + ${n:-0})); done
rm -f "$out"
echo "make test: $passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
