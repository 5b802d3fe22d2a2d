#!/usr/bin/env bash
# run.sh NAME SECONDS: builds the libFuzzer target tests/fuzz/NAME.cpp (with ASan and UBSan)
# and runs it for SECONDS from its seed corpus (made by make-seeds.sh / make_seeds.py).
# run.sh --build: configures build/fuzz and builds every target (tests/run-all.sh does this once
# before running them). The targets and the libraries they link are declared in
# tests/CMakeLists.txt (BF_FUZZ=ON); build/fuzz is configured on first use.
# Targets: fat16_fuzz (BPB/FAT/directories), model_fuzz (checkpoint header + a forward pass),
# tokenizer_fuzz (tokenizer file + encode/decode), config_fuzz (BAREFLOW.CFG parser + environment
# overlay), repl_fuzz (the REPL's command-line splitter), lz4_fuzz (the LZ4 block decoder that
# mirrors stage 2's, image/lz4_block.cpp, and liblz4 round trips), madt_fuzz (the ACPI MADT
# parser that decides which processors start, kernel_lib/smp/madt.cpp), jit_decision_fuzz (the
# JIT's stored trial decisions under /JIT, jit/tune.cpp parse).
# A crash, a leak, a sanitizer report or a timeout fails it; the input is kept in build/fuzz/.
set -u
cd "$(dirname "$0")/../.."
out=build/fuzz
# Configure once (later builds re-run CMake by themselves when tests/CMakeLists.txt changes, but
# a target added there is unknown to the old Makefiles until then: regenerate them first).
configure() {
  if [ ! -f "$out/CMakeCache.txt" ]; then
    cmake -S tests -B "$out" -DBF_FUZZ=ON -DCMAKE_CXX_COMPILER=/usr/lib/llvm-19/bin/clang++
  elif [ tests/CMakeLists.txt -nt "$out/Makefile" ]; then
    cmake "$out"
  fi
}
if [ "${1:-}" = --build ]; then
  mkdir -p "$out"
  if ! { configure && cmake --build "$out" -j2; } > "$out/build.log" 2>&1; then
    echo "fuzz: build failed"; tail -40 "$out/build.log"; exit 1
  fi
  exit 0
