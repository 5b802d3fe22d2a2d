// Keeping the faster code. When a slot gets hot, the JIT compiles its kernel (the default recipe
// and, searching, a few variants: jit.h Variant) and the slot runs a trial on live calls: the
// candidates (AOT first) take turns, call after call, so each sees the same inputs (positions,
// layers) and the same machine state; the first calls of each after the swap are not counted
// (cold caches). The medians decide once, with a margin, and the decision is final: it is stored
// under /JIT and the next boot on the same CPU applies it without compiling or measuring again.
//
// Pure: no clock, no files, no LLVM. The unit tests drive it with made-up timings, the fuzzer
// feeds parse() made-up bytes.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <vector>

namespace bf::jit::tune {

constexpr int kMaxCandidates = 8;  // AOT + up to 7 compiled variants
constexpr int kWarmCalls = 2;      // calls of each candidate not counted: cold caches after the swap
constexpr int kSamples = 24;       // counted calls per candidate
// A candidate replaces the incumbent (AOT over every JIT variant, the default recipe over the
// other variants) only if its median is this much lower, so that noise rarely makes a slot change
// its code for nothing. Simulated with one-sided noise (+0..10% per call, 5% of calls 5x slower),
// equal candidates: 16 samples at 3% switch in 3-6% of trials, 24 at 4% in 0.1%; a 10% faster
// candidate still always wins, a 7% faster one in 99% (tests/unit/jit/tune_test.cpp).
constexpr double kMargin = 0.04;

struct Candidate {
    char name[16];        // "aot", or a variant's name ("avx2", "avx2/v128", "base", ...)
    uint64_t median;      // cycles per call, median of the counted calls
    uint32_t samples;     // counted calls
};

// A finished trial: what was tried and which won. Stored under /JIT (encode/parse).
struct Decision {
    int n = 0;            // candidates, [0] is always "aot"
    int winner = 0;       // index into c
    Candidate c[kMaxCandidates] = {};
    double speedup() const { return speedup_of(winner); }  // AOT median / winner median
    double speedup_of(int i) const { return c[i].median ? double(c[0].median) / double(c[i].median) : 0; }
    double best_jit_speedup() const {  // the fastest compiled candidate's (AOT kept: below 1 + kMargin)
        double b = 0;
        for (int i = 1; i < n; i++) b = speedup_of(i) > b ? speedup_of(i) : b;
        return b;
    }
};

// The choice from the medians (index 0 = AOT, 1 = the default recipe, 2.. = variants): the
// fastest variant if it beats the default recipe by kMargin (else the default recipe), and that
// only if it beats AOT by kMargin (else AOT).
int decide(const uint64_t *median, int n);

class Trial {
  public:
    void begin(int n);                  // n candidates (2..kMaxCandidates), the rotation at 1
    int current() const { return cur_; }  // the candidate the next call should use
    // One call by candidate c took `cycles`. A call by the current candidate moves the rotation
    // on (several samples of one call, such as one per chunk of a split matmul, move it once).
    void add(int c, uint64_t cycles);
    bool done() const { return done_; }
    const Decision &decision() const { return d_; }  // valid once done(); names left empty

  private:
    int n_ = 0, cur_ = 0;
    bool done_ = false;
    uint32_t seen_[kMaxCandidates] = {};
    uint64_t samples_[kMaxCandidates][kSamples] = {};
    Decision d_;
    void finish();
};

// The stored form of a Decision: a 32-byte header (magic "BFJITWIN", version, CRC-32 of the
// payload, the key, the payload size) and the payload (n, winner, the candidates).
std::vector<uint8_t> encode(uint64_t key, const Decision &d);
// nullptr and `out` filled if the bytes are a valid record for `key`; else why not (a fixed
// phrase, also a record's reason).
const char *parse(const uint8_t *p, size_t size, uint64_t key, Decision &out);

}  // namespace bf::jit::tune
