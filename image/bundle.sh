#!/usr/bin/env bash
# bundle.sh OUT.img MODEL TOKENIZER [CMDLINE]: a bootable image that carries a model.
# Partition 1 (FAT16, sized to fit: at least 64 MiB) gets the model as /MODELS/MODEL.BIN (a
# llama2.c checkpoint) or /MODELS/MODEL.GGUF (a GGUF file, recognised by its magic), the tokenizer
# as /MODELS/TOKENIZ.BIN (TOKENIZER "-": none, a GGUF model brings its own vocabulary), an empty
# /JIT for the compiled-code cache, and README.TXT; the kernel command line defaults to greedy
# generation with that model. `make image MODEL=... TOKENIZER=... PROMPT=...` calls it.
set -euo pipefail
out=${1:?usage: bundle.sh OUT.img MODEL TOKENIZER [CMDLINE]}
model=${2:?model file}
tok=${3:?tokenizer file}
B=${BAREFLOW_BUILD:-build}
for f in "$model" "$tok"; do
  [ "$f" = - ] || [ -f "$f" ] || { echo "bundle: '$f' not found" >&2; exit 1; }
done
if [ "$(head -c 4 "$model")" = GGUF ]; then name=MODEL.GGUF; else name=MODEL.BIN; fi
if [ "$tok" = - ]; then
  [ "$name" = MODEL.GGUF ] || { echo "bundle: '$model' is a llama2.c checkpoint: it needs a tokenizer file" >&2; exit 1; }
  tok_args=
else
  tok_args=" /MODELS/TOKENIZ.BIN"
fi
# The default command line: greedy generation, with $PROMPT when set (make image PROMPT=...).
cmdline=${4:-generate /MODELS/$name$tok_args -t 0${PROMPT:+ -p \"$PROMPT\"}}
for t in "$B/image/mkimage" "$B/boot/mbr.bin" "$B/boot/stage2.bin" "$B/bareflow.elf"; do
  [ -f "$t" ] || { echo "bundle: $t is missing: run 'make' first" >&2; exit 1; }
done
tok_bytes=0
[ "$tok" = - ] || tok_bytes=$(stat -c %s "$tok")
need_kib=$(( ($(stat -c %s "$model") + tok_bytes) / 1024 ))
fat_mib=$(( need_kib / 1024 * 5 / 4 + 64 ))   # room for the JIT cache and the user's files
[ "$fat_mib" -gt 2000 ] && { echo "bundle: the model needs more than FAT16's 2 GiB" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkfs.fat -F 16 -n BAREFLOW -i 42464c57 -h 2048 -C "$work/fat.img" $(( fat_mib * 1024 )) > /dev/null
mmd -i "$work/fat.img" ::/MODELS ::/JIT
mcopy -i "$work/fat.img" "$model" ::/MODELS/$name
[ "$tok" = - ] || mcopy -i "$work/fat.img" "$tok" ::/MODELS/TOKENIZ.BIN
mcopy -i "$work/fat.img" "$(dirname "$0")/fat/README.TXT" ::/README.TXT
"$B/image/mkimage" --mbr "$B/boot/mbr.bin" --stage2 "$B/boot/stage2.bin" --kernel "$B/bareflow.elf" \
  --fat "$work/fat.img" --out "$out" --cmdline "$cmdline"
