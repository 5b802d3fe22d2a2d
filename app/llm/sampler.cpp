// run.c's sampler, operation for operation (so a seed gives run.c's token sequence).
#include "sampler.h"
#include "jit/kernels/kernels.h"

#include <math.h>

#include <cmath>

#include <string.h>

#include <algorithm>
#include <utility>

namespace bf::llm {
namespace {

// run.c's softmax: the reference loop, not the optimized kernel, so sampling stays bit-identical
// to run.c whatever the optimized kernels do.
void softmax(float *x, int n) { kern::ref::softmax(x, n); }

}  // namespace

uint32_t random_u32(uint64_t &state) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return uint32_t((state * 0x2545F4914F6CDD1Dull) >> 32);
}

float random_f32(uint64_t &state) { return float(random_u32(state) >> 8) / 16777216.0f; }

int sample_argmax(const float *probabilities, int n) {
    int max_i = 0;
    float max_p = probabilities[0];
    for (int i = 1; i < n; i++) {
        if (probabilities[i] > max_p) {
            max_i = i;
            max_p = probabilities[i];
        }
    }
    return max_i;
}

int sample_mult(const float *probabilities, int n, float coin) {
    float cdf = 0.0f;
    for (int i = 0; i < n; i++) {
        cdf += probabilities[i];
        if (coin < cdf) return i;
    }
    return n - 1;  // rounding
}

namespace {

// Descending by probability, ties in index order: a total order, so any correct sort leaves the
// same sequence. Below kRadixMin candidates std::sort; above, a stable LSD radix sort on the
// probability's bits (positive floats order as their bits; ~bits for descending), 4 passes of 8
// bits from candidates that arrive in index order, so ties stay in index order. A flat
// distribution (a synthetic model's, or a high temperature) keeps most of a 32000-token
// vocabulary above the cutoff, and comparison-sorting that dominated a token's time.
constexpr int kRadixMin = 1024;

void sort_candidates(ProbIndex *a, ProbIndex *tmp, int n) {
    if (n < kRadixMin) {
        std::sort(a, a + n, [](const ProbIndex &x, const ProbIndex &y) {
            return x.prob > y.prob || (x.prob == y.prob && x.index < y.index);
        });
        return;
    }
    auto key = [](const ProbIndex &p, int shift) {
        uint32_t bits;
        memcpy(&bits, &p.prob, 4);
        return (~bits >> shift) & 0xFFu;
    };
    ProbIndex *src = a, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        int start[257] = {};
        for (int i = 0; i < n; i++) start[key(src[i], shift) + 1]++;
        for (int b = 0; b < 256; b++) start[b + 1] += start[b];
        for (int i = 0; i < n; i++) dst[start[key(src[i], shift)]++] = src[i];
        std::swap(src, dst);
    }  // an even number of passes: the result is back in a
}

}  // namespace

int sample_topp(const float *probabilities, int n, float topp, ProbIndex *probindex, float coin) {
    // Tokens below (1 - topp) / (n - 1) cannot be in the nucleus: drop them before sorting.
    int n0 = 0;
    const float cutoff = (1.0f - topp) / float(n - 1);
    for (int i = 0; i < n; i++) {
        if (probabilities[i] >= cutoff) {
            probindex[n0].index = i;
            probindex[n0].prob = probabilities[i];
            n0++;
        }
    }
    if (n0 == 0) return sample_mult(probabilities, n, coin);  // only with NaNs; run.c: UB
    // Descending by probability, ties in index order (run.c's qsort leaves ties unspecified).
    sort_candidates(probindex, probindex + n, n0);
    float cumulative_prob = 0.0f;
    int last_idx = n0 - 1;
    for (int i = 0; i < n0; i++) {
        cumulative_prob += probindex[i].prob;
        if (cumulative_prob > topp) {
            last_idx = i;
            break;
        }
    }
    const float r = coin * cumulative_prob;
    float cdf = 0.0f;
    for (int i = 0; i <= last_idx; i++) {
        cdf += probindex[i].prob;
        if (r < cdf) return probindex[i].index;
    }
    return probindex[last_idx].index;  // rounding
}

Sampler::Sampler(int vocab, float temp, float top_p, uint64_t rng_seed)
    : vocab_size(vocab), temperature(temp), topp(top_p), rng_state(rng_seed),
      probindex(2 * size_t(vocab > 0 ? vocab : 0)) {}

int Sampler::sample(float *logits) {
    if (vocab_size <= 0) return 0;
    if (temperature == 0.0f) return sample_argmax(logits, vocab_size);
    // A temperature so small that a logit / temperature overflows (e.g. -t 1e-45) would make the
    // softmax NaN and the draw meaningless; its limit t -> 0 is the argmax, so it is that. No
    // effect on any temperature whose division stays finite (run.c's numbers are unchanged).
    float max_abs = 0.0f;
    for (int q = 0; q < vocab_size; q++) max_abs = std::max(max_abs, std::fabs(logits[q]));
    if (!std::isfinite(max_abs / temperature)) return sample_argmax(logits, vocab_size);
    for (int q = 0; q < vocab_size; q++) logits[q] /= temperature;
    softmax(logits, vocab_size);
    const float coin = random_f32(rng_state);
    if (topp <= 0 || topp >= 1) return sample_mult(logits, vocab_size, coin);
    return sample_topp(logits, vocab_size, topp, probindex.data(), coin);
}

}  // namespace bf::llm
