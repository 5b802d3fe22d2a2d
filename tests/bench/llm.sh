#!/usr/bin/env bash
# LLM benchmark (`make bench`): `bareflow bench-llm` (pp and tg tokens/s, mean +- sd over
# repetitions, AOT then JIT) on synthetic fp32 models of the 15M and 110M llama2.c shapes (32000
# vocab, made by image/gen-model.py into build/bench/models/, deterministic) and on the same
# models converted by the project's own `quantize` to GGUF Q8_0, Q4_0 and Q4_K, each hosted and on
# bare metal (QEMU with as many processors as the host has, the model on the image's FAT16
# partition); hosted and bare metal alike, AOT
# and JIT on one core, then JIT on every core (bench-llm's third pass). Records (llm_bench, first_token) go to
# build/report/llm.jsonl; a side-by-side table closes the output. Numbers only: nothing is asserted.
# Environment:
#   BENCH_LLM_SHAPES       shapes (default "15M 110M")
#   BENCH_LLM_BARE_SHAPES  shapes booted on bare metal (default: "15M" under TCG, where the 110M
#                          model runs at ~1 tok/s; "15M 110M" under KVM)
#   BENCH_LLM_BARE_ARGS    extra kernel command-line words for bare metal (default under TCG:
#                          "bench_tg=16 bench_reps=3", emulation being ~50x slower)
#   BENCH_LLM_TIMEOUT      seconds per QEMU run (default 1800)
#   BENCH_LLM_QUANT        GGUF weight types benchmarked besides f32 (default "q8_0 q4_0 q4_k")
set -u
cd "$(dirname "$0")/../.."
B=build
export BAREFLOW_BUILD=$B
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
out=$B/report/llm.jsonl
mdir=$B/bench/models
mkdir -p "$B/report" "$mdir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
accel=$(tests/qemu/run.sh --probe 2>/dev/null)
shapes=${BENCH_LLM_SHAPES:-15M 110M}
if [ "$accel" = kvm ]; then bare_default="15M 110M" bare_args=""; else bare_default="15M" bare_args="bench_tg=16 bench_reps=3"; fi
bare_shapes=${BENCH_LLM_BARE_SHAPES-$bare_default}
bare_args=${BENCH_LLM_BARE_ARGS-$bare_args}
: > "$tmp/all.txt"

for s in $shapes; do
  d=$mdir/$s
  if [ ! -s "$d/MODEL.BIN" ] || [ ! -s "$d/TOKENIZ.BIN" ]; then
    "$PY" image/gen-model.py "$d" --shape "$s" || { echo "llm benchmark: cannot generate the $s model" >&2; continue; }
  fi
  echo "llm benchmark: $s shape, hosted (Linux process)"
  # Hosted there is no /JIT cache, so the JIT would only keep-or-not its default recipe: search,
  # as a booted image does (its decisions are remembered there).
  export jit_tune=search
  "$B/bareflow.elf" bench-llm "$d/MODEL.BIN" "$d/TOKENIZ.BIN" > "$tmp/hosted-$s.txt" 2>&1
  grep -E '^bench-llm' "$tmp/hosted-$s.txt"
  cat "$tmp/hosted-$s.txt" >> "$tmp/all.txt"
  quants=${BENCH_LLM_QUANT-q8_0 q4_0 q4_k}
  for q in $quants; do
    [ -s "$d/MODEL-$q.gguf" ] || "$B/bareflow.elf" quantize "$d/MODEL.BIN" "$d/TOKENIZ.BIN" "$d/MODEL-$q.gguf" "$q" > /dev/null 2>&1 ||
      { echo "llm benchmark: cannot convert the $s model to $q" >&2; continue; }
    echo "llm benchmark: $s shape, $q, hosted (Linux process)"
    "$B/bareflow.elf" bench-llm "$d/MODEL-$q.gguf" > "$tmp/hosted-$s-$q.txt" 2>&1
    grep -E '^bench-llm' "$tmp/hosted-$s-$q.txt"
    cat "$tmp/hosted-$s-$q.txt" >> "$tmp/all.txt"
  done
  case " $bare_shapes " in *" $s "*) ;; *) continue ;; esac
  # Bare metal: the fp32 checkpoint with its tokenizer, then each GGUF file (its own vocabulary).
  for q in f32 $quants; do
    if [ "$q" = f32 ]; then m=$d/MODEL.BIN t=$d/TOKENIZ.BIN f=/MODELS/MODEL.BIN tf=/MODELS/TOKENIZ.BIN
    else m=$d/MODEL-$q.gguf t=- f=/MODELS/MODEL.GGUF tf=; [ -s "$m" ] || continue; fi
    echo "llm benchmark: $s shape, $q, bare metal ($accel; $bare_args)"
    image/bundle.sh "$tmp/$s.img" "$m" "$t" "bench-llm $f $tf $bare_args" > /dev/null || continue
    # RAM: the model is read whole, plus the KV cache and the JIT.
    mem=$(( ($(stat -c %s "$m") / 1048576 * 2 + 768) ))M
    tests/qemu/run.sh --smp "$(nproc)" --mem "$mem" --timeout "${BENCH_LLM_TIMEOUT:-1800}" "$tmp/$s.img" 2>&1 | tr -d '\r' > "$tmp/bare-$s-$q.txt"
    grep -E '^bench-llm|run.sh: timeout' "$tmp/bare-$s-$q.txt"
    cat "$tmp/bare-$s-$q.txt" >> "$tmp/all.txt"
    rm -f "$tmp/$s.img"
  done
