#pragma once
#include <stdint.h>

#include "config.h"
#include "jit/jit.h"

namespace bf::app {
bf::jit::Options jit_options_from_config(const Settings &c);
int run_default_flow(uint64_t us_at_main);  // no command: what /BAREFLOW.CFG (+ cmdline) says
int run_bench_llm(const Settings &c, uint64_t us_at_main);  // llama-bench-style pp/tg numbers
}  // namespace bf::app
