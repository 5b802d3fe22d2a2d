// The kernel dispatch table. Every tensor kernel call goes through bf::kern::dispatch::*: it finds
// the slot for (kernel, shape), calls the function pointer stored there (AOT at first), and times
// the call with the rdtsc profiler. A slot that gets hot is compiled by the JIT, specialized for
// its shape, and its pointer swapped (an aligned 8-byte atomic store; code is never patched and
// JIT code is never freed, so a call already running in the old code is unaffected).
#pragma once
#include <stdint.h>

#include <atomic>

#include "jit/kernels/kernels.h"
#include "bareflow/profile.h"

namespace bf::jit {

enum Kernel : int { kMatvec, kSgemm, kRmsnorm, kSoftmax, kRope, kAttention, kSwiglu, kAdd, kMul, kKernels };

struct Slot {
    int kernel, nshape;
    int64_t shape[4];
    std::atomic<void *> fn;
    prof::Region aot, jit;     // cycles of the calls made on each version
    uint8_t state;             // 0 AOT, 1 JIT, 2 JIT failed (stays AOT)
    bool compared, from_cache;
    double compile_ms;
    uint64_t compile_cycles;   // TSC cycles the compile (or cache load) took
    char name[48];             // "matvec 288x288"
};

Slot *slot(int kernel, const int64_t *shape, int nshape);  // found or created (fixed table)
void after_call(Slot *s, uint64_t cycles);                 // profile; tier up when hot
void report();             // the AOT-vs-JIT table and a jit_kernel record per slot
void reset_counters();     // zero the slots' profiles (keeps the compiled code)
void set_tiering(bool on); // off: hot slots stay on AOT (benchmarks measure AOT first)
int slot_count();
Slot *slot_at(int i);

template <typename Fn, typename... Args>
inline void call(int kernel, const int64_t *shape, int nshape, Args... args) {
    Slot *s = slot(kernel, shape, nshape);
    Fn fn = reinterpret_cast<Fn>(s->fn.load(std::memory_order_acquire));
    uint64_t t0 = prof::begin();
    fn(args...);
    after_call(s, prof::begin() - t0);
}

}  // namespace bf::jit

namespace bf::kern::dispatch {

inline void matvec(float *out, const float *x, const float *w, int n, int d) {
    int64_t sh[2] = {n, d};
    jit::call<void (*)(float *, const float *, const float *, int, int)>(jit::kMatvec, sh, 2, out, x, w, n, d);
}
// Specialized on n, k and trans_b, not on m: in a transformer m is the number of positions in a
// batch (the prompt's length), which varies, while n x k is a weight matrix's shape.
inline void sgemm(float *c, const float *a, const float *b, int m, int n, int k, bool trans_b) {
    int64_t sh[3] = {n, k, trans_b};
    jit::call<void (*)(float *, const float *, const float *, int, int, int, bool)>(jit::kSgemm, sh, 3, c, a, b, m, n, k, trans_b);
}
inline void rmsnorm(float *o, const float *x, const float *w, int n) {
    int64_t sh[1] = {n};
    jit::call<void (*)(float *, const float *, const float *, int)>(jit::kRmsnorm, sh, 1, o, x, w, n);
}
inline void softmax(float *x, int n) {  // n changes every position: one generic slot
    jit::call<void (*)(float *, int)>(jit::kSoftmax, nullptr, 0, x, n);
}
inline void rope(float *q, float *k, int pos, int dim, int kv_dim, int head_size) {
    int64_t sh[3] = {dim, kv_dim, head_size};
    jit::call<void (*)(float *, float *, int, int, int, int)>(jit::kRope, sh, 3, q, k, pos, dim, kv_dim, head_size);
}
inline void attention(float *out, float *att, const float *q, const float *kc, const float *vc, int pos,
                      int n_heads, int n_kv_heads, int head_size) {
    int64_t sh[3] = {n_heads, n_kv_heads, head_size};
    jit::call<void (*)(float *, float *, const float *, const float *, const float *, int, int, int, int)>(
        jit::kAttention, sh, 3, out, att, q, kc, vc, pos, n_heads, n_kv_heads, head_size);
}
inline void swiglu(float *h, const float *g, int n) {
    int64_t sh[1] = {n};
    jit::call<void (*)(float *, const float *, int)>(jit::kSwiglu, sh, 1, h, g, n);
}
inline void add(float *x, const float *y, int n) {
    int64_t sh[1] = {n};
    jit::call<void (*)(float *, const float *, int)>(jit::kAdd, sh, 1, x, y, n);
}
inline void mul(float *x, const float *y, int n) {
    int64_t sh[1] = {n};
    jit::call<void (*)(float *, const float *, int)>(jit::kMul, sh, 1, x, y, n);
}

}  // namespace bf::kern::dispatch
