// The benchmarks: each prints numbers (text lines and JSON records) and asserts nothing; each
// returns its exit status.
#pragma once
#include <stdint.h>

#include "config.h"
#include "llm/loader.h"

namespace bf::app {

// A syscall round trip, a profiled region, and (bare metal) power-on to main().
// us_at_main: bf::us_since_power_on() at main().
int run_bench_runtime(uint64_t us_at_main);

// The read rate of `path` through the file system.
int run_bench_read(const char *path);

// AOT vs JIT kernels on model shapes, next to the machine's limits. JIT options from `settings`;
// no JIT cache unless jit_cache is set, so compile times are real compiles.
int run_bench_kernels(const Settings &settings);

// bench-llm: loads settings.model (no tokenizer needed) and runs the benchmark below on it.
int run_bench_llm(const Settings &settings, uint64_t us_at_main);

// llama-bench-style pp/tg tokens/s of a loaded model, AOT then JIT. us_at_main 0 (the REPL):
// no power-on-to-first-token line.
int run_bench_llm(const bf::llm::LoadedModel &m, uint64_t us_at_main);

}  // namespace bf::app
