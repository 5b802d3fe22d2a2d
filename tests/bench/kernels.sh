#!/usr/bin/env bash
# Kernel benchmark (`make bench`): `bareflow bench-kernels` on bare metal (QEMU) and as a Linux
# process, same ELF, then OpenBLAS on the host (build/bench/openblas_bench, single-threaded).
# Every JSON record goes to build/report/bench.jsonl (input of `make report`); prints the human
# lines and a side-by-side table (AOT vs JIT vs OpenBLAS). Numbers only: nothing is asserted.
# Environment: BENCH_KERNELS_BARE=0 skips bare metal; BENCH_KERNELS_ARGS adds kernel command-line
# words (e.g. "bench_big=1 bench_budget_ms=200"); BENCH_KERNELS_TIMEOUT (s, default 1200) bounds
# the QEMU run; BENCH_KERNELS_MEM (default 1G) is its RAM.
set -u
cd "$(dirname "$0")/../.."
B=build
export BAREFLOW_BUILD=$B
out=$B/report/bench.jsonl
mkdir -p "$B/report"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
records='^\{"record":"(bench_kernel|bench_limits|openblas_config|jit_target)"'

if [ "${BENCH_KERNELS_BARE:-1}" != 0 ]; then
  tests/tools/make-image "$tmp/k.img" "bench-kernels ${BENCH_KERNELS_ARGS:-}" >/dev/null
  echo "kernel benchmark: bare metal ($(tests/qemu/run.sh --probe 2>/dev/null | tr a-z A-Z); emulated cycles under TCG)"
  tests/qemu/run.sh --mem "${BENCH_KERNELS_MEM:-1G}" --timeout "${BENCH_KERNELS_TIMEOUT:-1200}" "$tmp/k.img" 2>&1 |
    tr -d '\r' > "$tmp/bare.txt"
  grep -E '^(bench-kernels|jit:)|run.sh: timeout' "$tmp/bare.txt"
fi

echo "kernel benchmark: hosted (Linux process)"
env ${BENCH_KERNELS_ARGS:-} "$B/bareflow.elf" bench-kernels > "$tmp/hosted.txt" 2>&1
grep -E '^(bench-kernels|jit:)' "$tmp/hosted.txt"

if [ -x "$B/bench/openblas_bench" ]; then
  echo "kernel benchmark: OpenBLAS (host, 1 thread)"
  OPENBLAS_NUM_THREADS=1 "$B/bench/openblas_bench" > "$tmp/blas.txt" 2>&1
  grep -E '^openblas:' "$tmp/blas.txt"
else
  echo "kernel benchmark: $B/bench/openblas_bench not built (make $B/bench/openblas_bench): no OpenBLAS column"
fi

cat "$tmp"/*.txt | grep -E "$records" > "$out"
echo "kernel benchmark: $(wc -l < "$out") records in $out"
python3 tests/bench/report.py --table "$out"
