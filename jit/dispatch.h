// The kernel dispatch table. Every tensor kernel call goes through bf::kern::dispatch::*: it finds
// the slot for (kernel, shape), calls the function pointer stored there (AOT at first), and times
// the call with the rdtsc profiler. A slot that gets hot is compiled by the JIT, specialized for
// its shape, and its pointer swapped (an aligned 8-byte atomic store; code is never patched and
// JIT code is never freed, so a call already running in the old code is unaffected).
//
// Everything kernel-specific here is derived from the registry, jit/kernels/kernels.def.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <array>
#include <atomic>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "bareflow/profile.h"
#include "jit/kernels/kernels.h"
#include "jit/tune.h"

namespace bf::jit {

// One enumerator per registry row: k_matvec, k_sgemm, ...; kKernels counts them.
enum Kernel : int {
#define BF_KERNEL(name, params, shape) k_##name,
#include "jit/kernels/kernels.def"
    kKernels
};

constexpr int kMaxShape = 4;  // shape parameters per kernel

// A slot's life: AOT until hot; Compiling while its candidates compile on a spare core (the
// calls run AOT meanwhile; jit.h compile_start); then JIT (swapped in, after a trial if jit_tune
// asks for one), or Trial (the candidates take turns on live calls, tune.h), or Kept (AOT: no
// compiled code was faster), or Failed (the compile failed: AOT).
enum SlotState : uint8_t { kAot, kJit, kFailed, kTrial, kKept, kCompiling };

struct Pending;  // jit.h

struct Slot {
    int kernel, nshape;
    int64_t shape[kMaxShape];
    std::atomic<void *> fn;
    prof::Region aot, jit;     // cycles of the calls made on each version
    uint8_t state;             // SlotState
    bool compared, from_cache;
    bool decided_before;       // the decision was read from /JIT (an earlier boot's trial)
    double compile_ms;         // every compile (or cache load) for this slot
    uint64_t compile_cycles;   // TSC cycles they took
    char name[48];             // "matvec 288x288"
    char variant[16];          // what runs now: "aot", or a variant's name ("avx2", ...)
    tune::Decision decision;   // the trial's outcome (n = 0: no trial)
    tune::Trial *trial;        // while in kTrial
    void *candidate[tune::kMaxCandidates];  // the trial's code: [0] AOT
    // While kCompiling: the compiles of the default recipe [0] and the variants, in that order.
    int ncompiles;
    Pending *pending[tune::kMaxCandidates];  // nullptr once collected
    const void *compiling[tune::kMaxCandidates];  // each one's Variant
    void *compiled[tune::kMaxCandidates];   // each one's code once collected (nullptr: failed)
    float charged[tune::kMaxCandidates];    // search budget ms counted while it is queued
    bool variants_started;                  // the variants' compiles were started (or none applied)
};

Slot *slot(int kernel, const int64_t *shape, int nshape);  // found or created (fixed table)
// A call to `fn` (what the slot held when the call was bound) took `cycles`: profile it; tier up
// when hot; in a trial, count it for its candidate and move the slot to the next one.
void after_call(Slot *s, void *fn, uint64_t cycles);
int trials_running();  // slots still compiling or in a trial (benchmarks warm up until there are none)
// Waits until no slot is compiling: each gets its compiled code (swapped in, or its trial begun).
// For tests that check the code a spare core compiled; the calling thread spins meanwhile.
void wait_compiles();
// A slot's JIT-vs-AOT speed, as the report shows it: the trial's (AOT and JIT on alternating
// calls; kept on AOT: the fastest compiled candidate's), else the mean AOT call over the mean JIT
// call; 0 when there is nothing to compare.
double speedup(const Slot &s);
// "aot 12034, avx2 8011 (1.50x), base 9100 (1.32x)": a trial's medians in cycles per call, and
// each one's speed against AOT.
std::string medians_text(const tune::Decision &d);
void report();             // the AOT-vs-JIT table and a jit_kernel record per slot
void reset_counters();     // zero the slots' profiles (keeps the compiled code)
void reset_slots();        // forget every slot: each starts again on AOT (jit-selftest, per variant)
void set_tiering(bool on); // off: hot slots stay on AOT (benchmarks measure AOT first)
// On: every slot, existing or new, calls the kernel's reference twin (ref::) and nothing tiers
// up (the tests compare whole generations, fast against reference kernels); off: back to AOT.
void use_reference_kernels(bool on);
int slot_count();
Slot *slot_at(int i);

// What the registry says about a kernel, for the JIT and the benchmarks.
const char *kernel_name(int kernel);    // "matvec"
const char *kernel_symbol(int kernel);  // "bf_kern_matvec": its name in the embedded bitcode
void *kernel_aot(int kernel);           // the AOT build's function
// The argument index of parameter `param` (e.g. "m" of sgemm), or -1 if it has none.
int arg_index(int kernel, std::string_view param);
// The JIT's constant bindings for a shape: {(argument index, value)} for each shape parameter.
std::vector<std::pair<int, int64_t>> shape_binds(int kernel, const int64_t *shape);

// A call resolved on the calling thread (its slot, the function the slot holds now) so that it
// can be made on another core: the pool's workers call `fn` directly and the caller profiles
// the calls afterwards (after_call), which keeps the slot table and tiering single-threaded.
template <typename... P> struct Bound {
    Slot *slot;
    void (*fn)(P...);
};

namespace registry {

// Parameter names read from the registry row's text at compile time, so that a shape parameter
// that is not a parameter fails to compile instead of failing as "JIT failed" at run time.
struct Names {
    std::array<std::string_view, 16> v{};
    int n = 0;
};

constexpr bool ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// "(float *out, const float *x, int n)" -> {out, x, n}: the last identifier of each
// comma-separated part; "()" -> {}.
constexpr Names names(std::string_view list) {
    Names r;
    list = list.substr(1, list.size() - 2);
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view part = list.substr(0, comma);
        size_t end = part.size();
        while (end > 0 && !ident_char(part[end - 1])) end--;
        size_t begin = end;
        while (begin > 0 && ident_char(part[begin - 1])) begin--;
        if (end > begin) r.v[size_t(r.n++)] = part.substr(begin, end - begin);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    return r;
}

void shape_parameter_not_found();  // not constexpr: calling it stops compilation

// The argument index of each shape parameter, in shape order.
struct ShapeArgs {
    std::array<int, kMaxShape> index{};
    int n = 0;
};
constexpr ShapeArgs shape_args(std::string_view params, std::string_view shape) {
    const Names p = names(params), s = names(shape);
    ShapeArgs r;
    if (s.n > kMaxShape) shape_parameter_not_found();
    for (int i = 0; i < s.n; i++) {
        int at = -1;
        for (int j = 0; j < p.n; j++)
            if (p.v[size_t(j)] == s.v[size_t(i)]) at = j;
        if (at < 0) shape_parameter_not_found();
        r.index[size_t(r.n++)] = at;
    }
    return r;
}

#define BF_KERNEL(name, params, shape) inline constexpr ShapeArgs name = shape_args(#params, #shape);
namespace shape_of {
#include "jit/kernels/kernels.def"
}  // namespace shape_of

// The dispatch wrapper of kernel K with AOT function F: keys the slot on the shape arguments,
// calls through the slot's pointer, profiles the call.
template <int K, auto F, const ShapeArgs &S> struct Wrapper;
template <int K, typename... P, void (*F)(P...), const ShapeArgs &S> struct Wrapper<K, F, S> {
    // The slot for these arguments' shape and the function it holds now.
    template <size_t... I> static Bound<P...> bind_at(std::index_sequence<I...>, P... args) {
        auto all = std::forward_as_tuple(args...);
        static_assert(((std::is_integral_v<std::tuple_element_t<size_t(S.index[I]), std::tuple<P...>>>) && ...),
                      "a shape parameter must be an integer");
        const int64_t shape[S.n + 1] = {int64_t(std::get<size_t(S.index[I])>(all))..., 0};
        Slot *s = slot(K, shape, S.n);
        return {s, reinterpret_cast<void (*)(P...)>(s->fn.load(std::memory_order_acquire))};
    }
    static void call(P... args) {
        const Bound<P...> b = bind(args...);
        uint64_t t0 = prof::begin();
        b.fn(args...);
        after_call(b.slot, reinterpret_cast<void *>(b.fn), prof::begin() - t0);
    }
    static Bound<P...> bind(P... args) { return bind_at(std::make_index_sequence<size_t(S.n)>(), args...); }
};

}  // namespace registry

}  // namespace bf::jit

// The wrappers callers use: bf::kern::dispatch::matvec(out, x, w, n, d), same signature as the
// kernel.
namespace bf::kern::dispatch {
#define BF_KERNEL(name, params, shape) \
    inline constexpr auto &name = jit::registry::Wrapper<jit::k_##name, &kern::name, jit::registry::shape_of::name>::call;
#include "jit/kernels/kernels.def"
}  // namespace bf::kern::dispatch

// bf::kern::bind::matvec(out, x, w, n, d): that call resolved, to be made on any core (Bound).
namespace bf::kern::bind {
#define BF_KERNEL(name, params, shape) \
    inline constexpr auto &name = jit::registry::Wrapper<jit::k_##name, &kern::name, jit::registry::shape_of::name>::bind;
#include "jit/kernels/kernels.def"
}  // namespace bf::kern::bind