fi
name=$1 secs=${2:-20}
mkdir -p "$out/corpus-$name"
case "$name" in
  fat16_fuzz) seed() { tests/fuzz/make-seeds.sh "$1" > /dev/null; } ;;
  model_fuzz) seed() { python3 tests/fuzz/make_seeds.py "$out/seeds-llm" > /dev/null && cp -n "$out/seeds-llm/model/"* "$1"/; } ;;
  tokenizer_fuzz)
              seed() { python3 tests/fuzz/make_seeds.py "$out/seeds-llm" > /dev/null && cp -n "$out/seeds-llm/tokenizer/"* "$1"/; } ;;
  config_fuzz) seed() { printf 'model = /MODELS/MODEL.BIN\nprompt = "a \\"b\\""\n# c\nsteps=12\ntemperature = 0.5\ntopp = 1\nseed = 42\njit = off\njit_cache = clear\nmode = repl\n' > "$1/seed1"; } ;;
  lz4_fuzz)   seed() {  # 3 size bytes, then an LZ4 block of that size (or any bytes)
                printf '\x0d\x00\x00\x22ab\x02\x00\x50xyz12' > "$1/seed1"
                printf '\x10\x00\x00\x1f\x61\x01\x00\x00\x50vwxyz' > "$1/seed2"
                head -c 4000 build/boot/stage2.bin > "$1/seed3" 2>/dev/null || true; } ;;
  cmdline_fuzz) seed() { printf 'generate /MODELS/MODEL.BIN -p "The robot" jit=off steps=8' > "$1/seed1"; printf 'repl prompt="open' > "$1/seed2"; } ;;
  madt_fuzz)  seed() {  # QEMU-like tables: 4 local APICs (one disabled), x2APIC entries, an override
                python3 - "$1" <<'PY'
import struct, sys
def madt(entries):
    body = struct.pack('<II', 0xFEE00000, 1) + b''.join(entries)
    t = bytearray(b'APIC' + struct.pack('<I', 36 + len(body)) + bytes([3, 0]) + b'BOCHS BXPC    ' + bytes(12) + body)
    t[9] = (-sum(t)) & 0xFF
    return bytes(t)
lapic = lambda uid, id, fl: struct.pack('<BBBBI', 0, 8, uid, id, fl)
x2 = lambda id, fl: struct.pack('<BBHIII', 9, 16, 0, id, fl, id)
ioapic = struct.pack('<BBBBII', 1, 12, 0, 0, 0xFEC00000, 0)
override = struct.pack('<BBHQ', 5, 12, 0, 0xFEE00000)
d = sys.argv[1]
open(d + '/seed1', 'wb').write(madt([lapic(i, i, 1) for i in range(4)] + [ioapic]))
open(d + '/seed2', 'wb').write(madt([lapic(0, 0, 1), lapic(1, 1, 0), x2(300, 1), x2(301, 2), override]))
PY
              } ;;
  jit_decision_fuzz) seed() {  # valid records (jit/tune.cpp's layout): AOT kept, a variant of 8 won
                python3 - "$1" <<'PY'
import struct, sys, zlib
def record(key, winner, cands):
    c = b''.join(struct.pack('<16sQI4x', n.encode(), m, s) for n, m, s in cands)
    payload = struct.pack('<ii', len(cands), winner) + c + bytes(32 * (8 - len(cands)))
    return b'BFJITWIN' + struct.pack('<IIQQ', 1, zlib.crc32(payload), key, len(payload)) + payload
d = sys.argv[1]
open(d + '/seed1', 'wb').write(record(0x1234567890ABCDEF, 0, [('aot', 100000, 16), ('avx2', 99000, 16)]))
names = ['aot', 'avx2', 'avx2/v128', 'base', 'avx2/pf0', 'avx2/pf512', 'sse', 'avx512']
open(d + '/seed2', 'wb').write(record(0xFEDCBA9876543210, 3, [(n, 90000 + 1000 * i, 16) for i, n in enumerate(names)]))
PY
              } ;;
  repl_fuzz)  seed() { printf 'gen -n 20 "The \\"robot\\"" it'"'"'s\n' > "$1/seed1"; printf 'load /MODELS/A.BIN' > "$1/seed2"; } ;;
  gguf_fuzz)  seed() {  # llama.cpp's own files: two small ones whole (tensor checks), all cut to
                        # 4 KiB (the header, metadata and tensor infos, at ~10k execs/s)
                cp -n ../shared/gguf/aidreams260K-*.gguf "$1"/ 2>/dev/null
                for f in ../shared/gguf/*.gguf ../shared/gguf/quant/*.gguf ../shared/tokenizers/*.gguf; do
                  [ -f "$f" ] && head -c 4096 "$f" > "$1/$(basename "$f").head"; done; true; } ;;
  vocab_fuzz) seed() {  # every llama.cpp fixture case behind its vocabulary's selector byte (and 4: aidreams)
                python3 - "$1" <<'PY'
import sys, os
d = sys.argv[1]; i = 0
for s, n in enumerate(['llama-spm', 'phi-3', 'gpt-2', 'starcoder']):
    p = '../shared/tokenizers/ggml-vocab-%s.gguf.inp' % n
    if not os.path.exists(p): continue
    for c in open(p, 'rb').read().split(b'\n__ggml_vocab_test__\n'):
        for k in (s, 4):
            open('%s/seed%04d' % (d, i), 'wb').write(bytes([k]) + c); i += 1
PY
              } ;;
  *) seed() { :; } ;;
esac
if ! { configure && cmake --build "$out" --target "$name" -j2; } > "$out/$name.build.log" 2>&1; then
  echo "fuzz $name: build failed"; cat "$out/$name.build.log"; exit 1
fi
seed "$out/corpus-$name" || { echo "fuzz $name: making seeds failed"; exit 1; }
if "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
     -artifact_prefix="$out/$name-" "$out/corpus-$name" > "$out/$name.log" 2>&1; then
  echo "fuzz $name: ok ($(grep -c . "$out/$name.log") log lines, $(ls "$out/corpus-$name" | wc -l) corpus inputs)"
else
  echo "fuzz $name: FAILED"; tail -40 "$out/$name.log"; exit 1
fi
