#!/usr/bin/env bash
# run.sh NAME SECONDS: builds the libFuzzer target tests/fuzz/NAME.cpp (with ASan and UBSan)
# and runs it for SECONDS from its seed corpus (tests/fuzz/seeds-NAME.sh makes seeds, if present).
# A crash, a leak, a sanitizer report or a timeout fails it; the input is kept in build/fuzz/.
set -u
cd "$(dirname "$0")/../.."
name=$1 secs=${2:-20}
out=build/fuzz
mkdir -p "$out/corpus-$name"
srcs=(tests/fuzz/$name.cpp)
case "$name" in
  fat16_fuzz) srcs+=(kernel_lib/fs/fat16*.cpp) ;;
esac
if ! /usr/lib/llvm-19/bin/clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined -Ikernel_lib/include "${srcs[@]}" -o "$out/$name" \
      > "$out/$name.build.log" 2>&1; then
  echo "fuzz $name: build failed"; cat "$out/$name.build.log"; exit 1
fi
[ -x "tests/fuzz/seeds-$name.sh" ] && "tests/fuzz/seeds-$name.sh" "$out/corpus-$name"
if "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
     -artifact_prefix="$out/$name-" "$out/corpus-$name" > "$out/$name.log" 2>&1; then
  echo "fuzz $name: ok ($(grep -c . "$out/$name.log") log lines, $(ls "$out/corpus-$name" | wc -l) corpus inputs)"
else
  echo "fuzz $name: FAILED"; tail -40 "$out/$name.log"; exit 1
fi
