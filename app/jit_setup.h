// Starting the JIT the way BAREFLOW.CFG and the command line (environment) say: the one place
// that turns the settings into bf::jit::Options, for every command.
#pragma once
#include "config.h"
#include "jit/jit.h"

namespace bf::app {

// The settings' jit, jit_cache, jit_hot_calls and jit_hot_cycles; unset ones keep the JIT's defaults.
bf::jit::Options jit_options_from_config(const Settings &s);

// bf::jit::init, then the "jit: target CPU ..." line and its JSON record (or why the JIT is off).
// False if the JIT is unavailable: kernels then stay on their AOT versions.
bool start_jit(const bf::jit::Options &o);

}  // namespace bf::app
