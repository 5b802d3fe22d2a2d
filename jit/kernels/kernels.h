// The tensor kernels a transformer spends its time in, declared from the registry (kernels.def,
// which says what each computes). Written once in C++ and compiled twice: AOT for baseline
// x86-64 (these declarations) and, as embedded LLVM bitcode, recompiled by the JIT for the CPU
// found at boot. Callers go through the dispatch table (jit/dispatch.h) so that JIT code can be
// swapped in; the ref:: twins (kernels_ref.cpp) are the plain loops the tests compare against.
#pragma once
#include <stddef.h>

namespace bf::kern {

// The fast kernels. The asm label gives each a plain symbol, "bf_kern_<name>", so the JIT finds
// it in the bitcode by a name derived from the registry rather than a hand-written mangled one.
#define BF_KERNEL(name, params, shape) void name params asm("bf_kern_" #name);
#include "kernels.def"

namespace ref {
#define BF_KERNEL(name, params, shape) void name params;
#include "kernels.def"
}  // namespace ref

}  // namespace bf::kern