done

grep -E '^\{"record":"(llm_bench|first_token)"' "$tmp/all.txt" > "$out"
echo "llm benchmark: $(wc -l < "$out") records in $out"
"$PY" - "$out" <<'EOF'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["record"] != "llm_bench":
        continue
    shape = "%.0fM" % (r["params"] / 1e6)
    key = r["mode"] if r.get("threads", 1) == 1 else "jitN"
    rows.setdefault((shape, r.get("weights", "f32"), r["where"]), {})[key] = r
print("%-6s %-7s %-10s %9s %9s %7s %9s %9s %7s %8s %8s | %4s %9s %6s %9s %6s %8s" % ("model", "weights", "where",
      "tg AOT", "tg JIT", "JIT/AOT", "pp AOT", "pp JIT", "JIT/AOT", "% bw JIT", "% pk JIT", "N", "tg JITxN", "xN/x1",
      "pp JITxN", "xN/x1", "% bw xN"))
for (shape, weights, where), m in rows.items():
    a, j, n = m.get("aot"), m.get("jit"), m.get("jitN")
    def f(r, k): return "%.1f" % r[k] if r else "-"
    def q(x, y, k): return "%.2fx" % (y[k] / x[k]) if x and y and x[k] else "-"
    print("%-6s %-7s %-10s %9s %9s %7s %9s %9s %7s %8s %8s | %4s %9s %6s %9s %6s %8s" % (shape, weights, where,
          f(a, "tg_tok_s"), f(j, "tg_tok_s"), q(a, j, "tg_tok_s"), f(a, "pp_tok_s"), f(j, "pp_tok_s"),
          q(a, j, "pp_tok_s"), f(j, "pct_bandwidth"), f(j, "pp_pct_peak") if j and "pp_pct_peak" in j else "-",
          n["threads"] if n else "-", f(n, "tg_tok_s"),
          q(j, n, "tg_tok_s"), f(n, "pp_tok_s"), q(j, n, "pp_tok_s"), f(n, "pct_bandwidth")))
print("(tokens/s, mean over the repetitions; % bw = weight bytes per token x tg / the read bandwidth "
      "probed before each repetition on as many cores (median); % pk = pp x multiply-adds per token / the int8 dot "
      "(quantized) or fp32 FMA peak measured in the same run; N = every core the pool uses, JIT)")
EOF
