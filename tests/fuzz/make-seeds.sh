#!/usr/bin/env bash
# Seeds for tests/fuzz/fat16_fuzz.cpp: small FAT16 images made by the real tools (mkfs.fat,
# mtools), with long and short names, subdirectories, a fragmented file and a deleted entry.
# The smallest FAT16 volume is ~2.1 MB, mostly zeros: the trailing zeros are cut off (the fuzz
# target pads its input with zeros to 4 MiB), which leaves seeds of a few dozen KiB.
# Usage: tests/fuzz/make-seeds.sh OUTDIR   (e.g. build/fuzz/seeds)
set -euo pipefail
out=${1:?usage: $0 OUTDIR}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8

# Cut trailing zero bytes, keeping whole sectors.
trim() {
  python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
end = len(d.rstrip(b'\0'))
end = (end + 511) // 512 * 512
open(sys.argv[2], 'wb').write(d[:end])
PY
}

# Seed 1: 2.1 MB, 512-byte clusters (4125 clusters), a bit of everything.
img=$tmp/small.img
mkfs.fat -F 16 -s 1 -n FUZZSEED -i 12345678 -C "$img" 2100 >/dev/null
printf 'hello, world\n' > "$tmp/hello"
head -c 1500 /dev/zero | tr '\0' 'a' > "$tmp/a"
head -c 1500 /dev/zero | tr '\0' 'b' > "$tmp/b"
head -c 3000 /dev/zero | tr '\0' 'c' > "$tmp/c"
mcopy -i "$img" "$tmp/hello" ::/README.TXT
mcopy -i "$img" "$tmp/hello" "::/A long file name.txt"
mcopy -i "$img" "$tmp/hello" "::/Ünïcödé.txt"
mcopy -i "$img" "$tmp/a" ::/A.BIN
mcopy -i "$img" "$tmp/b" ::/B.BIN
mdel -i "$img" ::/B.BIN
mcopy -i "$img" "$tmp/c" "::/fragmented file.bin"
mmd -i "$img" ::/docs "::/docs/Sub Directory" ::/docs/x
mcopy -i "$img" "$tmp/hello" "::/docs/Sub Directory/deep.txt"
mcopy -i "$img" "$tmp/a" ::/docs/lower.txt
trim "$img" "$out/small-fat16.img"

# Seed 2: 4 MiB (the fuzz device size), a fuller root and a longer directory chain.
img=$tmp/full.img
mkfs.fat -F 16 -s 1 -i 87654321 -C "$img" 4096 >/dev/null
mmd -i "$img" ::/many
for i in $(seq 1 40); do
  mcopy -i "$img" "$tmp/hello" "::/many/file number $i.txt"
done
for i in $(seq 1 20); do mcopy -i "$img" "$tmp/hello" "::/ROOT$i.TXT"; done
mcopy -i "$img" "$tmp/c" ::/many/C.BIN
trim "$img" "$out/full-fat16.img"

ls -l "$out"
