// The JIT: LLVM ORC (LLJIT) inside the unikernel. Kernels are compiled from the bitcode of the
// same C++ sources that are built AOT (embedded in the ELF), specialized for their shapes, at -O3
// for the CPU found at boot, and cached as object files on the FAT16 partition (/JIT).
#pragma once
#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

namespace bf::jit {

struct Options {
    bool enabled = true;           // false: everything stays on its AOT version
    bool use_cache = true;         // read/write compiled objects under /JIT
    bool clear_cache = false;      // delete /JIT/* at start
    uint64_t hot_calls = 64;       // a (kernel, shape) this hot gets compiled...
    uint64_t hot_cycles = 50000000;  // ...or one that spent this many cycles
};

bool init(const Options &opt, std::string &err);
bool ready();
const Options &options();
const std::string &cpu_name();      // e.g. "znver4"
const std::string &cpu_features();  // LLVM feature string, e.g. "+avx2,+fma,..."
const char *bitcode_variant();      // which embedded kernel bitcode: "base", "avx2" or "avx512"

struct Compiled {
    void *fn = nullptr;
    double ms = 0;                  // wall time of compile (or cache load) and link
    bool from_cache = false;
    std::string key;                // cache key, hex
    std::string error;
};

// Compiles `symbol` (its mangled name in the kernel bitcode) with the given integer arguments
// bound to constants: binds = {(argument index, value), ...}. The result has the same signature.
// label ("matvec 96x80"), when given: a "jit: compiling LABEL for CPU ..." line on stderr before
// a compile that the cache cannot spare, the progress of work that takes seconds when emulated.
Compiled compile(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds,
                 const char *label = nullptr);

struct Stats {
    uint64_t compiled, cache_hits, cache_rejected;
    double compile_ms_total;
};
Stats stats();

}  // namespace bf::jit
