#!/usr/bin/env bash
# Runtime benchmark (`make bench`): the same ELF measures itself on bare metal (QEMU) and as a
# Linux process, back to back: syscall round trip, profiled region, power-on -> main().
set -u
cd "$(dirname "$0")/../.."
B=build
export BAREFLOW_BUILD=$B
img=$(mktemp --suffix=.img)
tests/tools/make-image "$img" bench-runtime
echo "runtime benchmark: bare metal ($(tests/qemu/run.sh --probe 2>/dev/null | tr a-z A-Z)) and hosted, same ELF"
tests/qemu/run.sh "$img" 2>/dev/null | grep -E '^bench-runtime|"record":"bench_runtime"'
"$B/bareflow.elf" bench-runtime
rm -f "$img"
