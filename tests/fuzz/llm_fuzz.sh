#!/usr/bin/env bash
# Builds and runs the llm fuzzers (model_fuzz, tokenizer_fuzz) one after the other.
# Usage: tests/fuzz/llm_fuzz.sh [SECONDS_EACH]   (default 120; from any directory)
# Needs libclang-rt-19-dev for -fsanitize=fuzzer. Crashes land in build/fuzz/crash/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-120}
cxx=/usr/lib/llvm-19/bin/clang++
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iapp)
mkdir -p build/fuzz/crash
"$cxx" "${flags[@]}" tests/fuzz/model_fuzz.cpp app/llm/model.cpp app/llm/generate.cpp \
  app/llm/tokenizer.cpp app/llm/sampler.cpp app/kernels/kernels_ref.cpp \
  app/kernels/kernels_aot_stub.cpp -o build/fuzz/model_fuzz
"$cxx" "${flags[@]}" tests/fuzz/tokenizer_fuzz.cpp app/llm/tokenizer.cpp -o build/fuzz/tokenizer_fuzz
python3 tests/fuzz/make_seeds.py build/fuzz/corpus
for t in model tokenizer; do
  echo "== ${t}_fuzz, ${secs} s"
  build/fuzz/${t}_fuzz -max_total_time="$secs" -max_len=8192 -print_final_stats=1 \
    -artifact_prefix=build/fuzz/crash/${t}- build/fuzz/corpus/$t 2>&1 | grep -E '^(Done|stat::number_of_executed_units)|ERROR|SUMMARY' || true
  if ls build/fuzz/crash/${t}-* >/dev/null 2>&1; then echo "${t}_fuzz: FOUND A CRASH"; exit 1; fi
done
echo "llm fuzzers: clean"
