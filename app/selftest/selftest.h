#pragma once
#include "jit/jit.h"
namespace bf::app {
int run_selftest();          // 0 when every check passed
int run_alloc_exhaustion();
int run_fault();
int run_write_text();         // a write into the program's code: bare metal panics (W^X)
int run_stdin_echo();
int run_fs_selftest();
int run_fs_stress();
int run_jit_selftest();       // every kernel JIT-compiled, swapped, checked against the reference
int run_bench_kernels();       // AOT vs JIT kernels on model shapes, machine limits (benchmark)
bf::jit::Options jit_options_from_env();
bool start_jit(const bf::jit::Options &o);  // init + the target line; false if unavailable          // endless atomic rewrites, for the power-cut soak        // files through bf::vfs (FAT16 on the disk, or on an image hosted)        // echoes stdin lines with their lengths until end of file             // a null-pointer write: bare metal panics with a backtrace  // bare metal: allocate until malloc says no, then recover
}
