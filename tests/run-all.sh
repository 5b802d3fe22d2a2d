#!/usr/bin/env bash
# The whole test suite (what `make test` runs):
#   1. host unit tests (GoogleTest under CTest, tests/unit; the project is tests/CMakeLists.txt,
#      built in build/unit),
#   2. every libFuzzer target for a bounded time (FUZZ_SECONDS each, default 20; the same
#      project with BF_FUZZ=ON in build/fuzz, built once, then tests/fuzz/run.sh per target),
#   3. the lit suite (boot tests in QEMU, image and hosted tests).
# Ends with one summary line: "make test: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
LIT=/usr/lib/llvm-19/build/utils/lit/lit.py
passed=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if [ -f tests/CMakeLists.txt ]; then
  echo "== unit tests (CTest)"
  # A build/unit configured from the old per-directory projects (-S tests/unit) would make CMake
  # refuse the new source directory: start that one afresh.
  if [ -f build/unit/CMakeCache.txt ] &&
     ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$PWD/tests" build/unit/CMakeCache.txt; then
    rm -rf build/unit
  fi
  mkdir -p build
  if cmake -S tests -B build/unit -DCMAKE_BUILD_TYPE=RelWithDebInfo > build/unit.cmake.log 2>&1 &&
     cmake --build build/unit -j2 > build/unit.build.log 2>&1; then
    ctest --test-dir build/unit --output-on-failure 2>&1 | tee "$out"
    total=$(sed -nE 's/.* tests failed out of ([0-9]+).*/\1/p' "$out" | tail -1)
    bad=$(sed -nE 's/.* ([0-9]+) tests failed out of.*/\1/p' "$out" | tail -1)
    if [ -n "$total" ]; then
      passed=$((passed + total - bad)); failed=$((failed + bad))
    else
      failed=$((failed + 1))
    fi
  else
    echo "unit tests: build failed:"; tail -n 30 build/unit.cmake.log build/unit.build.log
    failed=$((failed + 1))
  fi
fi

echo "== fuzz targets (${FUZZ_SECONDS:-20} s each)"
# Build them all first (one configure, one parallel build); each run.sh then finds its target
# up to date. A failed build fails each target (run.sh repeats the error for each).
tests/fuzz/run.sh --build
for t in tests/fuzz/*_fuzz.cpp; do
  [ -f "$t" ] || continue
  if tests/fuzz/run.sh "$(basename "$t" .cpp)" "${FUZZ_SECONDS:-20}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done

echo "== lit suite"
python3 "$LIT" -sv "$@" tests 2>&1 | tee "$out"
count() { sed -nE "s/^ +$1: +([0-9]+).*/\1/p" "$out" | tail -1; }
lp=$(count Passed); lf=$(count Failed)
passed=$((passed + ${lp:-0})); failed=$((failed + ${lf:-0}))
for k in Unresolved 'Timed Out' 'Unexpectedly Passed'; do n=$(count "$k"); failed=$((failed + ${n:-0})); done
[ -z "$lp" ] && failed=$((failed + 1))

echo "make test: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
