#!/usr/bin/env bash
# Boot benchmark (`make bench`): boots the image RUNS times on each bus and prints the median
# stage-1 -> kernel-entry time and kernel load rate, from the kernel's own "boot" JSON record
# (TSC measurements taken on the guest). Not a test: it asserts nothing.
# For an LZ4-packed kernel the load splits into reading (rate = packed bytes read per second of
# reading) and unpacking (decode + CRC of the decoded image + BSS + symbol table).
# BUSES="ide virtio" limits the buses; RUNS sets the boots per bus (default 5).
set -u
cd "$(dirname "$0")/../.."
img=${1:-build/bareflow.img}
runs=${RUNS:-5}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
accel=$(tests/qemu/run.sh --probe 2>/dev/null)
printf "boot benchmark: %s, %s runs per bus, accelerator %s\n" "$img" "$runs" "${accel^^}"
printf "%-8s %22s %18s %14s %12s\n" bus "stage1->kernel ms" "kernel load ms" "read MB/s" "unpack ms"
for bus in ${BUSES:-ide virtio ahci xhci ehci}; do
  t=(); l=(); r=(); u=()
  for i in $(seq "$runs"); do
    rec=$(tests/qemu/run.sh --bus "$bus" --snapshot "$img" 2>/dev/null | grep '^{"record":"boot"')
    t+=("$(sed -E 's/.*"stage1_to_kernel_us":([0-9]+).*/\1/' <<<"$rec")")
    l+=("$(sed -E 's/.*"kernel_load_us":([0-9]+).*/\1/' <<<"$rec")")
    r+=("$(sed -E 's/.*"load_kb_per_s":([0-9]+).*/\1/' <<<"$rec")")
    if grep -q '"unpack_us"' <<<"$rec"; then u+=("$(sed -E 's/.*"unpack_us":([0-9]+).*/\1/' <<<"$rec")"); else u+=(0); fi
  done
  mt=$(printf '%s\n' "${t[@]}" | median); ml=$(printf '%s\n' "${l[@]}" | median); mr=$(printf '%s\n' "${r[@]}" | median)
  mu=$(printf '%s\n' "${u[@]}" | median)
  printf "%-8s %22.1f %18.1f %14.1f %12.1f\n" "$bus" "$(echo "$mt / 1000" | bc -l)" "$(echo "$ml / 1000" | bc -l)" "$(echo "$mr / 1000" | bc -l)" "$(echo "$mu / 1000" | bc -l)"
  echo "{\"record\":\"bench_boot\",\"bus\":\"$bus\",\"accel\":\"$accel\",\"runs\":$runs,\"stage1_to_kernel_us_median\":$mt,\"kernel_load_us_median\":$ml,\"load_kb_per_s_median\":$mr,\"unpack_us_median\":$mu}"
done
