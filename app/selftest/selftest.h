// The self-tests: each is a command (main.cpp's table) and returns its exit status, 0 when every
// check passed. The crash tests (fault, write-text) do not return on bare metal: they panic.
#pragma once
#include "config.h"

namespace bf::app {

// The C/C++ runtime as ordinary programs use it; deterministic lines (bare metal = hosted).
int run_selftest();

// Bare metal: allocates until malloc says no, then checks that freeing recovers the memory.
int run_alloc_exhaustion();

// A null-pointer write: bare metal panics with a backtrace.
int run_fault();

// A write into the program's code: bare metal panics (W^X).
int run_write_text();

// Echoes stdin lines with their lengths until end of file.
int run_stdin_echo();

// Files through bf::vfs (FAT16 on the disk, or on an image hosted): write, read back, rename,
// unlink, list.
int run_fs_selftest();

// Endless atomic rewrites, for the power-cut soak.
int run_fs_stress();

// Every kernel JIT-compiled, swapped and checked against the reference; JIT options from
// `settings` (hot after 8 calls unless jit_hot_calls is set).
int run_jit_selftest(const Settings &settings);

}  // namespace bf::app
