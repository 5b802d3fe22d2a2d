#!/usr/bin/env bash
# Storage benchmark (`make bench`): MB/s reading a 64 MiB file from the FAT16 partition on bare
# metal, through the native virtio-blk driver and through BIOS INT 13h on IDE, virtio and xHCI USB.
set -u
cd "$(dirname "$0")/../.."
B=build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkfs.fat -F 16 -n BAREFLOW -h 2048 -C "$work/fat.img" $((160 * 1024)) > /dev/null
head -c $((64 << 20)) /dev/urandom > "$work/bench.bin"
mcopy -i "$work/fat.img" "$work/bench.bin" ::/BENCH.BIN
mk() { "$B/image/mkimage" --mbr "$B/boot/mbr.bin" --stage2 "$B/boot/stage2.bin" --kernel "$B/bareflow.elf" \
         --fat "$work/fat.img" --out "$1" --cmdline "$2" > /dev/null; }
mk "$work/native.img" "bench-read"
mk "$work/bios.img" "bench-read disk=bios"
echo "storage benchmark: 64 MiB file, FAT16, $(tests/qemu/run.sh --probe 2>/dev/null | tr a-z A-Z)"
for run in "virtio native.img native-virtio" "virtio bios.img bios" "ide bios.img bios" "xhci bios.img bios"; do
  set -- $run
  line=$(tests/qemu/run.sh --snapshot --timeout 600 --bus "$1" "$work/$2" 2>/dev/null | grep '^bench-read:')
  printf "%-8s %-14s %s\n" "$1" "$3" "${line#bench-read: }"
done
