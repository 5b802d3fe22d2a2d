// What the program does when the kernel command line names no command (boot_flow.cpp).
#pragma once
#include <stdint.h>

namespace bf::app {

// /BAREFLOW.CFG (+ the command line's key=value words) decides: generate, repl or bench.
int run_default_flow(uint64_t us_at_main);

}  // namespace bf::app
