// What the program does when the kernel command line names no command (boot_flow.cpp).
#pragma once
#include <stdint.h>

#include "config.h"
#include "llm/loader.h"

namespace bf::app {

// The settings' part that decides how a model is loaded: default tokenizer, ctx, kv.
bf::llm::LoadOptions load_options(const Settings &s);

// /BAREFLOW.CFG (+ the command line's key=value words) decides: generate, repl or bench.
int run_default_flow(uint64_t us_at_main);

}  // namespace bf::app
