// The JIT: LLVM ORC (LLJIT) inside the unikernel. Kernels are compiled from the bitcode of the
// same C++ sources that are built AOT (embedded in the ELF), specialized for their shapes, at -O3
// for the CPU found at boot, and cached as object files on the FAT16 partition (/JIT).
#pragma once
#include <stdint.h>

#include "tune.h"

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
    // What happens to a hot slot (tune.h): Search compiles the default recipe and the variants,
    // Keep only the default recipe; both then run a trial against AOT on live calls and keep the
    // fastest, stored under /JIT for the next boot. Off swaps in the default recipe untested.
    enum class Tune : uint8_t { Search, Keep, Off } tune = Tune::Search;
    // Unset (jit_tune not given) and no object cache (hosted without an image): Keep. A search
    // nothing remembers would be paid again on every run.
    bool tune_set = false;
    uint64_t search_ms = 10000;      // wall time per boot for compiling variants beyond the default
    std::string variant;             // a variant's name: every hot slot gets it, no trial ("": default)
    // Where compiles run: on a spare core while the calls keep running AOT code (background.h;
    // hosted, when the pool leaves a core free), or on the calling core.
    enum class Compile : uint8_t { Background, Inline } compile = Compile::Background;
};

// One way to compile a kernel. variants()[0] is the default recipe (the bitcode whose tiles fit
// the CPU's vectors, its preferred vector width, the kernels' own prefetch distance); the others
// change one thing each, the trial measures which is fastest on this CPU.
struct Variant {
    char name[16];          // "avx2", "avx2/v128", "base", "avx2/pf1k", ...
    const char *bitcode;    // "base", "avx2", "avx512" or "avx512vnni"
    int vector_bits;        // the "prefer-vector-width" given to LLVM; 0: the CPU's own
    int64_t prefetch;       // bf_tune_prefetch_ahead (jit/kernels/qmatvec_detail.h); 0: the default
};
const std::vector<Variant> &variants();  // empty when the JIT is not running
const Variant *find_variant(const char *name);  // nullptr if this CPU offers none of that name
bool force_variant(const char *name);  // Options::variant from now on (jit-selftest jit_variant=all)
// Whether a variant changes anything for this kernel (a prefetch distance only matters to a
// kernel that prefetches).
bool variant_applies(const Variant &v, const char *symbol);
// "AuthenticAMD family 25 model 1 stepping 1": part of every cache key, so a disk moved to
// another PC recompiles instead of loading code chosen (or built) for another CPU.
const std::string &cpu_identity();

bool init(const Options &opt, std::string &err);
bool ready();
const Options &options();
const std::string &cpu_name();      // e.g. "znver4"
const std::string &cpu_features();  // LLVM feature string, e.g. "+avx2,+fma,..."
const char *bitcode_variant();      // which embedded kernel bitcode: "base", "avx2", "avx512", "avx512vnni"

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
// v: the recipe (nullptr: the default, variants()[0]).
Compiled compile(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds,
                 const char *label = nullptr, const Variant *v = nullptr);

// compile() off the calling thread (Options::compile, background.h): compile_start queues the
// compile on the spare core and returns at once; compile_poll(p, out) is false while it runs,
// then true with the result as compile() gives it (the object stored in /JIT and linked on the
// calling thread, the one that does file I/O) and p freed. A cached object, or no spare core: the
// work is done in compile_start (the "compiling" line says which), and the first poll is true.
struct Pending;
// urgent: ahead of the queued non-urgent ones (a slot's first compile before other slots' variants).
Pending *compile_start(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds, const char *label,
                       const Variant *v, bool urgent);
bool compile_poll(Pending *p, Compiled &out);

// The /JIT record of a slot's trial (tune.h), keyed on the kernel, its bound values, the CPU, the
// bitcode and the variants offered. load: false if there is none (or it was bad: reported,
// deleted, the slot runs its trial again).
std::string decision_key(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds);
bool load_decision(const std::string &key, tune::Decision &d);
void store_decision(const std::string &key, const tune::Decision &d);

struct Stats {
    uint64_t compiled, cache_hits, cache_rejected, decisions_loaded, decisions_rejected;
    double compile_ms_total;
};
Stats stats();

}  // namespace bf::jit
