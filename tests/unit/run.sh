#!/usr/bin/env bash
# Host unit tests (GoogleTest under CTest): build and run. For `make test`:
#   tests/unit/run.sh   (exit status 0 = all passed; -j2 keeps the build modest)
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S tests -B build/unit >/dev/null
cmake --build build/unit -j2
ctest --test-dir build/unit --output-on-failure
