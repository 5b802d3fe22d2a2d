#!/usr/bin/env bash
# The whole test suite (what `make test` runs): the lit suite (boot tests in QEMU, image and
# hosted tests), then the host unit tests (tests/unit/run.sh). Ends with one summary line:
# "make test: N passed, N failed".
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
# Host unit tests (GoogleTest under CTest; the FAT16 engine against mkfs.fat/mtools/fsck.fat).
uout=$(mktemp)
tests/unit/run.sh 2>&1 | tee "$uout"
urc=${PIPESTATUS[0]}
ufail=$(sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+)$/\1/p' "$uout" | tail -1)
utotal=$(sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+)$/\2/p' "$uout" | tail -1)
rm -f "$uout"
if [ -n "$utotal" ]; then
  passed=$((passed + utotal - ufail)); failed=$((failed + ufail))
elif [ "$urc" != 0 ]; then
  failed=$((failed + 1))  # the unit tests did not build
fi
[ "$urc" = 0 ] || rc=1
echo "make test: $passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
