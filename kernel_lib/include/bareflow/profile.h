// The rdtsc profiler: named regions with calls, total, min and max cycles. The hot path is inline
// (two serialized TSC reads and a few adds); reports go out as a human table and JSON records.
//
//   void matmul(...) { BF_PROFILE("matmul"); ... }          // a scope
//   auto *r = bf::prof::region("attn"); auto t = bf::prof::begin(); ...; bf::prof::end(r, t);
#pragma once
#include <stdint.h>

namespace bf::prof {

struct Region {
    const char *name;
    uint64_t calls, total, min, max;  // cycles
};

// lfence orders the read after earlier instructions: the region's own work is not reordered
// across its boundaries.
inline uint64_t begin() {
    uint32_t lo, hi;
    asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
    return (uint64_t(hi) << 32) | lo;
}
inline void end(Region *r, uint64_t t0) {
    uint64_t d = begin() - t0;
    r->calls++;
    r->total += d;
    if (d < r->min) r->min = d;
    if (d > r->max) r->max = d;
}

Region *region(const char *name);  // the region of that name, created on first use (max 256)
void reset();                      // zero every region's counters
int count();
Region *at(int i);

// Cycles one empty begin/end pair costs, measured (median of 1001 runs) on first call.
uint64_t overhead_cycles();

// The table ("profile:" lines) and one {"record":"profile",...} per region, plus the overhead.
// Writes through the console: flush stdio first if it holds output.
void report(const char *title);

class Scope {
  public:
    explicit Scope(Region *r) : r_(r), t0_(begin()) {}
    ~Scope() { end(r_, t0_); }
    Scope(const Scope &) = delete;
    Scope &operator=(const Scope &) = delete;

  private:
    Region *r_;
    uint64_t t0_;
};

}  // namespace bf::prof

#define BF_PROFILE_CAT2(a, b) a##b
#define BF_PROFILE_CAT(a, b) BF_PROFILE_CAT2(a, b)
#define BF_PROFILE(name)                                                                   \
    static ::bf::prof::Region *BF_PROFILE_CAT(bf_prof_region_, __LINE__) =                 \
        ::bf::prof::region(name);                                                          \
    ::bf::prof::Scope BF_PROFILE_CAT(bf_prof_scope_, __LINE__)(BF_PROFILE_CAT(bf_prof_region_, __LINE__))
